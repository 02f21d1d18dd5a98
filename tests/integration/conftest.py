"""Fixtures of the integration tests that drive the Zendesk twin with zenpy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from zenpy import Zenpy

from afterhours.twins.zendesk import ZendeskTwin


@pytest.fixture
def zc(twin: ZendeskTwin, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A zenpy client on the module's `twin` (plain HTTP on 127.0.0.1, no cache)."""
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", twin.base_url.removeprefix("http://"))
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    client = Zenpy(subdomain="acme", email="bot@example.com", token="x", disable_cache=True)
    yield client
    client.users.session.close()


@pytest.fixture
def zendesk_http(zendesk: ZendeskTwin) -> Iterator[httpx.Client]:
    """Plain httpx on the conftest's Zendesk twin, with credentials (as the bench baseline)."""
    with httpx.Client(base_url=zendesk.base_url, auth=("bot@example.com/token", "x")) as http:
        yield http
