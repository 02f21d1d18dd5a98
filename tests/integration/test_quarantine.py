"""Nothing dropped silently on the read side: malformed tickets and non-JSON answers, through
the real adapters and the twins' fault injection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from afterhours.adapters.state import AuditRow
from afterhours.bootstrap import build_service
from afterhours.cli import main
from afterhours.clock import ManualClock
from afterhours.policy import load_policy
from afterhours.retrying import RetryPolicy
from afterhours.service import Service
from afterhours.settings import Settings
from afterhours.twins.chat import ChatTwin
from afterhours.twins.faults import FaultRule
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin

pytestmark = pytest.mark.integration

POLICY = load_policy(Path(__file__).parents[2] / "config" / "policy.yaml").policy
EXPORT = "GET /api/v2/incremental/tickets/cursor.json"
SHOW = "GET /api/v2/tickets/{id}.json"


@pytest.fixture
def service(zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, clock: ManualClock,
            tmp_path: Path) -> Iterator[Service]:
    """The daemon as `afterhours run` builds it, on the twins; retries do not wait."""
    for name in ("Support", "Finance", "Engineering", "Support Leads"):
        zendesk.add_group(name)
    settings = Settings(
        zendesk_url=zendesk.base_url, zendesk_email="bot@example.com",
        zendesk_token=SecretStr("token"), jira_url=jira.base_url,
        jira_email="bot@example.com", jira_token=SecretStr("token"),
        webhooks={c: SecretStr(chat.webhook_url(c)) for c in POLICY.channels},
        state_db=tmp_path / "state.sqlite3", backfill_hours=1,
    )
    built = build_service(settings, POLICY, clock=clock,
                          retry=RetryPolicy(attempts=2, sleep=lambda _: None))
    yield built
    built.close()


@pytest.fixture
def customer(zendesk: ZendeskTwin) -> int:
    return int(zendesk.add_user("Bob Ortiz", "bob@initech.com")["id"])


def file_refund(zendesk: ZendeskTwin, clock: ManualClock, customer: int) -> int:
    """A billing ticket: routed to Finance with one chat message and a reply."""
    return int(zendesk.create_ticket(
        subject="Refund for double charge", description="We were charged twice.",
        requester_id=customer, created_at=clock())["id"])


def outcomes(rows: list[AuditRow]) -> list[str]:
    return [row.outcome for row in rows]


def test_a_malformed_ticket_is_quarantined_retried_and_handled_once_repaired(
    service: Service, zendesk: ZendeskTwin, chat: ChatTwin, clock: ManualClock, customer: int
) -> None:
    clock.advance(timedelta(minutes=2))
    refund = file_refund(zendesk, clock, customer)
    zendesk.corrupt_ticket(refund, tags=5, remove=("created_at",))
    clock.advance(timedelta(minutes=2))

    first = service.run_pass()
    assert first.quarantined == 1
    assert not first.clean
    (held,) = service.state.quarantined()
    assert (held.ticket_id, held.attempts) == (refund, 1)
    assert "created_at is missing" in held.error
    (row,) = service.state.audit(ticket_id=refund)
    assert row.outcome == "ticket_quarantined"
    assert "created_at is missing" in row.reason
    assert row.detail["error"] == held.error
    assert zendesk.server.requests[SHOW] == 1  # read again on its own before it was held
    assert chat.messages("finance") == []
    assert zendesk.ticket(refund)["group_id"] is None

    clock.advance(timedelta(minutes=5))
    second = service.run_pass()
    assert (second.quarantined, second.clean) == (1, False)
    (held,) = service.state.quarantined()
    assert held.attempts == 2
    assert held.last_tried == clock()
    assert outcomes(service.state.audit(ticket_id=refund)) == ["ticket_quarantined"]

    zendesk.repair_ticket(refund)
    clock.advance(timedelta(minutes=5))
    third = service.run_pass()
    assert third.quarantined == 0
    assert service.state.quarantined() == []
    audit = outcomes(service.state.audit(ticket_id=refund))
    assert audit[:2] == ["ticket_quarantined", "ticket_released"]
    assert "done" in audit
    assert len(chat.messages("finance")) == 1
    assert zendesk.ticket(refund)["group_id"] is not None

    clock.advance(timedelta(minutes=5))
    service.run_pass()
    assert len(chat.messages("finance")) == 1  # done once, not again


def test_odd_values_zendesk_allows_are_read_leniently_and_the_ticket_handled(
    service: Service, zendesk: ZendeskTwin, chat: ChatTwin, clock: ManualClock, customer: int
) -> None:
    refund = file_refund(zendesk, clock, customer)
    zendesk.corrupt_ticket(refund, tags=[5, None, "vip"], subject=None, remove=("via", "status"))
    clock.advance(timedelta(minutes=2))

    report = service.run_pass()
    assert report.clean, report
    assert service.state.quarantined() == []
    stored = service.state.ticket(refund)
    assert stored is not None
    assert (stored.status, stored.channel, stored.subject) == ("new", "unknown", "")
    assert {"5", "vip"} <= stored.tags
    assert len(chat.messages("finance")) == 1


def test_a_ticket_without_an_id_is_recorded_loudly(
    service: Service, zendesk: ZendeskTwin, clock: ManualClock, customer: int
) -> None:
    refund = file_refund(zendesk, clock, customer)
    zendesk.corrupt_ticket(refund, id="none")
    clock.advance(timedelta(minutes=2))

    with capture_logs() as logs:
        report = service.run_pass()
    assert (report.quarantined, report.clean) == (1, False)
    assert service.state.quarantined() == []  # nothing to track it by
    (row,) = [r for r in service.state.audit() if r.outcome == "ticket_unreadable"]
    assert row.ticket_id is None
    assert "without a usable id" in row.reason
    assert [e["log_level"] for e in logs if e["event"] == "ticket.unreadable"] == ["error"]


def test_a_non_json_export_page_leaves_stored_tickets_escalated_on_time(
    service: Service, zendesk: ZendeskTwin, chat: ChatTwin, clock: ManualClock, customer: int
) -> None:
    outage = int(zendesk.create_ticket(
        subject="Our API is down", description="Every request fails.", requester_id=customer,
        created_at=clock())["id"])
    clock.advance(timedelta(minutes=2))
    assert service.run_pass().tickets_read == 1
    assert len(chat.messages("oncall-lead")) == 1  # paged at once
    clock.advance(timedelta(minutes=8))
    service.run_pass()  # the export brings the ticket back as the daemon made it: urgent

    zendesk.server.faults.add(FaultRule(EXPORT, not_json_rate=1.0))
    clock.advance(timedelta(minutes=22))
    with capture_logs() as logs:
        report = service.run_pass()
    assert report.export_failed
    assert report.crashed == 0
    (failed,) = [e for e in logs if e["event"] == "export.failed"]
    assert "Zendesk answered HTTP 200 with a body that is not JSON" in failed["error"]
    assert zendesk.server.faults.counts["not_json"] == 2  # both attempts of the retry policy
    pages = chat.messages("oncall-lead")
    assert len(pages) == 2  # paged again at 30 minutes, the export failing or not
    assert f"#{outage} " in pages[1]


def test_afterhours_failed_lists_the_tickets_held_in_quarantine(
    service: Service, zendesk: ZendeskTwin, clock: ManualClock, customer: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock.advance(timedelta(minutes=2))
    refund = file_refund(zendesk, clock, customer)
    zendesk.corrupt_ticket(refund, remove=("created_at",))
    clock.advance(timedelta(minutes=2))
    service.run_pass()
    capsys.readouterr()

    assert main(["failed", "--db", str(service.state.path)]) == 0
    text = capsys.readouterr().out
    assert f"ticket {refund} in quarantine since" in text
    assert "1 ticket in quarantine; each pass reads them again" in text

    assert main(["failed", "--db", str(service.state.path), "--json"]) == 0
    *rows, count = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert count == {"parked": 0, "quarantined": 1}
    [held] = rows
    assert held["quarantined_ticket"] == refund
    assert "created_at is missing" in held["error"]
