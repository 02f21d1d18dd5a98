"""The state store's ledger, audit trail and fence: the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from afterhours.adapters.lease import Lease
from afterhours.adapters.sql import open_database
from afterhours.adapters.state import StateStore
from afterhours.domain.model import JiraIssueRef
from afterhours.errors import LeaseLostError, StateError
from factories import make_ticket

pytestmark = pytest.mark.integration
AT = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
KEY = "ticket:7/route:bugs/create_jira_issue"



def intend(state: StateStore, key: str = KEY, at: datetime = AT) -> None:
    state.mark_intended(at=at, ticket_id=7, key=key, rule="route:bugs",
                        action="CreateJiraIssue", reason="a bug")


def test_each_attempt_is_counted_until_the_entry_is_settled(state: StateStore) -> None:
    intend(state)
    intend(state, at=AT + timedelta(minutes=1))
    assert state.attempts(7)[KEY].count == 2
    assert state.attempts(7)[KEY].last == AT + timedelta(minutes=1)
    assert state.intended(7) == [(KEY, "route:bugs", "CreateJiraIssue")]
    assert state.unsettled() == 1
    state.forget_attempt(KEY)
    assert state.attempts(7) == {}  # surely not landed: nothing to reconcile

    state.record(at=AT, ticket_id=7, key=KEY, rule="route:bugs", action="CreateJiraIssue",
                 outcome="done", status="done", reason="filed", detail={"issue_key": "ENG-1"})
    intend(state)  # a settled entry is never reopened by a late write-ahead
    assert state.ledger_entry(KEY) == ("done", "filed")
    assert state.history(7).settled == frozenset({KEY})
    assert (state.unsettled(), state.intended(7)) == (0, [])


def test_an_intended_entry_on_a_closed_ticket_is_found_for_closing_out(
    state: StateStore,
) -> None:
    state.store_page([make_ticket(id=7, status="solved")], "c")
    intend(state)
    assert state.intended_on_closed() == [(7, KEY, "route:bugs", "CreateJiraIssue")]


def test_the_first_jira_issue_of_a_ticket_is_kept(state: StateStore) -> None:
    state.record_jira_issue(7, JiraIssueRef("ENG-1", "https://jira/ENG-1"), AT)
    state.record_jira_issue(7, JiraIssueRef("ENG-2", "https://jira/ENG-2"), AT)
    assert state.history(7).jira_issue == JiraIssueRef("ENG-1", "https://jira/ENG-1")


def test_audit_rows_come_back_in_order_with_growing_ids(state: StateStore) -> None:
    for n in range(3):
        state.record(at=AT + timedelta(minutes=n), ticket_id=7 + n % 2, outcome="skipped",
                     reason=f"reason {n}", detail={"n": n})
    rows = state.audit()
    assert [r.detail["n"] for r in rows] == [0, 1, 2]
    assert rows[0].id < rows[1].id < rows[2].id
    assert [r.reason for r in state.audit(ticket_id=7)] == ["reason 0", "reason 2"]
    assert len(state.audit(limit=2)) == 2


def test_a_batch_is_written_whole_or_not_at_all(state: StateStore) -> None:
    def fail_half_way() -> None:
        with state.batch():
            intend(state, "ticket:7/a/b")
            state.record(at=AT, ticket_id=7, outcome="skipped", reason="x")
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        fail_half_way()
    assert (state.unsettled(), state.audit()) == (0, [])
    with state.batch():
        intend(state, "ticket:7/a/b")
        intend(state, "ticket:7/a/c")
    assert state.unsettled() == 2


def test_a_statement_that_fails_is_one_state_error_naming_where(state: StateStore) -> None:
    with pytest.raises(StateError) as failed:
        state.database.execute("SELECT nothing FROM nowhere")
    message = str(failed.value)
    assert message.startswith(f"AFTERHOURS_STATE_URL={state.where}: ")
    assert "\n" not in message
    assert not state.database.in_transaction


def test_a_fenced_store_refuses_writes_once_another_replica_leads(
    state: StateStore, state_url: str,
) -> None:
    mine, theirs = open_database(state_url), open_database(state_url)
    try:
        lease, rival = Lease(mine, holder="a"), Lease(theirs, holder="b")
        assert lease.try_acquire()
        state.fence_with(lease)
        intend(state)  # the holder writes
        theirs.execute("UPDATE lease SET expires_at = expires_at - 3600")  # a stalled holder
        assert rival.try_acquire()
        with pytest.raises(LeaseLostError, match=r"held by b \(token 2\)"):
            state.record(at=AT, ticket_id=7, key=KEY, rule="route:bugs",
                         action="CreateJiraIssue", outcome="done", status="done", reason="late")
        assert state.ledger_status(KEY) == "intended"  # nothing of the late write landed
        assert state.audit() == []
        assert state.attempts(7)[KEY].count == 1  # reads go on: a standby may look
    finally:
        mine.close()
        theirs.close()
