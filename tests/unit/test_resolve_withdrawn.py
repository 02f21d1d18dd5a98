"""An incident's resolve that a fresher plan does not hold is withdrawn, not settled: the
incident stays open until a resolve is sent, so a later plan must be able to intend it."""

from __future__ import annotations

from datetime import UTC, datetime

from afterhours.adapters.state import StateStore
from afterhours.clock import ManualClock
from afterhours.domain.actions import Plan
from afterhours.outcomes import Recorder

AT = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
RESOLVE = "ticket:7/escalation:p1/level:pager/notify/resolve"
NOTE = "ticket:7/escalation:p1/level:pager/note"


def test_a_resolve_no_longer_planned_is_withdrawn_and_other_entries_are_skipped(
    state: StateStore,
) -> None:
    recorder = Recorder(state, ManualClock(AT))
    for key, action in ((RESOLVE, "ResolvePage"), (NOTE, "AddInternalNote")):
        state.mark_intended(at=AT, ticket_id=7, key=key, rule="escalation:p1/level:pager",
                            action=action, reason="the level stopped")

    assert recorder.supersede(7, Plan(7)) == 1  # the note: settled as skipped

    history = state.history(7)
    assert NOTE in history.settled
    assert RESOLVE not in history.settled  # a later plan may still intend it
    assert state.intended(7) == []
    outcomes = {(row.key, row.outcome) for row in state.audit(ticket_id=7)}
    assert (RESOLVE, "deferred") in outcomes
    assert (NOTE, "skipped") in outcomes
