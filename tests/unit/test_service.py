"""The service loop with fakes for our own ports: what happens when one side fails."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from afterhours.adapters.one_by_one import EachIssue, EachTicket
from afterhours.adapters.ports import ExportPage
from afterhours.adapters.state import StateStore
from afterhours.clock import ManualClock
from afterhours.domain.actions import (
    AddInternalNote,
    AssignGroup,
    CreateJiraIssue,
    LinkJiraIssue,
    ZendeskAction,
)
from afterhours.domain.model import JiraIssueRef, Ticket
from afterhours.errors import (
    AccessError,
    ConflictError,
    PermanentError,
    TransientError,
)
from afterhours.policy import load_policy
from afterhours.service import Service
from factories import SATURDAY_NIGHT, make_ticket

POLICY = load_policy(Path(__file__).parents[1] / "fixtures" / "classic_policy.yaml").policy


class FakeDesk(EachTicket):
    """Serves one export page and records updates; `fail` decides how an update fails."""

    def __init__(self, tickets: Sequence[Ticket]) -> None:
        self.tickets = list(tickets)
        self.current = {t.id: t for t in tickets}  # what fetch_ticket answers
        self.updates: list[list[ZendeskAction]] = []
        self.fail: Exception | None = None
        self.conflicts = 0  # this many updates answer 409 first
        self.bad_group: str | None = None
        self.fetched: list[int] = []

    def export_page(self, cursor: str | None, start_time: datetime) -> ExportPage:
        page, self.tickets = tuple(self.tickets), []
        self.current.update({t.id: t for t in page})
        return ExportPage(page, "cursor-1", end_of_stream=True)

    def fetch_ticket(self, ticket_id: int) -> Ticket | None:
        if self.fail is not None:
            raise self.fail
        self.fetched.append(ticket_id)
        return self.current.get(ticket_id)

    def has_note(self, ticket_id: int, marker: str) -> bool:
        return any(isinstance(c, AddInternalNote) and c.ticket_id == ticket_id
                   and marker in c.body for update in self.updates for c in update)

    def update_ticket(self, ticket: Ticket, changes: Sequence[ZendeskAction]) -> datetime:
        if self.fail is not None:
            raise self.fail
        if self.conflicts:
            self.conflicts -= 1
            raise ConflictError("zendesk", "changed", status=409)
        if any(isinstance(c, AssignGroup) and c.group == self.bad_group for c in changes):
            raise PermanentError("zendesk", "unknown group", status=422)
        self.updates.append(list(changes))
        return ticket.updated_at + timedelta(seconds=1)

    def close(self) -> None:
        """Nothing to release."""


class FakeTracker(EachIssue):
    """Files issues in a list."""

    def __init__(self) -> None:
        self.created: list[CreateJiraIssue] = []

    def find_issue(self, ticket_id: int) -> JiraIssueRef | None:
        for number, action in enumerate(self.created, start=1):
            if action.ticket_id == ticket_id:
                return JiraIssueRef(f"ENG-{number}", f"https://jira.example/browse/ENG-{number}")
        return None

    def create_issue(self, action: CreateJiraIssue) -> JiraIssueRef:
        self.created.append(action)
        key = f"ENG-{len(self.created)}"
        return JiraIssueRef(key, f"https://jira.example/browse/{key}")

    def link_issue(self, action: LinkJiraIssue) -> None:
        """Links are not looked at here."""

    def close(self) -> None:
        """Nothing to release."""


class FakeNotifier:
    """Keeps what it was asked to post; `boom` makes it raise something unexpected."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.boom: Exception | None = None

    def notify(self, channel: str, text: str, *, key: str | None = None) -> None:
        if self.boom is not None:
            raise self.boom
        self.sent.append((channel, text))

    def close(self) -> None:
        """Nothing to release."""


@pytest.fixture
def parts(state_url: str) -> Iterator[tuple[FakeDesk, FakeTracker, FakeNotifier, Service]]:
    """A service on fakes of the outside services, with its state once on SQLite and once on
    PostgreSQL."""
    urgent = make_ticket(
        id=1, subject="Checkout is down", priority="urgent", tags=frozenset({"p1"})
    )
    desk, tracker, notifier = FakeDesk([urgent]), FakeTracker(), FakeNotifier()
    clock = ManualClock(SATURDAY_NIGHT + timedelta(minutes=5))
    service = Service(
        desk=desk,
        tracker=tracker,
        notifier=notifier,
        state=StateStore(state_url),
        policy=POLICY,
        clock=clock,
    )
    yield desk, tracker, notifier, service
    service.state.close()


def advance(service: Service, delta: timedelta) -> None:
    assert isinstance(service.clock, ManualClock)
    service.clock.advance(delta)


def test_an_on_call_page_goes_out_while_zendesk_is_down(
    parts: tuple[FakeDesk, FakeTracker, FakeNotifier, Service],
) -> None:
    desk, _, notifier, service = parts
    desk.fail = TransientError("zendesk", "503", status=503)
    advance(service, timedelta(hours=1))  # past the P1 first-reply deadline
    report = service.run_pass()
    assert [channel for channel, _ in notifier.sent] == ["oncall-lead"]
    assert report.deferred > 0
    desk.fail = None
    service.run_pass()  # Zendesk is back: the deferred changes go through, the page is not resent
    assert [channel for channel, _ in notifier.sent] == ["oncall-lead"]
    assert desk.updates


def test_one_bad_field_does_not_sink_the_others(
    parts: tuple[FakeDesk, FakeTracker, FakeNotifier, Service],
) -> None:
    desk, _, _, service = parts
    desk.bad_group = "Support"
    report = service.run_pass()
    applied = [type(c).__name__ for update in desk.updates for c in update]
    assert "AssignGroup" not in applied
    assert "AddTags" in applied
    assert report.failed == 1
    assert service.state.ledger_status("ticket:1/route:general-inquiry/assign_group") == "failed"


def test_a_conflict_rereads_the_ticket_and_replans_at_once(
    parts: tuple[FakeDesk, FakeTracker, FakeNotifier, Service],
) -> None:
    desk, _, notifier, service = parts
    desk.conflicts = 1  # an agent edited the ticket after the export read it
    advance(service, timedelta(hours=1))
    report = service.run_pass()
    assert report.conflicts == 1
    assert desk.fetched.count(1) >= 1
    assert service.state.ledger_status("ticket:1/route:general-inquiry/assign_group") == "done"
    assert [channel for channel, _ in notifier.sent] == ["oncall-lead"]
    metrics = service.metrics.registry
    assert metrics.get_sample_value(
        "afterhours_actions_total", {"kind": "AssignGroup", "outcome": "conflict"}) == 1
    assert metrics.get_sample_value(
        "afterhours_actions_total", {"kind": "AssignGroup", "outcome": "done"}) == 1


def test_a_ticket_that_keeps_changing_holds_its_plan_for_the_next_pass(
    parts: tuple[FakeDesk, FakeTracker, FakeNotifier, Service],
) -> None:
    desk, _, notifier, service = parts
    desk.conflicts = 100
    advance(service, timedelta(hours=1))
    report = service.run_pass()
    assert 1 < report.conflicts <= 5  # bounded: one ticket cannot hold the pass forever
    assert notifier.sent == []  # nothing goes out on a plan that keeps going stale
    assert service.state.ledger_status("ticket:1/route:general-inquiry/assign_group") == "intended"


def test_an_unexpected_error_on_one_ticket_does_not_stop_the_pass(
    parts: tuple[FakeDesk, FakeTracker, FakeNotifier, Service],
) -> None:
    desk, _, notifier, service = parts
    desk.tickets.append(make_ticket(id=2, subject="Refund for a double charge"))  # notifies
    desk.tickets.append(make_ticket(id=3, subject="How do I reset my password?"))
    notifier.boom = RuntimeError("a bug in a client library")
    report = service.run_pass()
    assert report.crashed == 1
    assert not report.clean
    assert [u[0].ticket_id for u in desk.updates] == [1, 2, 3]  # 3 was still reached


def test_a_stop_request_ends_the_pass_after_the_ticket_in_hand(
    parts: tuple[FakeDesk, FakeTracker, FakeNotifier, Service],
) -> None:
    desk, _, _, service = parts
    desk.tickets.append(make_ticket(id=2, subject="Refund for a double charge"))
    service.stop.set()
    report = service.run_pass()
    assert report.interrupted
    assert desk.updates == []


def test_a_deleted_ticket_is_left_alone(
    parts: tuple[FakeDesk, FakeTracker, FakeNotifier, Service],
) -> None:
    desk, _, notifier, service = parts
    desk.tickets = [make_ticket(id=3, subject="Site is down", status="deleted", priority="urgent")]
    advance(service, timedelta(days=2))
    report = service.run_pass()
    assert (report.done, desk.updates, notifier.sent) == (0, [], [])


def test_refused_credentials_defer_the_action_until_an_operator_fixes_them(
    parts: tuple[FakeDesk, FakeTracker, FakeNotifier, Service],
) -> None:
    desk, _, notifier, service = parts
    desk.tickets = [make_ticket(id=2, subject="Refund for a double charge")]
    notifier.boom = AccessError("chat", "finance: HTTP 403", status=403)
    report = service.run_pass()
    assert (report.deferred, report.failed) == (1, 0)
    assert service.state.ledger_status("ticket:2/route:billing/notify") == "intended"
    notifier.boom = None  # the webhook URL was replaced
    service.run_pass()
    assert [channel for channel, _ in notifier.sent] == ["finance"]


def test_an_intent_the_plan_no_longer_holds_is_settled_not_left_pending(
    parts: tuple[FakeDesk, FakeTracker, FakeNotifier, Service],
) -> None:
    desk, _, notifier, service = parts
    # A pass was cut short (a kill) after writing ahead a page the ticket no longer needs:
    # an agent has replied since, so the ladder stopped and no plan will hold that key again.
    key = "ticket:1/escalation:p1-first-reply/level:1/notify"
    service.state.mark_intended(at=SATURDAY_NIGHT, ticket_id=1, key=key,
                                rule="escalation:p1-first-reply/level:1",
                                action="NotifyChannel", reason="no first reply")
    replied = make_ticket(id=1, subject="Checkout is down", priority="urgent",
                          tags=frozenset({"p1"}), first_reply_at=SATURDAY_NIGHT)
    desk.tickets, desk.current[1] = [replied], replied
    advance(service, timedelta(hours=2))
    service.run_pass()
    assert service.state.unsettled() == 0
    [row] = [r for r in service.state.audit(ticket_id=1) if r.key == key]
    assert (row.outcome, row.reason) == (
        "skipped", "no longer planned: the ticket or policy changed since it was intended")
    assert notifier.sent == []


def test_a_route_message_names_the_group_once_the_ticket_is_in_it(
    parts: tuple[FakeDesk, FakeTracker, FakeNotifier, Service],
) -> None:
    desk, _, notifier, service = parts
    desk.tickets = [make_ticket(id=2, subject="Refund for a double charge")]
    service.run_pass()
    [(channel, text)] = notifier.sent
    assert channel == "finance"
    assert "“Refund for a double charge” → Finance <https://" in text


def test_a_failed_group_change_is_not_announced_as_done(
    parts: tuple[FakeDesk, FakeTracker, FakeNotifier, Service],
) -> None:
    desk, _, notifier, service = parts
    desk.tickets = [make_ticket(id=2, subject="Refund for a double charge")]
    desk.bad_group = "Finance"
    report = service.run_pass()
    [(_, text)] = notifier.sent
    assert "→" not in text
    assert text.endswith(
        "/tickets/2> (group change to Finance failed: zendesk: unknown group)")
    assert report.failed == 1  # the group change, parked; the message itself went out
    [row] = [r for r in service.state.audit(ticket_id=2)
             if r.key == "ticket:2/route:billing/notify"]
    assert (row.outcome, row.detail) == ("done", {"channel": "finance", "group_named": False})


def test_a_group_change_still_waiting_is_said_to_wait_and_the_message_does_not(
    parts: tuple[FakeDesk, FakeTracker, FakeNotifier, Service],
) -> None:
    desk, _, notifier, service = parts
    desk.tickets = [make_ticket(id=2, subject="Refund for a double charge")]
    desk.fail = TransientError("zendesk", "503", status=503)
    service.run_pass()
    [(_, text)] = notifier.sent
    assert text.endswith("/tickets/2> (not yet moved to Finance)")
    desk.fail = None
    service.run_pass()  # the group lands now; the message was sent once, and stays so
    assert len(notifier.sent) == 1
    assert service.state.ledger_status("ticket:2/route:billing/assign_group") == "done"
