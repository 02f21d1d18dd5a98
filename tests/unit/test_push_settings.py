"""Push mode's settings and `afterhours webhooks print`: the secrets are secrets (files too,
never shown), push needs the HTTP server, and the printed configuration is what the routes
and the verifier expect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from afterhours.cli import main
from afterhours.push.routes import JIRA_PATH, ZENDESK_PATH
from afterhours.push.verify import TICKET_EVENT, parse_zendesk
from afterhours.settings import Settings
from afterhours.webhooks_command import TICKET_EVENTS, TRIGGER_BODY

REQUIRED = {"ZENDESK_URL": "https://acme.zendesk.com", "ZENDESK_EMAIL": "bot@acme.com",
            "ZENDESK_TOKEN": "zd-token", "JIRA_URL": "https://acme.atlassian.net",
            "JIRA_EMAIL": "bot@acme.com", "JIRA_TOKEN": "jira-token"}


@pytest.fixture
def required(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(f"AFTERHOURS_{name}", value)


@pytest.mark.usefixtures("required")
def test_the_secrets_come_from_files_and_turn_push_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    (tmp_path / "zd").write_text("zendesk-signing-secret\n")
    monkeypatch.setenv("AFTERHOURS_ZENDESK_WEBHOOK_SECRET_FILE", str(tmp_path / "zd"))
    monkeypatch.setenv("AFTERHOURS_JIRA_WEBHOOK_SECRET", "jira-secret")
    monkeypatch.setenv("AFTERHOURS_HTTP_LISTEN", "0.0.0.0:8080")
    settings = Settings()
    assert settings.zendesk_webhook_secret is not None
    assert settings.zendesk_webhook_secret.get_secret_value() == "zendesk-signing-secret"
    assert "jira-secret" not in repr(settings)
    assert (settings.webhook_window, settings.webhook_max_bytes, settings.webhook_queue) == \
        (300.0, 1_000_000, 1000)


@pytest.mark.usefixtures("required")
def test_push_without_the_http_server_is_refused_and_without_a_secret_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().zendesk_webhook_secret is None  # off by default: no route
    monkeypatch.setenv("AFTERHOURS_ZENDESK_WEBHOOK_SECRET", "s")
    with pytest.raises(ValueError, match="AFTERHOURS_HTTP_LISTEN is not"):
        Settings()
    monkeypatch.setenv("AFTERHOURS_ZENDESK_WEBHOOK_SECRET", "   ")
    with pytest.raises(ValueError, match="blank"):
        Settings()


def test_webhooks_print_names_the_endpoints_events_and_trigger(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["webhooks", "print", "--url", "https://afterhours.acme.com/"]) == 0
    text = capsys.readouterr().out
    assert f"https://afterhours.acme.com{ZENDESK_PATH}" in text
    assert f"https://afterhours.acme.com{JIRA_PATH}" in text
    assert "zen:event-type:ticket.created" in text
    assert TRIGGER_BODY in text
    assert "AFTERHOURS_ZENDESK_WEBHOOK_SECRET" in text
    assert "placeholder" not in text


def test_webhooks_print_json_is_what_the_routes_take(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["webhooks", "print", "--output", "json"]) == 0
    config = json.loads(capsys.readouterr().out)
    zendesk = config["zendesk"]
    assert zendesk["endpoint"] == f"https://afterhours.example.com{ZENDESK_PATH}"
    events = zendesk["events_webhook"]["webhook"]["subscriptions"]
    assert events == list(TICKET_EVENTS)
    assert all(e.startswith(TICKET_EVENT) for e in events)
    [action] = zendesk["trigger"]["trigger"]["actions"]
    body = action["value"][1].replace("{{ticket.id}}", "4711")  # as Zendesk renders it
    assert parse_zendesk(body.encode()) == 4711


def test_webhooks_print_refuses_a_url_that_is_not_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["webhooks", "print", "--url", "afterhours.acme.com"]) == 2
    assert "--url does not start with https://" in capsys.readouterr().err
