"""E-mail escalations in the planner: who is mailed (addresses, the on-call pair now) and
what the mail says, customer text escaped; the policy's checks on email channels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from afterhours.domain.actions import SendMail
from afterhours.domain.model import History
from afterhours.domain.planner import plan_actions
from afterhours.errors import PolicyError
from afterhours.policy import parse_policy
from afterhours.redact import redact
from afterhours.settings import EnvironmentSecrets, Settings
from factories import PAGERDUTY_HEAD, make_ticket

CREATED = datetime(2026, 1, 17, 2, tzinfo=UTC)
MAILING = PAGERDUTY_HEAD.replace("    channel: pager\n", "    channel: mail\n").replace(
    "  desk: {}\n", "  desk: {}\n  mail: {type: email, to: [desk@acme.example, oncall:leads]}\n")
POLICY = parse_policy(MAILING + """\
escalations:
  - name: p1
    levels:
      - {id: page, after_minutes: 0, until: first_reply, page: leads}
      - {id: lead, after_minutes: 30, until: first_reply, notify: mail}
""")


def mails(minutes: float, subject: str = "Checkout <b>down</b> & @here https://evil.example"
          ) -> list[SendMail]:
    ticket = make_ticket(id=9, subject=subject, priority="urgent", status="open",
                         created_at=CREATED)
    plan = plan_actions(ticket, POLICY, CREATED + timedelta(minutes=minutes), History())
    return [p.action for p in plan.actions if isinstance(p.action, SendMail)]


def test_a_page_by_mail_goes_to_the_channel_and_the_on_call_pair_once_each() -> None:
    (mail,) = mails(1)
    assert mail.to == ("desk@acme.example", "alice@acme.example", "bob@acme.example")
    assert mail.message_key == "ticket:9/escalation:p1/level:page/page"
    assert mail.subject == ("[afterhours] escalation p1 level 1: ticket #9 (urgent) Checkout"
                            " <b>down</b> & @here https://evil.example")
    assert "On call for leads: alice@acme.example (backup bob@acme.example)." in mail.text
    assert "Open the ticket: https://acme.zendesk.com/agent/tickets/9" in mail.text


def test_the_html_part_escapes_the_customers_text() -> None:
    (mail,) = mails(1)
    assert "Checkout &lt;b&gt;down&lt;/b&gt; &amp; @here" in mail.html
    assert "<b>" not in mail.html
    assert mail.html.count("<a href=") == 1  # the ticket's link, afterhours' own
    assert '<a href="https://acme.zendesk.com/agent/tickets/9">' in mail.html


def test_a_subject_cannot_add_a_header() -> None:
    (mail,) = mails(1, subject="Hi\r\nBcc: everyone@acme.example")
    assert "\n" not in mail.subject
    assert "\r" not in mail.subject


def test_a_notify_mails_the_channels_to_with_the_on_call_now() -> None:
    (level2,) = [m for m in mails(31) if m.message_key.endswith("level:lead/notify")]
    assert level2.to == ("desk@acme.example", "alice@acme.example", "bob@acme.example")


@pytest.mark.parametrize(("channel", "problem"), [
    ("{type: email}", "has no to: to mail"),
    ("{type: email, to: [nobody]}", "is neither an email address nor oncall:<team>"),
    ("{type: email, to: [oncall:ghosts]}", "on-call team 'ghosts' is not declared"),
    ("{to: [a@acme.example]}", "to: is for email channels"),
    ("{type: slack}", "needs conversation:"),
    ("{conversation: C0ONCALL1}", "needs conversation:"),
])
def test_email_channels_are_checked(channel: str, problem: str) -> None:
    with pytest.raises(PolicyError, match=problem):
        parse_policy(PAGERDUTY_HEAD.replace("  desk: {}\n", f"  desk: {{}}\n  mail: {channel}\n")
                     + "routes:\n  - {name: all, notify: mail}\n")


def test_a_team_paged_by_mail_needs_addresses() -> None:
    named = MAILING.replace("primary: alice@acme.example", "primary: Alice")
    with pytest.raises(PolicyError, match="names Alice without an email"):
        parse_policy(named + "routes:\n  - {name: all, page: leads}\n")


@pytest.mark.parametrize("url", ["http://mail.acme.example", "smtp://", "mail.acme.example:587"])
def test_an_smtp_url_must_be_smtp_or_smtps(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFTERHOURS_SMTP_URL", url)
    with pytest.raises(ValueError, match=r"expected smtp://host:587 \(STARTTLS\) or smtps://"):
        Settings(zendesk_url="https://a.zendesk.com", zendesk_email="a@b.c", zendesk_token="t",
                 jira_url="https://a.atlassian.net", jira_email="a@b.c", jira_token="t")


def test_the_smtp_password_in_the_url_is_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFTERHOURS_SMTP_URL", "smtps://bot:pa%24%24word-42@mail.acme.example")
    EnvironmentSecrets()
    assert redact("login pa$$word-42 refused") == "login ********** refused"
