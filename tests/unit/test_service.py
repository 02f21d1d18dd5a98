"""The service loop with fakes for our own ports: what happens when one side fails."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from afterhours.adapters.ports import ExportPage
from afterhours.adapters.state import SqliteState
from afterhours.clock import ManualClock
from afterhours.domain.actions import (
    AssignGroup,
    CreateJiraIssue,
    LinkJiraIssue,
    ZendeskAction,
)
from afterhours.domain.model import JiraIssueRef, Ticket
from afterhours.errors import AccessError, ConflictError, PermanentError, TransientError
from afterhours.policy import load_policy
from afterhours.service import Service
from factories import SATURDAY_NIGHT, make_ticket

POLICY = load_policy(Path(__file__).parents[2] / "config" / "policy.yaml").policy


class FakeDesk:
    """Serves one export page and records updates; `fail` decides how an update fails."""

    def __init__(self, tickets: Sequence[Ticket]) -> None:
        self.tickets = list(tickets)
        self.updates: list[list[ZendeskAction]] = []
        self.fail: Exception | None = None
        self.bad_group: str | None = None

    def export_page(self, cursor: str | None, start_time: datetime) -> ExportPage:
        page, self.tickets = tuple(self.tickets), []
        return ExportPage(page, "cursor-1", end_of_stream=True)

    def update_ticket(self, ticket: Ticket, changes: Sequence[ZendeskAction]) -> datetime:
        if self.fail is not None:
            raise self.fail
        if any(isinstance(c, AssignGroup) and c.group == self.bad_group for c in changes):
            raise PermanentError("zendesk", "unknown group", status=422)
        self.updates.append(list(changes))
        return ticket.updated_at + timedelta(seconds=1)

    def close(self) -> None:
        """Nothing to release."""


class FakeTracker:
    """Files issues in a list."""

    def __init__(self) -> None:
        self.created: list[CreateJiraIssue] = []

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

    def notify(self, channel: str, text: str) -> None:
        if self.boom is not None:
            raise self.boom
        self.sent.append((channel, text))

    def close(self) -> None:
        """Nothing to release."""


@pytest.fixture
def parts(tmp_path: Path) -> tuple[FakeDesk, FakeTracker, FakeNotifier, Service]:
    urgent = make_ticket(
        id=1, subject="Checkout is down", priority="urgent", tags=frozenset({"p1"})
    )
    desk, tracker, notifier = FakeDesk([urgent]), FakeTracker(), FakeNotifier()
    clock = ManualClock(SATURDAY_NIGHT + timedelta(minutes=5))
    service = Service(
        desk=desk,
        tracker=tracker,
        notifier=notifier,
        state=SqliteState(tmp_path / "state.sqlite3"),
        policy=POLICY,
        clock=clock,
    )
    return desk, tracker, notifier, service


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


def test_a_conflict_holds_the_whole_plan_for_the_next_pass(
    parts: tuple[FakeDesk, FakeTracker, FakeNotifier, Service],
) -> None:
    desk, _, notifier, service = parts
    desk.fail = ConflictError("zendesk", "changed", status=409)
    advance(service, timedelta(hours=1))
    report = service.run_pass()
    assert report.conflicts == 1
    assert notifier.sent == []
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
    notifier.boom = AccessError("chat", "finance: HTTP 404", status=404)
    report = service.run_pass()
    assert (report.deferred, report.failed) == (1, 0)
    assert service.state.ledger_status("ticket:2/route:billing/notify") == "intended"
    notifier.boom = None  # the webhook URL was replaced
    service.run_pass()
    assert [channel for channel, _ in notifier.sent] == ["finance"]
