"""`afterhours config [--check]` and settings errors: each names its AFTERHOURS_ variable, what
is wrong and an example; the daemon refuses at start what `config --check` refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from afterhours.cli import main

POLICY = Path(__file__).parents[2] / "config" / "policy.yaml"
TOKEN = "zd-secret-token-123"
HOOKS = {c: f"https://hooks.example/services/{c}/secret-path"
         for c in ("finance", "engineering", "oncall-lead", "support-lead")}


@pytest.fixture
def good(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings that are all valid."""
    for name, value in {
        "ZENDESK_URL": "https://acme.zendesk.com", "ZENDESK_EMAIL": "bot@acme.com",
        "ZENDESK_TOKEN": TOKEN, "JIRA_URL": "https://acme.atlassian.net",
        "JIRA_EMAIL": "bot@acme.com", "JIRA_TOKEN": "jira-secret-token",
        "WEBHOOKS": json.dumps(HOOKS), "POLICY_FILE": str(POLICY),
    }.items():
        monkeypatch.setenv(f"AFTERHOURS_{name}", value)


def test_config_check_accepts_good_settings(
    good: None, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["config", "--check"]) == 0
    assert capsys.readouterr().out.startswith("settings ok")


def test_config_shows_values_and_sources_with_secrets_masked(
    good: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token_file = tmp_path / "jira-token"
    token_file.write_text("jira-secret-from-file\n", encoding="utf-8")
    monkeypatch.delenv("AFTERHOURS_JIRA_TOKEN")
    monkeypatch.setenv("AFTERHOURS_JIRA_TOKEN_FILE", str(token_file))
    assert main(["config", "--log-format", "json"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}
    assert "https://acme.zendesk.com" in rows["AFTERHOURS_ZENDESK_URL"]
    assert rows["AFTERHOURS_ZENDESK_URL"].endswith("environment")
    assert rows["AFTERHOURS_JIRA_TOKEN"].endswith(f"file (AFTERHOURS_JIRA_TOKEN_FILE={token_file})")
    assert rows["AFTERHOURS_POLL_INTERVAL"].endswith("default")
    assert rows["AFTERHOURS_LOG_FORMAT"].endswith("command line (--log-format)")
    assert "finance: https://hooks.example/**********" in rows["AFTERHOURS_WEBHOOKS"]
    for secret in (TOKEN, "jira-secret-from-file", "secret-path"):
        assert secret not in out


def test_config_output_json(good: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--output", "json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["ok"] is True
    by_name = {row["variable"]: row for row in found["settings"]}
    assert by_name["AFTERHOURS_ZENDESK_TOKEN"]["secret"] is True
    assert by_name["AFTERHOURS_ZENDESK_TOKEN"]["value"] == "**********"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("WEBHOOKS", '{"finance": "https://x.example/a",',
         "AFTERHOURS_WEBHOOKS: not JSON (Expecting"),
        ("WEBHOOKS", '["https://x.example/a"]', "AFTERHOURS_WEBHOOKS: expected a JSON object"),
        ("WEBHOOKS", '{"finance": "hooks.example/services/x"}',
         "AFTERHOURS_WEBHOOKS: the URL of channel 'finance' does not start with https://"),
        ("WEBHOOKS", '{"finance": "https:///services/x"}',
         "AFTERHOURS_WEBHOOKS: the URL of channel 'finance' has no host name"),
        ("ZENDESK_URL", "acme.zendesk.com",
         "AFTERHOURS_ZENDESK_URL: Input should be a valid URL"),
        ("JIRA_URL", "not a url", "e.g. AFTERHOURS_JIRA_URL=https://acme.atlassian.net"),
        ("ZENDESK_TOKEN", "   ", "AFTERHOURS_ZENDESK_TOKEN: is blank"),
        ("JIRA_EMAIL", " ", "AFTERHOURS_JIRA_EMAIL: is blank"),
        ("LOG_LEVEL", "loud", "AFTERHOURS_LOG_LEVEL: Input should be 'debug', 'info'"),
        ("LOG_FORMAT", "xml", "e.g. AFTERHOURS_LOG_FORMAT=json"),
        ("POLL_INTERVAL", "soon", "AFTERHOURS_POLL_INTERVAL: Input should be a valid number"),
        ("POLL_INTERVAL", "0", "AFTERHOURS_POLL_INTERVAL: Input should be greater than 0"),
        ("HTTP_LISTEN", "8080", "AFTERHOURS_HTTP_LISTEN: expected host:port"),
        ("STATE_URL", "mysql://db/x", "AFTERHOURS_STATE_URL: unknown scheme 'mysql'"),
    ],
)
def test_each_bad_value_is_named_by_config_check_and_by_the_daemon(  # noqa: PLR0917
    good: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    variable: str, value: str, expected: str,
) -> None:
    monkeypatch.setenv(f"AFTERHOURS_{variable}", value)
    assert main(["config", "--check"]) == 2
    checked = capsys.readouterr().err
    assert expected in checked
    assert main(["run", "--once"]) == 2  # the daemon's start: the same validation, same words
    started = capsys.readouterr().err
    assert expected in started
    for err in (checked, started):
        assert "Traceback" not in err
        assert "https://hooks.example" not in err  # a webhook URL is a secret


@pytest.mark.parametrize("variable", ["ZENDESK_TOKEN", "ZENDESK_URL", "JIRA_EMAIL"])
def test_an_empty_required_variable_says_it_is_empty(
    good: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    variable: str,
) -> None:
    monkeypatch.setenv(f"AFTERHOURS_{variable}", "")
    assert main(["config", "--check"]) == 2
    assert f"AFTERHOURS_{variable}: is set but empty; it is required" in capsys.readouterr().err


def test_enum_settings_take_any_case_and_empty_means_the_default(
    good: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AFTERHOURS_LOG_LEVEL", "INFO")
    monkeypatch.setenv("AFTERHOURS_LOG_FORMAT", "Console")
    monkeypatch.setenv("AFTERHOURS_LIBRARY_LOG_LEVEL", "")
    monkeypatch.setenv("AFTERHOURS_HTTP_LISTEN", "")
    assert main(["config", "--check"]) == 0
    assert main(["config"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[2:]
            if line.startswith("AFTERHOURS_")}
    assert " info " in rows["AFTERHOURS_LOG_LEVEL"]
    assert " warning " in rows["AFTERHOURS_LIBRARY_LOG_LEVEL"]
    assert rows["AFTERHOURS_LIBRARY_LOG_LEVEL"].endswith("default")


def test_an_empty_webhooks_variable_is_the_default_and_the_policy_check_names_the_channels(
    good: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AFTERHOURS_WEBHOOKS", "")
    assert main(["config", "--check"]) == 2
    err = capsys.readouterr().err
    assert "AFTERHOURS_WEBHOOKS: no webhook URL for policy channel(s) engineering, finance" in err


def test_an_empty_secret_file_is_named(
    good: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    empty = tmp_path / "token"
    empty.write_text("\n", encoding="utf-8")
    monkeypatch.delenv("AFTERHOURS_ZENDESK_TOKEN")
    monkeypatch.setenv("AFTERHOURS_ZENDESK_TOKEN_FILE", str(empty))
    assert main(["config", "--check"]) == 2
    assert f"AFTERHOURS_ZENDESK_TOKEN_FILE: {empty} is empty" in capsys.readouterr().err
