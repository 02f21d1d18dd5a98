"""Dry-run adapters: reads pass through, writes become log events, the state copy vanishes."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from afterhours.adapters.dryrun import (
    DryRunIssueTracker,
    DryRunNotifier,
    DryRunTicketDesk,
    ThrowawayState,
)
from afterhours.adapters.one_by_one import EachIssue, EachTicket
from afterhours.adapters.ports import ExportPage
from afterhours.adapters.state import SqliteState
from afterhours.domain.actions import (
    AddInternalNote,
    AddTags,
    AssignGroup,
    CreateJiraIssue,
    LinkJiraIssue,
    SetPriority,
    ZendeskAction,
)
from afterhours.domain.model import JiraIssueRef, Ticket
from afterhours.errors import StateError
from factories import SATURDAY_NIGHT, issue_text, make_ticket

TICKET = make_ticket(id=7, updated_at=SATURDAY_NIGHT + timedelta(minutes=5))
FILE_IT = CreateJiraIssue(7, "ENG", "Bug", "Crash on login", issue_text(), ("zendesk-7",))


class RecordingDesk(EachTicket):
    """Serves one ticket and records every call made to it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def export_page(self, cursor: str | None, start_time: datetime) -> ExportPage:
        self.calls.append("export_page")
        return ExportPage((TICKET,), "cursor-1", end_of_stream=True)

    def fetch_ticket(self, ticket_id: int) -> Ticket | None:
        self.calls.append("fetch_ticket")
        return TICKET

    def has_note(self, ticket_id: int, marker: str) -> bool:
        self.calls.append("has_note")
        return False

    def update_ticket(self, ticket: Ticket, changes: Sequence[ZendeskAction]) -> datetime:
        self.calls.append("update_ticket")
        return ticket.updated_at + timedelta(seconds=1)

    def close(self) -> None:
        self.calls.append("close")


class RecordingTracker(EachIssue):
    """Knows the issues in `filed` and records every call made to it."""

    def __init__(self, filed: dict[int, JiraIssueRef] | None = None) -> None:
        self.filed = filed or {}
        self.calls: list[str] = []

    def find_issue(self, ticket_id: int) -> JiraIssueRef | None:
        self.calls.append("find_issue")
        return self.filed.get(ticket_id)

    def create_issue(self, action: CreateJiraIssue) -> JiraIssueRef:
        self.calls.append("create_issue")
        return JiraIssueRef("ENG-1", "https://jira.example/browse/ENG-1")

    def link_issue(self, action: LinkJiraIssue) -> None:
        self.calls.append("link_issue")

    def close(self) -> None:
        self.calls.append("close")


def test_the_desk_reads_for_real_and_only_logs_the_update() -> None:
    real = RecordingDesk()
    desk = DryRunTicketDesk(real)
    changes = [SetPriority(7, "urgent"), AddTags(7, ("p1", "billing")), AddInternalNote(7, "n")]
    with capture_logs() as logs:
        page = desk.export_page(None, SATURDAY_NIGHT)
        assert desk.has_note(7, "marker") is False
        updated_at = desk.update_ticket(TICKET, changes)
        desk.close()
    assert page.tickets == (TICKET,)
    assert updated_at == TICKET.updated_at  # its own stamp: nobody changed it
    assert real.calls == ["export_page", "has_note", "close"]
    assert logs == [{
        "event": "dryrun.would_update", "log_level": "info", "ticket_id": 7,
        "changes": [
            {"action": "SetPriority", "priority": "urgent"},
            {"action": "AddTags", "tags": ["p1", "billing"]},
            {"action": "AddInternalNote", "body": "n"},
        ],
    }]


def test_later_reads_see_what_the_update_would_have_changed() -> None:
    # The live daemon would see its own update in the next export (and plan the escalation
    # that a new priority makes due): so must a dry run that keeps going.
    desk = DryRunTicketDesk(RecordingDesk())
    desk.export_page(None, SATURDAY_NIGHT)
    with capture_logs():
        desk.update_ticket(TICKET, [SetPriority(7, "urgent"), AddTags(7, ("p1",))])
        desk.update_ticket(TICKET, [AssignGroup(7, "Finance"), AddInternalNote(7, "[k-1]")])
    fetched = desk.fetch_ticket(7)
    assert fetched is not None
    assert (fetched.priority, fetched.tags, fetched.group) == ("urgent", {"p1"}, "Finance")
    [exported] = desk.export_page("cursor-1", SATURDAY_NIGHT).tickets
    assert exported == fetched
    assert desk.has_note(7, "[k-1]") is True


def test_an_updated_ticket_shows_in_the_next_export_even_when_zendesk_lists_nothing() -> None:
    class QuietDesk(RecordingDesk):
        def export_page(self, cursor: str | None, start_time: datetime) -> ExportPage:
            return ExportPage((), "cursor-2", end_of_stream=True)

    desk = DryRunTicketDesk(QuietDesk())
    with capture_logs():
        desk.update_ticket(TICKET, [SetPriority(7, "high")])
    [ticket] = desk.export_page("cursor-1", SATURDAY_NIGHT).tickets
    assert (ticket.id, ticket.priority) == (7, "high")
    assert desk.export_page("cursor-2", SATURDAY_NIGHT).tickets == ()  # once, as Zendesk would


def test_the_tracker_searches_for_real_and_answers_with_a_plainly_fake_issue() -> None:
    filed = JiraIssueRef("ENG-9", "https://jira.example/browse/ENG-9")
    real = RecordingTracker({8: filed})
    tracker = DryRunIssueTracker(real)
    link = LinkJiraIssue(7, "DRYRUN-7", TICKET.web_url, "Crash on login")
    with capture_logs() as logs:
        assert tracker.find_issue(8) == filed
        issue = tracker.create_issue(FILE_IT)
        tracker.link_issue(link)
        tracker.close()
    assert issue.key == "DRYRUN-7"
    assert ".invalid/" in issue.url
    assert real.calls == ["find_issue", "close"]  # a search, never a create or a link
    assert [e["event"] for e in logs] == ["dryrun.would_create_issue", "dryrun.would_link_issue"]
    assert logs[0] | {"labels": ["zendesk-7"], "project": "ENG"} == logs[0]
    assert logs[1]["issue_key"] == "DRYRUN-7"


def test_the_notifier_logs_the_channel_and_text_only() -> None:
    with capture_logs() as logs:
        DryRunNotifier().notify("finance", "Ticket 7: refund", key="k-1")
    assert logs == [{"event": "dryrun.would_notify", "log_level": "info",
                     "channel": "finance", "text": "Ticket 7: refund", "key": "k-1"}]


def _real_state(path: Path) -> None:
    state = SqliteState(path)
    state.store_page([TICKET], "cursor-1")
    state.record(at=SATURDAY_NIGHT, ticket_id=7, key="k-done", rule="r", action="AddTags",
                 outcome="done", reason="earlier", status="done")
    state.close()


def test_the_state_copy_starts_from_the_real_ledger_and_its_writes_vanish(
    tmp_path: Path,
) -> None:
    real = tmp_path / "state.sqlite3"
    _real_state(real)
    before = real.read_bytes()
    files_before = sorted(tmp_path.iterdir())

    state = ThrowawayState(real)
    assert state.history(7).settled == {"k-done"}
    assert state.export_cursor() == "cursor-1"
    state.record(at=SATURDAY_NIGHT, ticket_id=7, key="k-new", rule="r", action="AddTags",
                 outcome="done", reason="dry", status="done")
    assert state.history(7).settled == {"k-done", "k-new"}
    scratch = state._scratch
    state.close()

    assert not scratch.exists()
    assert real.read_bytes() == before
    assert sorted(tmp_path.iterdir()) == files_before  # no -wal or -shm left beside it
    again = SqliteState(real)
    assert again.history(7).settled == {"k-done"}
    again.close()


def test_the_state_copy_sees_commits_a_running_daemon_holds_in_its_wal(tmp_path: Path) -> None:
    real = tmp_path / "state.sqlite3"
    _real_state(real)
    daemon = SqliteState(real)  # open, as a live daemon's is: its commits sit in the -wal
    daemon.record(at=SATURDAY_NIGHT, ticket_id=7, key="k-live", rule="r", action="AddTags",
                  outcome="done", reason="live", status="done")
    assert Path(f"{real}-wal").stat().st_size > 0
    before = real.read_bytes(), Path(f"{real}-wal").read_bytes()

    state = ThrowawayState(real)
    assert state.history(7).settled == {"k-done", "k-live"}
    state.close()

    assert (real.read_bytes(), Path(f"{real}-wal").read_bytes()) == before
    daemon.close()


def test_without_a_state_file_the_copy_starts_empty_and_none_is_created(
    tmp_path: Path,
) -> None:
    real = tmp_path / "nowhere" / "state.sqlite3"
    state = ThrowawayState(real)
    assert state.export_cursor() is None
    state.close()
    assert not real.parent.exists()


def test_a_copy_that_cannot_be_read_leaves_no_scratch_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "state.sqlite3"
    real.write_bytes(b"not a database at all" * 100)
    scratch_root = tmp_path / "tmp"
    scratch_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_root))
    with pytest.raises(StateError, match=f"AFTERHOURS_STATE_DB={real}: it is not a SQLite"):
        ThrowawayState(real)
    assert list(scratch_root.iterdir()) == []
