"""`afterhours check --live` end to end: the shipped policy's names looked up in the twins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from afterhours.cli import main
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin

POLICY = Path(__file__).parents[2] / "config" / "policy.yaml"
CHANNELS = ("finance", "engineering", "oncall-lead", "support-lead")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, zendesk: ZendeskTwin, jira: JiraTwin,
        chat: ChatTwin) -> None:
    for name, value in {
        "ZENDESK_URL": zendesk.base_url, "ZENDESK_EMAIL": "bot@example.com",
        "ZENDESK_TOKEN": "zd-secret-token", "JIRA_URL": jira.base_url,
        "JIRA_EMAIL": "bot@example.com", "JIRA_TOKEN": "jira-secret-token",
        "WEBHOOKS": json.dumps({c: chat.webhook_url(c) for c in CHANNELS}),
    }.items():
        monkeypatch.setenv(f"AFTERHOURS_{name}", value)


def test_every_name_in_the_shipped_policy_is_found_and_each_channel_hears_once(
    env: None, zendesk: ZendeskTwin, chat: ChatTwin, capsys: pytest.CaptureFixture[str],
) -> None:
    for group in ("Finance", "Engineering", "Support", "Support Leads"):
        zendesk.add_group(group)
    assert main(["check", "--live", str(POLICY)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()[1:]  # after check's own "ok" line
    assert lines, out
    assert all(line.startswith("ok   ") for line in lines), out
    for name in ("'Finance'", "'Support Leads'", "ENG", "'Bug'", "'Highest'"):
        assert name in out, name
    for channel in CHANNELS:
        [message] = chat.messages(channel)
        assert "afterhours check --live" in message
    assert "secret-token" not in out


def test_a_group_missing_in_zendesk_fails_the_check_and_says_where(
    env: None, zendesk: ZendeskTwin, capsys: pytest.CaptureFixture[str],
) -> None:
    for group in ("Finance", "Engineering", "Support"):  # no "Support Leads"
        zendesk.add_group(group)
    assert main(["check", "--live", str(POLICY)]) == 2
    failed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1
    assert "Support Leads" in failed[0]
    assert "escalations.rules.2.levels.0.group" in failed[0]
