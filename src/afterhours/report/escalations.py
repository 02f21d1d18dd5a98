"""Escalations by ladder, level, target and outcome, from the daemon's audit rows. Pure.

A level fired once per note it left (every level leaves exactly one, as the metrics count
it). Its targets are what its actions reached: a page names who was on call (the daemon's
own reason says), a message its channel, a group or an agent by name. An escalation (a
ticket on a ladder) ended acknowledged when the daemon saw the ladder acknowledged or a
person replied, resolved when the ticket is solved or closed, else it is still open.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

from afterhours.domain.planner import tally_rule
from afterhours.report.model import Event, Section, table
from afterhours.report.tickets import Counted

PREFIX = "escalation:"
OUTCOMES = ("acknowledged", "resolved", "still open")
_ON_CALL = re.compile(r"; (?P<who>\S+) is on call for (?P<team>\S+)$")


def ladder_and_level(rule: str) -> tuple[str, str]:
    """`escalation:x/level:y@...` -> ('x', 'y')."""
    ladder, _, level = tally_rule(rule).removeprefix(PREFIX).partition("/level:")
    return ladder, level


def target_of(event: Event) -> str | None:
    """Whom or where an escalation's action reached; None for its notes and tags."""
    key, detail = event.key or "", event.detail
    if key.endswith("/page"):
        found = _ON_CALL.search(event.reason)
        return (f"on call: {found['who']} ({found['team']})" if found
                else f"page #{detail.get('channel', '?')}")
    if event.action == "NotifyChannel":
        return f"channel #{detail.get('channel', '?')}"
    if event.action == "AssignGroup":
        return f"group {detail.get('group', '?')}"
    if event.action == "AssignAgent":
        return f"agent {detail.get('email', '?')}"
    return None


def escalation_section(events: Sequence[Event], counted: Mapping[int, Counted]) -> Section:
    """Escalations of the period: how often each ladder and level fired, whom they reached
    and how each ended."""
    fired: Counter[str] = Counter()
    targets: Counter[str] = Counter()
    escalations: dict[tuple[int, str], str] = {}
    acknowledged: set[tuple[int, str]] = set()
    for event in events:
        if not event.rule or not event.rule.startswith(PREFIX) or event.ticket_id is None:
            continue
        ladder, level = ladder_and_level(event.rule)
        if event.outcome == "skipped" and event.reason.startswith("acknowledged"):
            acknowledged.add((event.ticket_id, ladder))
        if event.outcome != "done":
            continue
        escalations.setdefault((event.ticket_id, ladder), "still open")
        if (event.key or "").endswith("/note"):
            fired[f"{ladder} / {level}"] += 1
        target = target_of(event)
        if target is not None:
            targets[target] += 1
    for ticket_id, ladder in escalations:
        escalations[ticket_id, ladder] = _ended(counted.get(ticket_id),
                                                (ticket_id, ladder) in acknowledged)
    by_ladder: dict[str, Counter[str]] = {}
    for (_, ladder), outcome in sorted(escalations.items()):
        by_ladder.setdefault(ladder, Counter())[outcome] += 1
    outcomes = Counter(escalations.values())
    return Section(
        "escalations", "Escalations",
        (("tickets escalated", len({t for t, _ in escalations})),
         ("levels fired", sum(fired.values())),
         *((f"ended {o}" if o != "still open" else o, outcomes[o]) for o in OUTCOMES)),
        (
            table("escalations_by_ladder", "Escalations by ladder and outcome",
                  ("ladder", *OUTCOMES),
                  [(ladder, *(c[o] for o in OUTCOMES)) for ladder, c in by_ladder.items()],
                  chart="stacked", note="One escalation is one ticket on one ladder."),
            table("escalations_by_level", "Levels fired (repeats included)",
                  ("level", "fired"), sorted(fired.items())),
            table("escalations_by_target", "Whom the escalations reached",
                  ("target", "actions"), targets.most_common(),
                  note="A page names who was on call, as the daemon's reason recorded."),
            table("escalations_by_outcome", "How the escalations ended",
                  ("outcome", "escalations"), [(o, outcomes[o]) for o in OUTCOMES]),
        ),
    )


def _ended(ticket: Counted | None, acknowledged: bool) -> str:
    if ticket is not None and ticket.ticket.is_closed:
        return "resolved"
    if acknowledged or (ticket is not None and ticket.human_replied):
        return "acknowledged"
    return "still open"
