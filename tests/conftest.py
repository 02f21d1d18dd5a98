"""Fixtures shared by every test: a clean environment, a manual clock, running twins, PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog

import pg
from afterhours import redact
from afterhours.adapters.state import StateStore
from afterhours.clock import ManualClock
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.pagerduty import PagerDutyTwin
from afterhours.twins.slack_api import SlackApiTwin
from afterhours.twins.smtp import SmtpTwin
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
    # The CLI configures structlog for the whole process; the next test starts from defaults,
    # and knows no secret another test's settings registered (see afterhours.redact).
    yield
    structlog.reset_defaults()
    redact.forget_all()


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
def data_center(clock: ManualClock) -> Iterator[JiraTwin]:
    """A running Jira Data Center twin (REST v2, users by key) on the test clock, with ENG."""
    with JiraTwin(clock, deployment_type="Server") as twin:
        twin.add_project("ENG", "Engineering")
        yield twin


@pytest.fixture
def chat() -> Iterator[ChatTwin]:
    """A running chat-webhook twin."""
    twin = ChatTwin()
    twin.start()
    yield twin
    twin.stop()


@pytest.fixture
def pagerduty(clock: ManualClock) -> Iterator[PagerDutyTwin]:
    """A running PagerDuty twin (Events API v2) on the test clock."""
    twin = PagerDutyTwin(clock)
    twin.start()
    yield twin
    twin.stop()


@pytest.fixture
def slack_api(clock: ManualClock) -> Iterator[SlackApiTwin]:
    """A running twin of Slack's Web API for one bot, on the test clock."""
    with SlackApiTwin(clock) as twin:
        yield twin


@pytest.fixture
def smtp() -> Iterator[SmtpTwin]:
    """A running SMTP twin (aiosmtpd, STARTTLS and AUTH required)."""
    with SmtpTwin() as twin:
        yield twin


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server's URL (tests/pg.py says where it comes from); without one the test
    skips, saying why, except in CI or when AFTERHOURS_TEST_POSTGRES_URL is set: it fails."""
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(pg.server())
        except pg.PostgresUnavailableError as error:
            if pg.IN_CI or pg.GIVEN_URL:
                pytest.fail(f"PostgreSQL tests must run here: {error}")
            pytest.skip(f"PostgreSQL tests skipped here (CI runs them): {error}")
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test alone: its URL."""
    with pg.fresh_database(postgres_server) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty state database, once on SQLite and once on PostgreSQL: the same test, both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def state(state_url: str) -> Iterator[StateStore]:
    """The state store on an empty database, once on SQLite and once on PostgreSQL."""
    opened = StateStore(state_url)
    yield opened
    opened.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs PostgreSQL is marked `postgres`, so `-m "not postgres"` works."""
    for item in items:
        if "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


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
