"""An incident acknowledged on the phone stops the ladder: PagerDuty's twin sends the signed
v3 webhook to the daemon's server over real HTTP, the loop records the acknowledgement, and
the next level never fires. Forged, replayed, malformed and unknown deliveries do nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from afterhours import daemon
from afterhours.clock import ManualClock
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.pagerduty import Incident, PagerDutyTwin
from afterhours.twins.pagerduty_webhook import PagerDutyWebhook, signature
from afterhours.twins.zendesk import ZendeskTwin
from factories import wait_for
from integration.ack_daemon import POLICY, AckDaemon, ack_daemon, ack_settings

pytestmark = pytest.mark.integration
SECRET = "pd-webhook-signing-secret"
HOUR = 3600.0

@pytest.fixture
def running(  # noqa: PLR0917  (pytest fixtures)
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, pagerduty: PagerDutyTwin,
    clock: ManualClock, tmp_path: Path,
) -> Iterator[AckDaemon]:
    settings = ack_settings(zendesk, jira, chat, pagerduty, POLICY, tmp_path,
                            pagerduty_webhook_secret=SecretStr(SECRET))
    with ack_daemon(settings, clock, lambda url: PagerDutyWebhook(
            pagerduty, f"{url}/webhooks/pagerduty", SECRET)) as started:
        yield started


def paged(running: AckDaemon, zendesk: ZendeskTwin, pagerduty: PagerDutyTwin,
          clock: ManualClock) -> tuple[int, Incident]:
    """An after-hours outage, paged at once."""
    customer = int(zendesk.add_user("Alice Chen", "alice@globex.com")["id"])
    ticket = int(zendesk.create_ticket(subject="Production API is down", description="503s",
                                       requester_id=customer, created_at=clock())["id"])
    clock.advance(timedelta(minutes=2))
    running.service.run_pass()
    (incident,) = pagerduty.incidents()
    return ticket, incident


def test_an_acknowledgement_on_the_phone_stops_the_ladder(
    running: AckDaemon, zendesk: ZendeskTwin, pagerduty: PagerDutyTwin, chat: ChatTwin,
    clock: ManualClock,
) -> None:
    ticket, incident = paged(running, zendesk, pagerduty, clock)
    clock.advance(timedelta(minutes=3))
    pagerduty.acknowledge(incident, by="Dana Lead")  # the twin delivers the signed event
    assert running.sender.responses[-1].status_code == 202
    assert running.sender.responses[-1].json() == {"result": "accepted"}
    running.settle()
    notes = [c["body"] for c in zendesk.comments(ticket) if not c["public"]]
    assert any(n.startswith("Acknowledged by Dana Lead in PagerDuty at ") for n in notes)
    assert pagerduty.incidents()[0].status == "resolved"  # the phone stops ringing
    key = f"ticket:{ticket}/acknowledged"
    assert running.service.state.ledger_status(key) == "done"
    (row,) = [r for r in running.service.state.audit(ticket_id=ticket)
              if r.outcome == "acknowledged"]
    assert row.reason.startswith("acknowledged by Dana Lead in PagerDuty at ")
    clock.advance(timedelta(minutes=40))
    running.service.run_pass()
    assert len(chat.messages("desk")) == 1  # the first level's: the next never fires
    assert len(pagerduty.incidents()) == 1
    skipped = running.service.state.ledger_status(
        f"ticket:{ticket}/escalation:p1/level:lead/acknowledged")
    assert skipped == "skipped"


def test_the_loop_wakes_for_an_acknowledgement(
    running: AckDaemon, zendesk: ZendeskTwin, pagerduty: PagerDutyTwin, clock: ManualClock,
) -> None:
    _, incident = paged(running, zendesk, pagerduty, clock)
    loop = threading.Thread(target=daemon.run_forever, args=(running.service, HOUR),
                            kwargs={"pushes": running.queue})
    loop.start()
    try:
        pagerduty.acknowledge(incident)
        wait_for(lambda: pagerduty.incidents()[0].status == "resolved", timeout=10)
    finally:
        running.service.stop.set()
        loop.join(10)


def test_refused_deliveries_have_no_effect(
    running: AckDaemon, zendesk: ZendeskTwin, pagerduty: PagerDutyTwin, clock: ManualClock,
) -> None:
    ticket, incident = paged(running, zendesk, pagerduty, clock)
    hook = running.sender
    body = hook.body(incident, by="Mallory")
    answers = {
        "unsigned": hook.deliver(body, signed=""),
        "bad_signature": hook.deliver(body, secret="not-the-secret"),
        # The body changed after signing.
        "bad_signature ": hook.deliver(body + b" ", signed=signature(SECRET, body)),
        "stale": hook.send(incident, occurred_at=clock() - timedelta(hours=2)),
        "malformed": hook.deliver(b'{"event": []}'),
        "not JSON": hook.deliver(b"\xff\xfe"),
    }
    assert {name: a.status_code for name, a in answers.items()} == {
        "unsigned": 401, "bad_signature": 401, "bad_signature ": 401, "stale": 401,
        "malformed": 400, "not JSON": 400}
    assert all("Mallory" not in a.text for a in answers.values())
    forged = json.loads(body)
    forged["event"]["data"]["incident_key"] = "ticket:424242/escalation:p1/level:page/page"
    unknown = hook.deliver(json.dumps(forged).encode())
    assert (unknown.status_code, unknown.json()["result"]) == (404, "unknown_ticket")
    forged["event"]["data"]["incident_key"] = "an-incident-of-another-tool"
    assert hook.deliver(json.dumps(forged).encode()).json() == {"result": "ignored"}
    assert running.queue.take_acks() == []
    assert running.service.state.ledger_status(f"ticket:{ticket}/acknowledged") is None
    assert running.deliveries("pagerduty", "unsigned") == 1
    assert running.deliveries("pagerduty", "bad_signature") == 2


def test_a_redelivered_acknowledgement_is_recorded_once(
    running: AckDaemon, zendesk: ZendeskTwin, pagerduty: PagerDutyTwin, clock: ManualClock,
) -> None:
    ticket, incident = paged(running, zendesk, pagerduty, clock)
    body = running.sender.body(incident, by="Dana Lead")
    assert running.sender.deliver(body).json() == {"result": "accepted"}
    assert running.sender.deliver(body).json() == {"result": "duplicate"}  # PagerDuty retried
    running.settle()
    assert running.sender.deliver(body).json() == {"result": "accepted"}  # and once more, later
    running.settle()
    notes = [c for c in zendesk.comments(ticket) if "Acknowledged by" in c["body"]]
    assert len(notes) == 1
    rows = [r for r in running.service.state.audit(ticket_id=ticket)
            if r.outcome == "acknowledged"]
    assert [r.reason.endswith("(acknowledged before)") for r in rows] == [False, True]
