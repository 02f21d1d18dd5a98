"""Escalation timing: when a level falls due, what stops it, and which occurrence is current.

Pure functions of a ticket, a policy and a moment; the planner and `explain` share them so the
deadlines a lead is shown are the ones the daemon acts on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from afterhours.domain.frozen import quick_init
from afterhours.domain.model import CLOSED_STATUSES, Acknowledged, History, Ticket
from afterhours.domain.schedule import add_business_minutes, minutes_of
from afterhours.policy.model import Policy
from afterhours.policy.rules import (
    Escalation,
    EscalationLevel,
    level_key,
    rule_key,
)

REPLY_STEP = "reply"
# The ticket waits on the requester (pending) or needs nothing more: an answer was given.
ANSWERED = frozenset({"pending", "solved", "closed", "deleted"})


class LevelTiming(Protocol):
    """What the timing of a level reads: an `EscalationLevel`, or the planner's plain copy of
    one (domain.compiled), whose fields cost less to read than a pydantic model's."""

    @property
    def after_minutes(self) -> int: ...
    @property
    def from_(self) -> Literal["created", "last_customer_update", "first_reply_due"]: ...
    @property
    def until(self) -> Literal["first_reply", "answered", "solved"]: ...
    @property
    def clock(self) -> Literal["calendar", "business"]: ...
    @property
    def repeat_every_minutes(self) -> int | None: ...
    @property
    def max_repeats(self) -> int: ...


def add_minutes(start: datetime, minutes: int, clock: Literal["calendar", "business"],
                policy: Policy) -> datetime | None:
    """`minutes` after `start` on `clock`; None when a business clock never opens."""
    if clock == "business":
        return add_business_minutes(start, minutes, policy.schedule)
    return start + minutes_of(minutes)


def reply_by(ticket: Ticket, policy: Policy) -> datetime | None:
    """When the first reply is promised for `ticket`'s priority; None without a promise."""
    priority, created = ticket.priority, ticket.created_at
    last = _last_promise[0]
    if last[0] is policy and last[1] == priority and last[2] == created:
        return last[3]
    promise = policy.reply_promises.get(priority or "none")  # type: ignore[call-overload]
    due = None if promise is None else add_minutes(created, promise.minutes, promise.clock,
                                                   policy)
    _last_promise[0] = (policy, priority, created, due)  # one assignment: never half of one
    return due


# The last promise worked out: a plan asks for it several times (its template's {reply_by},
# a ladder counting from it), each time a sum of business minutes.
_last_promise: list[tuple[Policy | None, str | None, datetime | None, datetime | None]] = [
    (None, None, None, None)]


def level_anchor(ticket: Ticket, level: LevelTiming, policy: Policy) -> datetime | None:
    """The moment a level's minutes count from; None when it has none yet."""
    if level.from_ == "last_customer_update":
        return ticket.last_customer_update_at or ticket.created_at
    if level.from_ == "first_reply_due":
        return reply_by(ticket, policy)
    return ticket.created_at


def escalation_due(ticket: Ticket, level: LevelTiming, policy: Policy) -> datetime | None:
    """When `level` first falls due for `ticket`; None when it never can."""
    if level.from_ == "created" and level.clock == "calendar":  # most levels: no anchor to find
        return ticket.created_at + minutes_of(level.after_minutes)
    anchor = level_anchor(ticket, level, policy)
    if anchor is None:
        return None
    return add_minutes(anchor, level.after_minutes, level.clock, policy)


def level_rule(ladder: Escalation, number: int, level: EscalationLevel, ticket: Ticket, *,
               occurrence: int = 0) -> str:
    """The rule name a level's actions are keyed under: one key per ladder, level, cycle
    (a new customer comment starts a level measured from it again) and repeat."""
    return cycle_rule(level_base(ladder, number, level), level, ticket, occurrence)


def level_base(ladder: Escalation, number: int, level: EscalationLevel) -> str:
    """A level's rule name without its cycle or repeat: the same for every ticket."""
    return f"escalation:{rule_key(ladder)}/level:{level_key(number, level)}"


def cycle_rule(base: str, level: LevelTiming, ticket: Ticket, occurrence: int) -> str:
    """`level_rule` from the level's `level_base`."""
    name = base
    if level.from_ == "last_customer_update":
        anchor = ticket.last_customer_update_at or ticket.created_at
        name += "@" + anchor.strftime("%Y%m%dT%H%M%S")
    return name + (f"/repeat:{occurrence}" if occurrence else "")


@quick_init
@dataclass(frozen=True)
class Occurrence:
    """The latest time a level fell due by `now`: 0 for the first, then each repeat."""

    number: int
    due: datetime


def current_occurrence(ticket: Ticket, level: LevelTiming, policy: Policy,
                       now: datetime) -> Occurrence | None:
    """The occurrence of `level` due at `now`, the latest one only (a daemon that was down
    does not send the missed repeats in a burst); None when nothing is due yet."""
    return occurrences(ticket, level, policy, now)[0]


def occurrences(ticket: Ticket, level: LevelTiming, policy: Policy,
                now: datetime) -> tuple[Occurrence | None, datetime | None]:
    """`current_occurrence`, and when the one after it falls due: the first when none is
    due yet, the next repeat when one is; None when no other ever will."""
    due = escalation_due(ticket, level, policy)
    if due is None:
        return None, None
    if now < due:
        return None, due
    return occurrences_since(due, level, policy, now)


def occurrences_since(due: datetime, level: LevelTiming, policy: Policy,
                      now: datetime) -> tuple[Occurrence, datetime | None]:
    """`occurrences` of a level that first fell due at `due`, by `now` (not before it)."""
    if level.repeat_every_minutes is None:
        return Occurrence(0, due), None
    return _repeats(due, level, policy, now)


def _repeats(due: datetime, level: LevelTiming, policy: Policy,
             now: datetime) -> tuple[Occurrence, datetime | None]:
    # The occurrences of a repeating level due by `now`: the latest, and the one after it.
    every = level.repeat_every_minutes
    assert every is not None  # noqa: S101  (only a repeating level has repeats)
    if level.clock == "calendar":
        # Calendar repeats are evenly spaced: the latest is found by division, not by a walk
        # (datetime arithmetic is exact, so it is the very moment the walk would reach).
        step = minutes_of(every)
        number = min((now - due) // step, level.max_repeats)
        at = due + number * step
        return Occurrence(number, at), (at + step if number < level.max_repeats else None)
    found = Occurrence(0, due)
    for number in range(1, level.max_repeats + 1):
        following = add_minutes(found.due, every, level.clock, policy)
        if following is None:
            return found, None
        if now < following:
            return found, following
        found = Occurrence(number, following)
    return found, None


def own_replies(history: History) -> int:
    """How many public replies afterhours itself has settled on the ticket, and those it
    intended whose outcome is not known yet (they may have landed)."""
    settled = history.settled
    own = sum(1 for key in settled if key.endswith("/" + REPLY_STEP)) if settled else 0
    return own + history.replies_in_doubt


def human_replied(ticket: Ticket, own: int) -> bool:
    """Whether someone other than afterhours has replied in public."""
    # Zendesk counts every public agent comment, afterhours' acknowledgement included.
    # max(replies, 1 once a first reply is known), without a call: asked of every level.
    replies = ticket.replies
    if replies < 1 and ticket.first_reply_at is not None:
        replies = 1
    return replies > own


@quick_init
@dataclass(frozen=True)
class Stop:
    """What made a level unnecessary: the event (its words as a lead says them), the reason
    the planner gives, and when the event happened (None when the ticket does not say)."""

    event: str
    reason: str
    at: datetime | None


_CLOSING = {"solved": "solving", "closed": "closing", "deleted": "deletion"}


def level_stop(ticket: Ticket, level: LevelTiming, own: int) -> Stop | None:
    """Why `level` is no longer needed for `ticket`, and the event that ended it: its `until`
    when that happened (a reply comes before the solve), else the ticket's closing; None when
    the level is still needed. The planner, `explain` and `replay` all ask this."""
    if level.until == "first_reply" and human_replied(ticket, own):
        # Zendesk's first reply time is afterhours' own reply when that came first.
        return Stop("the first reply", "an agent has replied in public",
                    ticket.first_reply_at if own == 0 else None)
    if ticket.status in CLOSED_STATUSES:  # is_closed, inline: asked of every level
        # The export says when a ticket was solved, else only when it last changed.
        return Stop(_CLOSING.get(ticket.status, "closing"), f"the ticket is {ticket.status}",
                    ticket.solved_at or ticket.updated_at)
    if level.until == "solved" and ticket.solved_at is not None:
        return Stop("solving", "the ticket has been solved", ticket.solved_at)
    if level.until == "answered" and ticket.status in ANSWERED:
        # The export says when the ticket last changed, not when it went pending.
        return Stop("an answer", f"the ticket is {ticket.status}: it waits on the requester",
                    ticket.updated_at)
    return None


class Acknowledging(Protocol):
    """What `acknowledged` reads: an `Acknowledgement`, or the planner's plain copy of one."""

    @property
    def tags(self) -> Sequence[str]: ...
    @property
    def assignee(self) -> bool: ...
    @property
    def public_reply(self) -> bool: ...
    @property
    def responder(self) -> bool: ...


def acknowledged(ticket: Ticket, by: Acknowledging, own: int,
                 responder: Acknowledged | None = None) -> str | None:
    """What shows a person has taken the ticket, stopping its ladder; None when nothing.
    `responder`: the acknowledgement of a page or message the ledger holds, if any."""
    if responder is not None and by.responder:
        return responder.said()
    tags = ticket.tags
    for tag in by.tags:  # the first in the policy's order (a loop: next() costs a generator)
        if tag in tags:
            return f"acknowledged: tag {tag!r}"
    if by.assignee and ticket.assignee is not None:
        return f"acknowledged: assigned to {ticket.assignee}"
    if by.public_reply and human_replied(ticket, own):
        return "acknowledged: an agent has replied in public"
    return None
