"""`afterhours check --live` on PagerDuty and e-mail channels, over real HTTP and SMTP on
the twins: reached without paging or mailing anyone, and with --send-test one marked test
page (resolved at once) and one test mail each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from afterhours.cli import main
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.pagerduty import PagerDutyTwin
from afterhours.twins.smtp import SmtpTwin
from afterhours.twins.zendesk import ZendeskTwin
from factories import PAGERDUTY_HEAD

POLICY = PAGERDUTY_HEAD.replace("  desk: {}\n", "  desk: {}\n  mail: {type: email, to: ["
                                "oncall:leads]}\n") + """\
escalations:
  - name: p1
    levels:
      - {id: page, after_minutes: 0, until: first_reply, page: leads, notify: mail}
"""


@pytest.fixture
def policy(  # noqa: PLR0917  (pytest fixtures)
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zendesk: ZendeskTwin, jira: JiraTwin,
    chat: ChatTwin, pagerduty: PagerDutyTwin, smtp: SmtpTwin,
) -> Path:
    for name, value in {
        "ZENDESK_URL": zendesk.base_url, "ZENDESK_EMAIL": "bot@example.com",
        "ZENDESK_TOKEN": "zd-secret-token", "JIRA_URL": jira.base_url,
        "JIRA_EMAIL": "bot@example.com", "JIRA_TOKEN": "jira-secret-token",
        "WEBHOOKS": json.dumps({"desk": chat.webhook_url("desk")}),
        "PAGERDUTY_ROUTING_KEYS": json.dumps({"pager": pagerduty.add_service("Support")}),
        "PAGERDUTY_EVENTS_URL": pagerduty.base_url,
        "SMTP_URL": smtp.url, "SMTP_USER": smtp.user, "SMTP_PASSWORD": smtp.password,
        "SMTP_FROM": "afterhours@acme.example", "SMTP_CA_FILE": smtp.ca_file,
    }.items():
        monkeypatch.setenv(f"AFTERHOURS_{name}", value)
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return path


def test_live_reaches_pagerduty_and_smtp_without_paging_or_mailing(
    policy: Path, pagerduty: PagerDutyTwin, smtp: SmtpTwin,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "--live", str(policy)]) == 0
    out = capsys.readouterr().out
    assert "ok   PagerDuty channel pager: routing key well-formed, events endpoint" in out
    assert "ok   email channel mail: 127.0.0.1:" in out
    assert pagerduty.events == []
    assert pagerduty.incidents() == []
    assert smtp.messages() == []
    assert smtp.logins["ok"] == 1
    assert smtp.password not in out


def test_send_test_pages_resolves_and_mails_the_on_call_once(
    policy: Path, pagerduty: PagerDutyTwin, smtp: SmtpTwin,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "--live", "--send-test", str(policy)]) == 0
    out = capsys.readouterr().out
    assert "test page sent and resolved" in out
    (incident,) = pagerduty.incidents()
    assert incident.status == "resolved"
    assert incident.title.startswith("[afterhours TEST]")
    (mail,) = smtp.messages("alice@acme.example")
    assert mail["Subject"] == "[afterhours TEST] check --live --send-test"
    assert len(smtp.messages("bob@acme.example")) == 1


def test_a_bad_password_fails_the_check_and_says_so(
    policy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AFTERHOURS_SMTP_PASSWORD", "not-the-password")
    assert main(["check", "--live", str(policy)]) == 2
    (failed,) = [line for line in capsys.readouterr().out.splitlines()
                 if line.startswith("FAIL")]
    assert "email channel mail (channels.mail)" in failed
    assert "refused the login" in failed
    assert "not-the-password" not in failed
