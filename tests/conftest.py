"""Fixtures shared by every test: a clean environment, a manual clock, running twins."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import structlog

from afterhours.clock import ManualClock
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin

# Validates every twin exchange against the vendors' specs and prints the contract report.
pytest_plugins = ["contract.plugin"]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings come from the environment: a developer's own AFTERHOURS_* (or zenpy's process-wide
    # overrides) must never leak into a test.
    for name in list(os.environ):
        if name.startswith(("AFTERHOURS_", "ZENPY_FORCE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    # The CLI configures structlog for the whole process; the next test starts from defaults.
    yield
    structlog.reset_defaults()


@pytest.fixture
def clock() -> ManualClock:
    """Friday 20 November 2026, 18:00 UTC: after hours in London."""
    return ManualClock(datetime(2026, 11, 20, 18, 0, tzinfo=UTC))


@pytest.fixture
def zendesk(clock: ManualClock) -> Iterator[ZendeskTwin]:
    """A running Zendesk twin on the test clock."""
    twin = ZendeskTwin(clock)
    twin.start()
    yield twin
    twin.stop()


@pytest.fixture
def jira(clock: ManualClock) -> Iterator[JiraTwin]:
    """A running Jira twin on the test clock, with project ENG."""
    twin = JiraTwin(clock)
    twin.add_project("ENG", "Engineering")
    twin.start()
    yield twin
    twin.stop()


@pytest.fixture
def chat() -> Iterator[ChatTwin]:
    """A running chat-webhook twin."""
    twin = ChatTwin()
    twin.start()
    yield twin
    twin.stop()


@pytest.fixture
def request_threads_finish() -> Callable[[], None]:
    """Waits for the twins' request threads this test started, so their stderr is complete."""
    before = set(threading.enumerate())

    def wait() -> None:
        deadline = time.monotonic() + 2
        for thread in set(threading.enumerate()) - before:
            if thread.name.endswith("(process_request_thread)"):
                thread.join(max(0.0, deadline - time.monotonic()))

    return wait
