"""An incident acknowledged on the phone stops the ladder: PagerDuty's twin sends the signed
v3 webhook to the daemon's server over real HTTP, the loop records the acknowledgement, and
the next level never fires. Forged, replayed, malformed and unknown deliveries do nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from afterhours import daemon
from afterhours.bootstrap import build_service
from afterhours.clock import ManualClock
from afterhours.ops.server import HttpServer, start_server
from afterhours.policy import load_policy
from afterhours.push.ack_handling import take_acks
from afterhours.push.mode import push_mode
from afterhours.push.queue import PushQueue
from afterhours.retrying import RetryPolicy
from afterhours.service import Service
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.pagerduty import Incident, PagerDutyTwin
from afterhours.twins.pagerduty_webhook import PagerDutyWebhook, signature
from afterhours.twins.zendesk import ZendeskTwin
from factories import PAGERDUTY_HEAD, twin_settings, wait_for

pytestmark = pytest.mark.integration
SECRET = "pd-webhook-signing-secret"
HOUR = 3600.0
POLICY = PAGERDUTY_HEAD + """\
priority_rules:
  - name: outage
    when: {keywords: [down]}
    priority: urgent
escalations:
  - name: p1
    when: {priorities: [urgent]}
    levels:
      - id: page
        after_minutes: 0
        until: first_reply
        page: leads
      - id: lead
        after_minutes: 30
        until: first_reply
        notify: desk
"""


@dataclass
class Daemon:
    """The daemon with its HTTP server and push queue, on the twins."""

    service: Service
    server: HttpServer
    queue: PushQueue
    hook: PagerDutyWebhook

    def settle(self) -> None:
        """What the loop does when an acknowledgement waits: record it, run a pass."""
        assert take_acks(self.service, self.queue) > 0
        self.service.run_pass(read_export=False)

    def deliveries(self, result: str) -> float:
        return self.service.metrics.registry.get_sample_value(
            "afterhours_webhook_deliveries_total",
            {"source": "pagerduty", "result": result}) or 0


@pytest.fixture
def running(  # noqa: PLR0917  (pytest fixtures)
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, pagerduty: PagerDutyTwin,
    clock: ManualClock, tmp_path: Path,
) -> Iterator[Daemon]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    settings = twin_settings(
        zendesk, jira, chat, ["desk"], tmp_path / "state.sqlite3", policy_file=policy,
        http_listen="127.0.0.1:0", pagerduty_webhook_secret=SecretStr(SECRET),
        pagerduty_routing_keys={"pager": SecretStr(pagerduty.add_service("Support"))},
        pagerduty_events_url=pagerduty.base_url)
    service = build_service(settings, load_policy(policy).policy, clock=clock,
                            retry=RetryPolicy(attempts=2, sleep=lambda _: None))
    mode = push_mode(settings, service)
    assert mode.queue is not None
    server = start_server("127.0.0.1:0", service.health, service.metrics, mode.routes)
    hook = PagerDutyWebhook(pagerduty, f"{server.url}/webhooks/pagerduty", SECRET)
    yield Daemon(service, server, mode.queue, hook)
    server.stop()
    service.close()


def paged(running: Daemon, zendesk: ZendeskTwin, pagerduty: PagerDutyTwin,
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
    running: Daemon, zendesk: ZendeskTwin, pagerduty: PagerDutyTwin, chat: ChatTwin,
    clock: ManualClock,
) -> None:
    ticket, incident = paged(running, zendesk, pagerduty, clock)
    clock.advance(timedelta(minutes=3))
    pagerduty.acknowledge(incident, by="Dana Lead")  # the twin delivers the signed event
    assert running.hook.responses[-1].status_code == 202
    assert running.hook.responses[-1].json() == {"result": "accepted"}
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
    assert chat.messages("desk") == []  # the next level never fires
    assert len(pagerduty.incidents()) == 1
    skipped = running.service.state.ledger_status(
        f"ticket:{ticket}/escalation:p1/level:lead/acknowledged")
    assert skipped == "skipped"


def test_the_loop_wakes_for_an_acknowledgement(
    running: Daemon, zendesk: ZendeskTwin, pagerduty: PagerDutyTwin, clock: ManualClock,
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
    running: Daemon, zendesk: ZendeskTwin, pagerduty: PagerDutyTwin, clock: ManualClock,
) -> None:
    ticket, incident = paged(running, zendesk, pagerduty, clock)
    hook = running.hook
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
    assert running.deliveries("unsigned") == 1
    assert running.deliveries("bad_signature") == 2


def test_a_redelivered_acknowledgement_is_recorded_once(
    running: Daemon, zendesk: ZendeskTwin, pagerduty: PagerDutyTwin, clock: ManualClock,
) -> None:
    ticket, incident = paged(running, zendesk, pagerduty, clock)
    body = running.hook.body(incident, by="Dana Lead")
    assert running.hook.deliver(body).json() == {"result": "accepted"}
    assert running.hook.deliver(body).json() == {"result": "duplicate"}  # PagerDuty retried
    running.settle()
    assert running.hook.deliver(body).json() == {"result": "accepted"}  # and once more, later
    running.settle()
    notes = [c for c in zendesk.comments(ticket) if "Acknowledged by" in c["body"]]
    assert len(notes) == 1
    rows = [r for r in running.service.state.audit(ticket_id=ticket)
            if r.outcome == "acknowledged"]
    assert [r.reason.endswith("(acknowledged before)") for r in rows] == [False, True]
