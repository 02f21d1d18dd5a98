"""The settings that choose the state database and the lease."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from afterhours.redact import redact
from afterhours.settings import LocalSettings, Settings


def test_state_url_defaults_to_the_state_db_file() -> None:
    assert LocalSettings().state_url.get_secret_value() == "sqlite:///afterhours.sqlite3"
    absolute = LocalSettings(state_db=Path("/var/lib/afterhours/state.sqlite3"))
    assert absolute.state_url.get_secret_value() == "sqlite:////var/lib/afterhours/state.sqlite3"


def test_state_url_from_the_environment_is_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://ops:hunter2@db.internal:5432/afterhours"
    monkeypatch.setenv("AFTERHOURS_STATE_URL", url)
    settings = LocalSettings()
    assert settings.state_url.get_secret_value() == url
    assert "hunter2" not in repr(settings)


def test_a_state_url_of_another_scheme_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AFTERHOURS_STATE_URL", "mysql://ops:hunter2@db/afterhours")
    with pytest.raises(ValidationError) as caught:
        LocalSettings()
    message = str(caught.value)
    assert "unknown scheme 'mysql': AFTERHOURS_STATE_URL takes sqlite:///" in message
    assert "hunter2" not in message


def test_lease_seconds_default_to_30(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"ZENDESK_URL": "https://acme.zendesk.com", "ZENDESK_EMAIL": "bot@acme.com",
                        "ZENDESK_TOKEN": "t", "JIRA_URL": "https://acme.atlassian.net",
                        "JIRA_EMAIL": "bot@acme.com", "JIRA_TOKEN": "t"}.items():
        monkeypatch.setenv(f"AFTERHOURS_{name}", value)
    assert Settings().lease_seconds == 30.0
    monkeypatch.setenv("AFTERHOURS_LEASE_SECONDS", "12.5")
    assert Settings().lease_seconds == 12.5
    monkeypatch.setenv("AFTERHOURS_LEASE_SECONDS", "0")
    with pytest.raises(ValidationError, match="lease_seconds"):
        Settings()


def test_only_the_password_of_a_state_url_is_hidden_from_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AFTERHOURS_STATE_URL", "postgresql://ops:pg-pass-5e1d@db:5432/afterhours")
    LocalSettings()
    # Errors name the server and the database (adapters/sql_errors.py); never the password.
    assert redact("postgresql://ops:pg-pass-5e1d@db:5432/afterhours: cannot connect") == (
        "postgresql://ops:**********@db:5432/afterhours: cannot connect")
    monkeypatch.setenv("AFTERHOURS_STATE_URL", "sqlite:////var/lib/afterhours/state.sqlite3")
    LocalSettings()
    assert redact("AFTERHOURS_STATE_URL=sqlite:////var/lib/afterhours/state.sqlite3: x") == (
        "AFTERHOURS_STATE_URL=sqlite:////var/lib/afterhours/state.sqlite3: x")
