"""Escalation messages posted through Slack's Web API, updated in place once their level
stops: the same moment a PagerDuty page is resolved (domain.pages), for the same reasons.
Pure, like the rest of the planner.

Each message a level posted (its first and each repeat) gets one `chat.update`, keyed by the
message's own key with an `/update` step, saying the escalation stopped and why. An incoming
webhook's message cannot be changed: only channels of type slack are updated.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from afterhours.domain import chat
from afterhours.domain.actions import UpdateChatMessage
from afterhours.domain.ladders import level_rule
from afterhours.domain.memo import by_identity
from afterhours.domain.pages import REPEAT, PagingLevel, _cycles, stopped_because, target_levels
from afterhours.policy.model import Policy

if TYPE_CHECKING:
    from afterhours.domain.effects import PlanBuilder

UPDATE = "update"
AGAIN = "the requester wrote again: the level counts from their update anew"


def _slack_levels(policy: Policy) -> tuple[PagingLevel, ...]:
    return target_levels(policy, "slack")


# The levels posting through Slack's Web API of each policy, found once per policy.
slack_levels = by_identity(_slack_levels, limit=64)


def stopped_text(ticket_id: int, web_url: str | None, title: str, why: str) -> str:
    """The words a stopped level's message is replaced with: the ticket, the level, and why
    it stopped (afterhours' own words only: no customer text)."""
    link = f" {chat.link(web_url)}" if web_url else ""
    return (f"[afterhours] ticket #{ticket_id}{link}: {title} stopped: {why}."
            " Nothing more will be sent for it.")


def plan_updates(builder: PlanBuilder) -> None:
    """Plan one update for each message a Web API level posted that is no longer needed:
    the level stopped, was acknowledged, or its ladder applies no more."""
    levels = slack_levels(builder.policy)
    if not levels:
        return
    view, settled = builder.view, builder.history.settled
    for posting in levels:
        current = level_rule(posting.ladder, posting.number, posting.level, view)
        live = current in builder.live
        title = f"escalation {posting.ladder.name} level {posting.number}"
        for step, channel in posting.steps:
            found = builder.policy.channels[channel].conversation
            assert found is not None  # noqa: S101  (a channel of type slack has one)
            for cycle in _cycles(builder, posting, current, step):
                if live and cycle == current:
                    continue
                why: str | None = None
                for rule in _posted(builder, cycle, step, posting):
                    if builder.key(rule, f"{step}/{UPDATE}") in settled:
                        continue
                    why = why or (stopped_because(builder, posting) if cycle == current
                                  else AGAIN)
                    builder.act(rule, f"{step}/{UPDATE}", f"{why}: the message says so",
                                UpdateChatMessage(view.id, channel, found, builder.key(rule, step),
                                                  stopped_text(view.id, view.web_url, title,
                                                               why)))


def _posted(builder: PlanBuilder, cycle: str, step: str, posting: PagingLevel
            ) -> Iterator[str]:
    """The rules of the cycle's messages the ledger settled: the first, then each repeat."""
    level = posting.level
    repeats = level.max_repeats if level.repeat_every_minutes is not None else 0
    settled = builder.history.settled
    for number in range(repeats + 1):
        rule = cycle + (f"{REPEAT}{number}" if number else "")
        if builder.key(rule, step) in settled:
            yield rule
