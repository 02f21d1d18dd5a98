"""The deadline index's promise, for any ticket, policy and moment: a ticket left alone plans
the same at any moment before its wake-up (Plan.wake_at) as it does now, so a pass that plans
only the tickets due loses nothing; and at the wake-up itself something is there to do."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st
from test_planner_properties import (
    CHANNELS,
    GROUPS,
    PROPERTIES,
    TAGS,
    apply,
    policies,
    settle,
    tickets,
)

from afterhours.domain.model import History
from afterhours.domain.planner import plan_actions
from afterhours.policy.model import Policy


@st.composite
def timed_ladders(draw: st.DrawFn, name: str) -> dict[str, Any]:
    """A ladder whose levels count from any `from:`, on either clock, maybe repeating."""
    levels = []
    for _ in range(draw(st.integers(1, 3))):
        level = draw(st.fixed_dictionaries(
            {
                "after_minutes": st.integers(0, 3 * 24 * 60),
                "from": st.sampled_from(["created", "last_customer_update", "first_reply_due"]),
                "until": st.sampled_from(["first_reply", "answered", "solved"]),
                "clock": st.sampled_from(["calendar", "business"]),
            },
            optional={
                "notify": st.sampled_from(CHANNELS),
                "group": st.sampled_from(GROUPS),
                "tags": st.lists(st.sampled_from(TAGS), max_size=2),
            },
        ))
        if draw(st.booleans()):
            level |= {"repeat_every_minutes": draw(st.integers(1, 12 * 60)),
                      "max_repeats": draw(st.integers(1, 4))}
        levels.append(level)
    acknowledged = draw(st.fixed_dictionaries({}, optional={
        "tags": st.lists(st.sampled_from(TAGS), min_size=1, max_size=2),
        "public_reply": st.booleans()}))
    return {"name": name, "acknowledged_by": acknowledged, "levels": levels}


@st.composite
def timed_policies(draw: st.DrawFn) -> Policy:
    """`policies()` with ladders of every kind added, and promises on either clock."""
    spec = draw(policies()).model_dump(by_alias=True, exclude_none=True)
    ladders = [draw(timed_ladders(f"timed-{n}")) for n in range(draw(st.integers(1, 2)))]
    # Every ladder applies (under `first`, ladders after a catch-all could never match).
    spec["escalations"] = {"match": "all", "rules": [*spec["escalations"]["rules"], *ladders]}
    spec["reply_promises"] = {
        priority: {"minutes": draw(st.integers(1, 2 * 24 * 60)),
                   "clock": draw(st.sampled_from(["calendar", "business"]))}
        for priority in draw(st.lists(st.sampled_from(["urgent", "high", "normal", "low",
                                                       "none"]), min_size=1, unique=True))
    }
    return Policy.model_validate(spec)


@PROPERTIES
@given(data=st.data())
def test_nothing_falls_due_before_the_wake_up(data: st.DataObject) -> None:
    policy = data.draw(timed_policies())
    ticket = data.draw(tickets(statuses=("new", "open", "pending", "hold", "solved")))
    updated = data.draw(st.none() | st.integers(0, 2 * 24 * 60))
    if updated is not None:
        ticket = dataclasses.replace(
            ticket, last_customer_update_at=ticket.created_at + timedelta(minutes=updated))
    now = ticket.created_at + timedelta(minutes=data.draw(st.integers(0, 6 * 24 * 60)))
    history = History()
    first = plan_actions(ticket, policy, now, history)
    if first.actions:  # acted on at once: the plan after the actions decides
        assert first.wake_at == now
    # Carried out, as the daemon does in one pass: what is left is what it stores.
    for plan in settle(ticket, policy, now, history):
        ticket, history = apply(plan, ticket, history)
    rest = plan_actions(ticket, policy, now, history)
    assert not rest
    if rest.wake_at is None:
        event("never wakes")
        later = now + timedelta(minutes=data.draw(st.integers(0, 60 * 24 * 60)))
        assert plan_actions(ticket, policy, later, history) == rest
        return
    event("wakes")
    assert rest.wake_at > now
    span = (rest.wake_at - now) // timedelta(microseconds=1)
    before = now + timedelta(microseconds=data.draw(st.integers(0, span - 1)))
    assert plan_actions(ticket, policy, before, history) == rest
    assert plan_actions(ticket, policy, rest.wake_at - timedelta(microseconds=1), history) == rest
    # Not early either: at the wake-up a level falls due (to act, or to be acknowledged).
    assert plan_actions(ticket, policy, rest.wake_at, history)
