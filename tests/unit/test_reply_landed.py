"""afterhours' own acknowledgement landed while the notes after it were lost: the reply is
its own, so it never counts as a person's reply that stops a ladder (issue #21: a page
resolved then triggered again is a second incident)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from test_service import FakeDesk, FakeNotifier, FakeTracker

from afterhours.adapters.state import StateStore
from afterhours.clock import ManualClock
from afterhours.domain.actions import AddInternalNote, AddPublicReply, ZendeskAction
from afterhours.domain.model import History, Ticket
from afterhours.domain.planner import plan_actions
from afterhours.errors import NotesUnknownError
from afterhours.policy import load_policy
from afterhours.service import Service
from factories import SATURDAY_NIGHT, make_ticket

# The shipped SOP without its sync back (these fakes have no Jira to poll).
SOP = load_policy(Path(__file__).parents[2] / "config" / "policy.yaml").policy.model_copy(
    update={"sync_back": None})


class NotesLostDesk(FakeDesk):
    """Applies an update; when it carries a reply and notes, the notes' answer is lost."""

    def update_ticket(self, ticket: Ticket, changes: Sequence[ZendeskAction]) -> datetime:
        stamp = super().update_ticket(ticket, changes)
        kinds = {type(c) for c in changes}
        if {AddPublicReply, AddInternalNote} <= kinds:
            raise NotesUnknownError("zendesk", "the public reply was added; the notes after"
                                    " it failed: timed out")
        return stamp


def test_a_reply_that_landed_before_its_notes_were_lost_is_afterhours_own(
    state_url: str,
) -> None:
    p1 = make_ticket(id=1, subject="Checkout is down", description="Nobody can pay.",
                     priority="urgent", tags=frozenset({"p1"}))
    desk, notifier = NotesLostDesk([p1]), FakeNotifier()
    clock = ManualClock(SATURDAY_NIGHT + timedelta(minutes=5))
    state = StateStore(state_url)
    service = Service(desk=desk, tracker=FakeTracker(), notifier=notifier, state=state,
                      policy=SOP, clock=clock)
    try:
        service.run_pass()
        reply = "ticket:1/route:general-inquiry/reply"
        assert state.ledger_status(reply) == "done"  # it landed: Zendesk said so
        # Zendesk now counts that reply; the note after it is looked for, not yet known.
        desk.tickets = [replace(p1, replies=1, first_reply_at=clock(),
                                updated_at=clock() + timedelta(seconds=2))]
        desk.current[1] = desk.tickets[0]
        clock.advance(timedelta(minutes=31))
        service.run_pass()
        pages = [text for channel, text in notifier.sent if channel == "oncall-lead"]
        # Paged at once, and again at 30 minutes: no one replied.
        assert len(pages) == 2, notifier.sent
    finally:
        state.close()


def test_a_reply_of_afterhours_in_doubt_is_not_taken_for_a_person_s() -> None:
    # afterhours' acknowledgement went out and its answer was lost (a reset, a kill): the
    # ledger holds it intended while Zendesk already counts it.
    replied = make_ticket(id=1, subject="Checkout is down", description="Nobody can pay.",
                          priority="urgent", tags=frozenset({"p1"}), replies=1,
                          first_reply_at=SATURDAY_NIGHT + timedelta(minutes=1))
    now = SATURDAY_NIGHT + timedelta(minutes=40)
    page_again = "ticket:1/escalation:p1-after-hours/level:page-again/page"
    in_doubt = plan_actions(replied, SOP, now, History(replies_in_doubt=1))
    assert page_again in {p.key for p in in_doubt.actions}
    # Once it is known done, one reply is still afterhours' own; a second one is a person's.
    own = History(frozenset({"ticket:1/route:general-inquiry/reply"}))
    assert page_again in {p.key for p in plan_actions(replied, SOP, now, own).actions}
    person = replace(replied, replies=2)
    assert page_again not in {p.key for p in plan_actions(person, SOP, now, own).actions}


def test_the_ledger_tells_the_planner_of_replies_in_doubt(state_url: str) -> None:
    state = StateStore(state_url)
    try:
        for key, status in (("ticket:1/route:general-inquiry/reply", "intended"),
                            ("ticket:1/route:general-inquiry/add_tags", "done")):
            state.record(at=SATURDAY_NIGHT, ticket_id=1, outcome="intended", reason="planned",
                         key=key, rule="route:general-inquiry", action="AddPublicReply",
                         status=status)
        history = state.history(1)
        assert history.replies_in_doubt == 1
        assert history.settled == frozenset({"ticket:1/route:general-inquiry/add_tags"})
    finally:
        state.close()
