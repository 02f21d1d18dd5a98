"""E-mail escalations over real SMTP on the aiosmtpd twin: STARTTLS or TLS, a login, both
parts, the headers of an automatic message, and the daemon mailing the on-call primary and
backup once, through a kill between the send and its record."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from afterhours.adapters.smtp import SmtpMailer, message_id
from afterhours.bootstrap import build_service
from afterhours.clock import ManualClock
from afterhours.domain.actions import SendMail
from afterhours.errors import AccessError, PermanentError, TransientError
from afterhours.policy import load_policy
from afterhours.retrying import RetryPolicy
from afterhours.service import Service
from afterhours.settings import Settings
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.pagerduty import PagerDutyTwin
from afterhours.twins.smtp import SmtpTwin
from afterhours.twins.zendesk import ZendeskTwin
from factories import killed_after_sending, paging_environment, paging_policy

pytestmark = pytest.mark.integration
SENDER = "afterhours@acme.example"
MAIL = SendMail(7, "leads-mail", ("alice@acme.example", "bob@acme.example"),
                "[afterhours] escalation p1 level 1: ticket #7 (urgent) Down", "Down.\n",
                "<p>Down.</p>", "ticket:7/escalation:p1/level:page/notify")


def mailer(twin: SmtpTwin, *, password: str | None = None, attempts: int = 2) -> SmtpMailer:
    return SmtpMailer(twin.url, sender=SENDER, user=twin.user,
                      password=password or twin.password, ca_file=twin.ca_file,
                      retry=RetryPolicy(attempts=attempts, sleep=lambda _: None))


@pytest.mark.parametrize("implicit_tls", [False, True], ids=["starttls", "smtps"])
def test_a_mail_has_both_parts_and_the_headers_of_an_automatic_message(
        implicit_tls: bool) -> None:
    with SmtpTwin(implicit_tls=implicit_tls) as twin:
        assert mailer(twin).send(MAIL) == {}
        (sent,) = twin.messages("alice@acme.example")
    assert sent["Auto-Submitted"] == "auto-generated"
    assert sent["Message-ID"] == message_id(MAIL.message_key, SENDER)
    assert sent["From"] == SENDER
    assert sent["To"] == "alice@acme.example, bob@acme.example"
    assert sent.get_body(("plain",)).get_content().strip() == "Down."  # type: ignore[union-attr]
    assert sent.get_body(("html",)).get_content().strip() == "<p>Down.</p>"  # type: ignore[union-attr]


def test_a_mail_sent_again_is_the_same_message(smtp: SmtpTwin) -> None:
    mailer(smtp).send(MAIL)
    mailer(smtp).send(MAIL)  # after a lost answer: the same Message-ID
    assert len(smtp.messages("bob@acme.example")) == 1
    assert list(smtp.deliveries.values()) == [2]


def test_a_refused_login_needs_an_operator(smtp: SmtpTwin) -> None:
    with pytest.raises(AccessError, match="refused the login"):
        mailer(smtp, password="wrong").send(MAIL)
    assert smtp.messages() == []


def test_a_4xx_is_retried_and_a_5xx_is_permanent(smtp: SmtpTwin) -> None:
    smtp.refuse_next(1, "451 4.3.0 Try again later")
    mailer(smtp).send(MAIL)
    assert len(smtp.messages()) == 1
    smtp.refuse_next(2, "554 5.7.1 Message rejected")
    with pytest.raises(PermanentError, match=r"554: 5\.7\.1 Message rejected"):
        mailer(smtp).send(MAIL)


def test_an_unknown_recipient_is_reported_and_the_others_mailed(smtp: SmtpTwin) -> None:
    smtp.unknown = {"bob@acme.example"}
    assert mailer(smtp).send(MAIL) == {"refused": ["bob@acme.example"]}
    assert len(smtp.messages("alice@acme.example")) == 1
    smtp.unknown = {"alice@acme.example", "bob@acme.example"}
    with pytest.raises(PermanentError, match="every recipient refused"):
        mailer(smtp).send(MAIL)


def test_no_server_is_transient(smtp: SmtpTwin) -> None:
    url = smtp.url
    smtp.stop()
    gone = SmtpMailer(url, sender=SENDER, retry=RetryPolicy.disabled())
    with pytest.raises(TransientError):
        gone.send(MAIL)


POLICY = paging_policy("  leads-mail: {type: email, to: [oncall:leads]}\n", "leads-mail")


@pytest.fixture
def daemon(  # noqa: PLR0917  (pytest fixtures)
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, pagerduty: PagerDutyTwin,
    smtp: SmtpTwin, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Service]:
    for name, value in paging_environment(zendesk, jira, chat, pagerduty, POLICY,
                                          tmp_path).items():
        monkeypatch.setenv(name, value)
    host = smtp.url.removeprefix("smtp://")
    monkeypatch.setenv("AFTERHOURS_SMTP_URL", f"smtp://{smtp.user}@{host}")
    (tmp_path / "smtp-password").write_text(smtp.password + "\n")
    monkeypatch.setenv("AFTERHOURS_SMTP_PASSWORD_FILE", str(tmp_path / "smtp-password"))
    monkeypatch.setenv("AFTERHOURS_SMTP_FROM", SENDER)
    monkeypatch.setenv("AFTERHOURS_SMTP_CA_FILE", smtp.ca_file)
    policy = load_policy(tmp_path / "policy.yaml").policy
    with closing(build_service(Settings(), policy, clock=clock,
                               retry=RetryPolicy(attempts=3, sleep=lambda _: None))) as built:
        yield built


def test_a_p1_after_hours_pages_once_and_mails_the_on_call_pair_once(  # noqa: PLR0917
        daemon: Service, zendesk: ZendeskTwin, pagerduty: PagerDutyTwin, smtp: SmtpTwin,
        clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    customer = int(zendesk.add_user("Eve <script>", "eve@globex.com")["id"])
    ticket = int(zendesk.create_ticket(subject="API <b>down</b> & out", description="503",
                                       requester_id=customer, created_at=clock())["id"])
    clock.advance(timedelta(minutes=2))
    killed_after_sending(daemon, "send_mail")
    clock.advance(timedelta(minutes=1))
    daemon.run_pass()  # mailed again after the kill: the same message
    for person in ("alice@acme.example", "bob@acme.example"):
        (mail,) = smtp.messages(person)
        assert mail["Subject"].strip() == (f"[afterhours] escalation p1 level 1: ticket #{ticket}"
                                   " (urgent) API <b>down</b> & out")
        html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert "API &lt;b&gt;down&lt;/b&gt; &amp; out" in html
        assert "<b>" not in html
    assert list(smtp.deliveries.values()) == [2]  # sent twice, one message: no new one
    assert len(pagerduty.incidents()) == 1
    agent = int(zendesk.add_user("Sam Agent", "sam@acme.example", role="agent")["id"])
    zendesk.add_comment(ticket, "On it.", author_id=agent)
    clock.advance(timedelta(minutes=2))
    daemon.run_pass()
    assert [i.status for i in pagerduty.incidents()] == ["resolved"]
    assert len(smtp.messages()) == 1
