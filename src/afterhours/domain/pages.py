"""PagerDuty pages as the planner plans them: the trigger a level sends to a channel of type
pagerduty, and the resolve once that level is stopped. Pure, like the rest of the planner.

A level's page is one incident. Its `dedup_key` is the ledger key of the level's first page
(`ticket:<id>/<level rule>/<step>`, the rule without its repeat), so a retried trigger, one
sent again after a kill between the send and the ledger write, and the level's repeats all
land on the same incident. Once the level stops (its until:, the ticket's closing, an
acknowledgement, or its ladder no longer applying), the latest page's key gets a `/resolve`
step: the incident is resolved once, and a page sent after the ticket reopens is resolved
again in its turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING

from afterhours.domain.actions import ResolvePage, TriggerPage
from afterhours.domain.issue_text import own_link
from afterhours.domain.ladders import acknowledged, level_rule, level_stop
from afterhours.domain.memo import by_identity
from afterhours.domain.model import Ticket
from afterhours.domain.text import one_line
from afterhours.policy.model import Policy
from afterhours.policy.rules import Escalation, EscalationLevel, level_key, rule_key

if TYPE_CHECKING:
    from afterhours.domain.effects import PlanBuilder

# PagerDuty's severities, from the ticket's Zendesk priority; a ticket without one: warning.
SEVERITY = {"urgent": "critical", "high": "error", "normal": "warning", "low": "info"}
SUMMARY_LIMIT = 1024  # PagerDuty refuses a longer payload.summary
REPEAT = "/repeat:"
RESOLVE = "resolve"


def severity(priority: str | None) -> str:
    """The PagerDuty severity of a ticket's priority."""
    return SEVERITY.get(priority or "", "warning")


def summary(ticket: Ticket, title: str | None) -> str:
    """The incident's one line: the ticket, its priority, the level that pages (`title`),
    and the subject (the only customer text in a page), cut to PagerDuty's limit."""
    said = f" {title}:" if title else ":"
    head = f"Zendesk #{ticket.id} ({ticket.priority or 'no priority'}){said} "
    return head + one_line(ticket.subject, SUMMARY_LIMIT - len(head))


def trigger(builder: PlanBuilder, rule: str, step: str, channel: str) -> TriggerPage:
    """The page a level's `step` (notify or page) sends to the PagerDuty `channel`."""
    view = builder.view
    dedup = builder.key(rule.partition(REPEAT)[0], step)
    details = (("ticket", str(view.id)), ("priority", view.priority or "none"), ("rule", rule))
    return TriggerPage(view.id, channel, dedup, summary(view, builder.level_title),
                       severity(view.priority), own_link(view.web_url), details)


@dataclass(frozen=True)
class PagingLevel:
    """A level that pages PagerDuty: its ladder, position, and the (step, channel) pairs."""

    ladder: Escalation
    number: int
    level: EscalationLevel
    steps: tuple[tuple[str, str], ...]


def _paging_levels(policy: Policy) -> tuple[PagingLevel, ...]:
    return target_levels(policy, "pagerduty")


def target_levels(policy: Policy, kind: str) -> tuple[PagingLevel, ...]:
    """The escalation levels that send to a channel of type `kind`, with those steps."""
    found = []
    for ladder in policy.escalations.rules:
        for number, level in enumerate(ladder.levels, start=1):
            team = policy.oncall.get(level.page) if level.page is not None else None
            targets = (("notify", level.notify), ("page", team.channel if team else None))
            steps = tuple((step, name) for step, name in targets if name is not None
                          and (channel := policy.channels.get(name)) is not None
                          and channel.type == kind)
            if steps:
                found.append(PagingLevel(ladder, number, level, steps))
    return tuple(found)


# The paging levels of each policy, found once per policy.
paging_levels = by_identity(_paging_levels, limit=64)


def plan_resolves(builder: PlanBuilder) -> None:
    """Plan a resolve for each incident a paging level opened that is no longer needed: the
    level stopped, or was acknowledged, or its ladder applies no more (`builder.live` holds
    the levels this plan found still needed)."""
    levels = paging_levels(builder.policy)
    if not levels:
        return
    view, settled = builder.view, builder.history.settled
    for paging in levels:
        level = paging.level
        current = level_rule(paging.ladder, paging.number, level, view)
        live = current in builder.live
        for step, channel in paging.steps:
            for cycle in _cycles(builder, paging, current, step):
                if live and cycle == current:
                    continue
                latest = _latest_page(builder, cycle, step, level)
                if latest is None or builder.key(latest, f"{step}/{RESOLVE}") in settled:
                    continue
                why = (_why_stopped(builder, paging) if cycle == current else
                       "the requester wrote again: the level counts from their update anew")
                builder.act(latest, f"{step}/{RESOLVE}", why,
                            ResolvePage(view.id, channel, builder.key(cycle, step)))


def _cycles(builder: PlanBuilder, paging: PagingLevel, current: str, step: str
            ) -> Iterator[str]:
    """The level's rule for its current cycle, and for a level measured from the requester's
    last update each earlier cycle that paged (its rule carries the update's moment)."""
    yield current
    if paging.level.from_ != "last_customer_update":
        return
    base = (f"ticket:{builder.ticket.id}/escalation:{rule_key(paging.ladder)}"
            f"/level:{level_key(paging.number, paging.level)}@")
    ending = f"/{step}"
    skip = len(f"ticket:{builder.ticket.id}/")
    for key in builder.history.settled:
        if key.startswith(base) and key.endswith(ending) and REPEAT not in key:
            cycle = key[skip:-len(ending)]
            if cycle != current:
                yield cycle


def _latest_page(builder: PlanBuilder, cycle: str, step: str,
                 level: EscalationLevel) -> str | None:
    """The rule of the latest page of the level's cycle that is settled (sent, or given up
    while it may have been sent); None when it never paged."""
    settled = builder.history.settled
    repeats = level.max_repeats if level.repeat_every_minutes is not None else 0
    for number in range(repeats, -1, -1):
        rule = cycle + (f"{REPEAT}{number}" if number else "")
        if builder.key(rule, step) in settled:
            return rule
    return None


def _why_stopped(builder: PlanBuilder, paging: PagingLevel) -> str:
    return f"{stopped_because(builder, paging)}: the page stops"


def stopped_because(builder: PlanBuilder, paging: PagingLevel) -> str:
    """Why the level's current cycle is no longer needed, in a lead's words."""
    view = builder.view
    stop = level_stop(view, paging.level, builder.own_replies)
    if stop is not None:
        return stop.reason + ("" if stop.at is None else f" ({stop.at.astimezone(UTC):%H:%M} UTC)")
    ack = acknowledged(view, paging.ladder.acknowledged_by, builder.own_replies,
                       builder.history.acknowledgement)
    if ack is not None:
        return ack
    return f"the ladder {paging.ladder.name} no longer applies to the ticket"


ACKNOWLEDGEMENT = "acknowledgement"  # the rule an acknowledgement's own steps are keyed under


def plan_acknowledgement(builder: PlanBuilder) -> None:
    """An acknowledgement from a page or a message leaves an internal note naming who and
    when, and (Take it) assigns the ticket to them; each once."""
    ack = builder.history.acknowledgement
    if ack is None:
        return
    said = ack.said()
    builder.note(ACKNOWLEDGEMENT, "note", said,
                 f"{said[0].upper()}{said[1:]}: afterhours stops the ladders an"
                 " acknowledgement stops, and resolves their pages.")
    if ack.assignee is not None:
        builder.assign(ACKNOWLEDGEMENT, said, ack.assignee)
