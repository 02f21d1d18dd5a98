"""Sync-back's part of the state on SQLite and PostgreSQL alike: links, what was seen, the
watermark, and its ledger entries kept apart from the ticket planner's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from afterhours.adapters.migrations import migrate
from afterhours.adapters.sql import open_database
from afterhours.adapters.state import StateStore
from afterhours.adapters.state_sync import SeenIssue
from afterhours.domain.model import JiraIssueRef
from afterhours.domain.sync_model import TicketBaseline
from factories import make_ticket

pytestmark = pytest.mark.integration
AT = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
URL = "https://acme.atlassian.net/browse/ENG-1"


def test_links_are_many_to_many_and_kept_once(state: StateStore) -> None:
    state.record_jira_issue(7, JiraIssueRef("ENG-1", URL), AT)  # linked as it is recorded
    assert state.sync_links("ENG-1") == [(7, None)]
    assert state.link_filed_issues(AT) == 0
    assert state.add_sync_link("ENG-1", 8, source="label", since=AT, at=AT)
    assert not state.add_sync_link("ENG-1", 8, source="label", since=AT, at=AT)
    assert state.add_sync_link("ENG-2", 7, source="label", since=AT, at=AT)
    assert state.sync_links("ENG-1") == [(7, None), (8, AT)]
    assert state.linked_issues(7) == ["ENG-1", "ENG-2"]
    assert state.linked_issue_keys() == {"ENG-1", "ENG-2"}


def test_what_was_seen_and_the_watermark(state: StateStore) -> None:
    assert state.sync_watermark() is None
    state.set_sync_watermark(AT)
    assert state.sync_watermark() == AT
    assert state.seen_issue("ENG-1") is None
    seen = SeenIssue("ENG-1", URL, AT, resolved=False, pending=True)
    state.set_seen_issue(seen, AT)
    assert state.seen_issue("ENG-1") == seen
    assert state.pending_issues() == ["ENG-1"]
    state.set_seen_issue(SeenIssue("ENG-1", URL, AT + timedelta(seconds=1), True, False), AT)
    assert state.pending_issues() == []
    baseline = TicketBaseline("solved", AT, AT - timedelta(hours=1))
    state.set_ticket_baseline(7, baseline, AT)
    assert state.ticket_baseline(7) == baseline
    assert state.ticket_baseline(8) is None


def test_a_ticket_is_watched_while_its_issue_is_open_and_it_changed(state: StateStore) -> None:
    for ticket in (7, 8):
        state.store_ticket(make_ticket(id=ticket, updated_at=AT))
        state.add_sync_link("ENG-1", ticket, source="label", since=AT, at=AT)
    state.add_sync_link("ENG-2", 8, source="label", since=AT, at=AT)
    state.add_sync_link("ENG-2", 9, source="label", since=AT, at=AT)  # never stored
    assert state.watched_tickets() == [7, 8]
    state.set_seen_issue(SeenIssue("ENG-1", URL, AT, resolved=True, pending=False), AT)
    assert state.watched_tickets() == [8]
    seen = TicketBaseline("new", None, None)
    state.set_ticket_baseline(8, seen, AT, updated_at=AT)
    assert state.watched_tickets() == []  # seen as it is stored
    state.mark_intended(at=AT, ticket_id=8, key="sync:ENG-2/ticket:8/solved@x/comment",
                        rule="sync:ENG-2", action="CommentOnIssue", reason="why")
    assert state.watched_tickets() == [8]  # until its flows are settled
    state.record(at=AT, ticket_id=8, outcome="done", reason="why", status="done",
                 key="sync:ENG-2/ticket:8/solved@x/comment")
    state.store_ticket(make_ticket(id=8, updated_at=AT + timedelta(minutes=1)))
    assert state.watched_tickets() == [8]  # stored since


def test_sync_entries_are_not_the_ticket_planners_to_settle(state: StateStore) -> None:
    state.store_ticket(make_ticket(id=7, status="solved"))
    for key in ("ticket:7/route:x/note", "sync:ENG-1/ticket:7/change:1/note"):
        state.mark_intended(at=AT, ticket_id=7, key=key, rule="r", action="AddInternalNote",
                            reason="why")
    assert [k for k, _, _ in state.intended(7)] == ["ticket:7/route:x/note"]
    assert [k for _, k, _, _ in state.intended_on_closed()] == ["ticket:7/route:x/note"]
    assert [k for k, _, _ in state.intended_sync(7)] == ["sync:ENG-1/ticket:7/change:1/note"]


def test_issues_filed_before_the_migration_are_adopted_from_now_on(state_url: str) -> None:
    db = open_database(state_url)
    try:
        migrate(db, target=5)
        db.execute("INSERT INTO jira_issues (ticket_id, issue_key, url, created_at)"
                   " VALUES (?, ?, ?, ?)", (7, "ENG-1", URL, AT.isoformat()))
        migrate(db)
    finally:
        db.close()
    opened = StateStore(state_url)
    try:
        [(ticket, since)] = opened.sync_links("ENG-1")
        assert ticket == 7
        assert since is not None
        assert since > AT  # its past does not flow back at once
    finally:
        opened.close()


def test_a_closed_ticket_that_filed_an_issue_is_planned_once_more(state: StateStore) -> None:
    # A kill after the create and before its link was planned; then an agent solved it: the
    # issue still needs its link, so the closed ticket goes to the planner once more.
    filed, paged, quiet = (make_ticket(id=n, status="solved", updated_at=AT) for n in (1, 2, 3))
    for ticket in (filed, paged, quiet):
        state.store_ticket(ticket)
    state.record(at=AT, ticket_id=1, outcome="done", reason="filed", status="done",
                 key="ticket:1/route:bug/create_jira_issue", rule="route:bug",
                 action="CreateJiraIssue")
    state.record(at=AT, ticket_id=2, outcome="done", reason="paged", status="done",
                 key="ticket:2/escalation:p1/level:1/page", rule="escalation:p1/level:1",
                 action="TriggerPage")
    assert [t.id for t in state.closed_with_pages([1, 2, 3])] == [1, 2]
    assert [t.id for t in state.closed_with_pages(None, since=AT)] == [1, 2]
