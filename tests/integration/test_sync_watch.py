"""Sync-back finds the tickets to look at from what changed (migration 0007's sync_dirty), on
SQLite and PostgreSQL alike: the same tickets the join over every link found, reading only
the marked ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from afterhours.adapters.migrations import migrate
from afterhours.adapters.sql import Database, open_database
from afterhours.adapters.state import StateStore, ticket_to_json
from afterhours.adapters.state_sync import SeenIssue
from afterhours.adapters.state_watch import WATCHED, clear_watch, mark_watch
from afterhours.domain.model import JiraIssueRef
from afterhours.domain.sync_model import SYNC_PREFIX, TicketBaseline
from factories import make_ticket

pytestmark = pytest.mark.integration
AT = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
LATER = AT + timedelta(minutes=1)
URL = "https://acme.atlassian.net/browse/ENG-1"
SEEN = TicketBaseline("new", None, None)
# The query sync-back ran before migration 0007, word for word: the watched set's definition.
JOIN_OVER_EVERY_LINK = (
    "SELECT DISTINCT l.ticket_id FROM sync_links l"
    " JOIN tickets t ON t.id = l.ticket_id"
    " LEFT JOIN sync_issues i ON i.issue_key = l.issue_key"
    " LEFT JOIN sync_tickets s ON s.ticket_id = l.ticket_id"
    " WHERE (i.resolved IS NULL OR i.resolved = 0)"
    " AND (s.updated_at IS NULL OR s.updated_at <> t.updated_at"
    " OR EXISTS (SELECT 1 FROM ledger g WHERE g.ticket_id = l.ticket_id"
    " AND g.status = 'intended' AND g.key LIKE ?))"
    " ORDER BY l.ticket_id")


def _settled(state: StateStore, ticket_id: int, issue_key: str = "ENG-1") -> None:
    """A linked ticket stored and seen as stored: nothing for sync-back to look at."""
    state.store_ticket(make_ticket(id=ticket_id, updated_at=AT))
    state.add_sync_link(issue_key, ticket_id, source="label", since=AT, at=AT)
    state.set_ticket_baseline(ticket_id, SEEN, AT, updated_at=AT)


def _seed_version_6(db: Database) -> None:
    """A state at version 6 with a ticket of each kind, written as the code of then did."""
    migrate(db, target=6)
    stamps = {1: AT, 2: AT, 3: LATER, 4: AT, 5: AT, 7: AT}  # 6 is linked, never stored
    for ticket_id, stamp in stamps.items():
        db.execute("INSERT INTO tickets (id, open, updated_at, body, wake_at)"
                   " VALUES (?, 1, ?, ?, NULL)",
                   (ticket_id, stamp.isoformat(),
                    ticket_to_json(make_ticket(id=ticket_id, updated_at=stamp))))
    for ticket_id in range(1, 8):
        issue = "ENG-9" if ticket_id == 4 else "ENG-1"  # ENG-9 is seen resolved
        db.execute("INSERT INTO sync_links (issue_key, ticket_id, source, since, created_at)"
                   " VALUES (?, ?, 'label', NULL, ?)", (issue, ticket_id, AT.isoformat()))
    for key, resolved in (("ENG-1", 0), ("ENG-9", 1)):
        db.execute("INSERT INTO sync_issues (issue_key, url, updated, resolved, pending,"
                   " seen_at) VALUES (?, ?, ?, ?, 0, ?)",
                   (key, URL, AT.isoformat(), resolved, AT.isoformat()))
    # 1: never seen; 2, 4, 5, 7: seen as stored; 3: stored since; 5: a sync-back entry open.
    for ticket_id in (2, 3, 4, 5, 7):
        db.execute("INSERT INTO sync_tickets (ticket_id, status, solved_at, customer_update_at,"
                   " updated_at, seen_at) VALUES (?, 'new', NULL, NULL, ?, ?)",
                   (ticket_id, AT.isoformat(), AT.isoformat()))
    db.execute("INSERT INTO ledger (key, ticket_id, rule, action, status, reason, updated_at)"
               " VALUES (?, 5, 'sync:ENG-1', 'CommentOnIssue', 'intended', 'why', ?)",
               ("sync:ENG-1/ticket:5/solved@x/comment", AT.isoformat()))


def test_an_upgraded_state_watches_every_ticket_it_watched(state_url: str) -> None:
    db = open_database(state_url)
    try:
        _seed_version_6(db)
        before = [int(t) for (t,) in db.fetchall(JOIN_OVER_EVERY_LINK, (SYNC_PREFIX + "%",))]
        assert before == [1, 3, 5]
        migrate(db)
    finally:
        db.close()
    state = StateStore(state_url)
    try:
        assert state.watched_tickets() == before
        state.store_ticket(make_ticket(id=7, updated_at=LATER))  # settled ones still count
        assert state.watched_tickets() == [1, 3, 5, 7]
    finally:
        state.close()


def test_a_ticket_is_watched_again_when_it_changes(state: StateStore) -> None:
    _settled(state, 7)
    _settled(state, 8)
    assert state.watched_tickets() == []
    state.store_page([make_ticket(id=8, updated_at=LATER)], "cursor-1")
    assert state.watched_tickets() == [8]
    assert state.watched_tickets() == [8]  # until sync-back records what it saw
    state.set_ticket_baseline(8, SEEN, LATER, updated_at=LATER)
    assert state.watched_tickets() == []
    state.set_ticket_baseline(7, SEEN, LATER)  # afterhours' own change: look next pass
    assert state.watched_tickets() == [7]


def test_a_ticket_is_watched_while_sync_entries_are_open_and_once_linked(
    state: StateStore,
) -> None:
    _settled(state, 7)
    key = "sync:ENG-1/ticket:7/solved@x/comment"
    state.mark_intended(at=AT, ticket_id=7, key=key, rule="sync:ENG-1",
                        action="CommentOnIssue", reason="why")
    assert state.watched_tickets() == [7]
    state.record(at=AT, ticket_id=7, outcome="done", reason="why", status="done", key=key)
    assert state.watched_tickets() == []
    state.store_ticket(make_ticket(id=9, updated_at=AT))  # not linked: none of sync-back's
    assert state.watched_tickets() == []
    state.record_jira_issue(9, JiraIssueRef("ENG-2", URL), AT)
    assert state.watched_tickets() == [9]


def test_an_issue_seen_resolved_stops_the_watch_and_one_reopened_resumes_it(
    state: StateStore,
) -> None:
    _settled(state, 7)
    _settled(state, 8, issue_key="ENG-2")
    state.store_ticket(make_ticket(id=7, updated_at=LATER))
    state.store_ticket(make_ticket(id=8, updated_at=LATER))
    state.set_seen_issue(SeenIssue("ENG-1", URL, AT, resolved=True, pending=False), AT)
    assert state.watched_tickets() == [8]
    state.set_ticket_baseline(8, SEEN, LATER, updated_at=LATER)
    assert state.watched_tickets() == []
    state.set_seen_issue(SeenIssue("ENG-2", URL, LATER, resolved=True, pending=False), AT)
    state.set_seen_issue(SeenIssue("ENG-1", URL, LATER, resolved=False, pending=False), AT)
    assert state.watched_tickets() == [7]  # changed while its issue was resolved


def test_a_mark_made_after_the_look_is_kept(state: StateStore) -> None:
    _settled(state, 7)
    with state.batch():
        mark_watch(state._db, 7)
        read = [(int(t), int(m)) for t, m, _ in state._db.fetchall(
            WATCHED, (SYNC_PREFIX + "%",))]
        state.store_ticket(make_ticket(id=7, updated_at=LATER))  # stored after the look
        clear_watch(state._db, read)
    assert state.watched_tickets() == [7]


def test_a_quiet_look_reads_the_changed_tickets_not_every_link(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    state = StateStore(url)
    try:
        with state.batch():
            for ticket_id in range(1, 5001):
                _settled(state, ticket_id, issue_key=f"ENG-{ticket_id % 700}")
        db = open_database(url)
        try:
            # Each mark cleared as its ticket was seen: nothing left for the next look.
            assert db.fetchall("SELECT COUNT(*) FROM sync_dirty") == [(0,)]
            assert state.watched_tickets() == []
            state.store_ticket(make_ticket(id=4321, updated_at=LATER))
            assert db.fetchall("SELECT ticket_id FROM sync_dirty") == [(4321,)]
            plan = [str(row[-1]) for row in db.fetchall(
                "EXPLAIN QUERY PLAN " + WATCHED, (SYNC_PREFIX + "%",))]
        finally:
            db.close()
        assert state.watched_tickets() == [4321]
    finally:
        state.close()
    # Only the marks are scanned; every other table is read by key, through an index.
    scans = [step for step in plan if step.startswith("SCAN")]
    assert scans == ["SCAN d"], plan
    searches = [step for step in plan if step.startswith("SEARCH")]
    assert {step.split()[1] for step in searches} == {"l", "t", "i", "s", "g"}, plan
    assert all("INDEX" in step or "PRIMARY KEY" in step for step in searches), plan
