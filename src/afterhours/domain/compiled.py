"""A policy as the planner runs it, worked out once per policy: each block's rules with their
conditions prepared (domain.matching), their names and effects (domain.prepared_effects),
and each ladder's levels with the words that are the same for every ticket.

The planner asks for it once a plan (`compiled(policy)`), rather than looking each part up
in a memo of its own; the policy models are frozen, so nothing here goes stale.
"""

from __future__ import annotations

from afterhours.domain.ladders import level_base
from afterhours.domain.matching import Prepared, prepare
from afterhours.domain.memo import by_identity
from afterhours.domain.pages import paging_levels
from afterhours.domain.prepared_effects import PreparedEffects
from afterhours.domain.render import mention
from afterhours.domain.schedule import minutes_of
from afterhours.policy.model import Policy
from afterhours.policy.rules import (
    Acknowledgement,
    Escalation,
    EscalationLevel,
    PriorityRule,
    Route,
    rule_key,
)


class CompiledRule:
    """A priority rule or route: its condition prepared, its planner name, its effects."""

    __slots__ = ("condition", "effects", "group", "jira", "name", "rule", "said", "title")

    def __init__(self, prefix: str, rule: PriorityRule | Route) -> None:
        self.rule = rule
        # The fields a match reads, out of the pydantic model (cheaper to read, once a plan).
        self.title, self.group, self.jira = rule.name, rule.group, rule.jira
        self.condition: Prepared = prepare(rule.when)
        self.name = f"{prefix}:{rule_key(rule)}"
        self.effects = PreparedEffects(rule, note=True)
        # Only a message or a page sends the rule's words.
        self.said = rule.notify is not None or rule.page is not None


class CompiledLevel:
    """One level of a ladder, numbered from 1: its timing copied out of the policy model (a
    domain.ladders.LevelTiming: a pydantic field costs several times a plain one to read, and
    each is read for every level of every plan), its rule name and words."""

    __slots__ = ("after", "after_minutes", "base", "clock", "effects", "escalated", "from_",
                 "level", "max_repeats", "note", "number", "repeat_every_minutes", "says",
                 "title", "until", "waited")

    def __init__(self, ladder: Escalation, number: int, level: EscalationLevel) -> None:
        self.number, self.level = number, level
        self.after_minutes, self.from_, self.until = level.after_minutes, level.from_, level.until
        self.clock, self.repeat_every_minutes = level.clock, level.repeat_every_minutes
        self.max_repeats = level.max_repeats
        # Most levels count calendar minutes from the ticket's creation: their first deadline
        # is that sum (ladders.escalation_due's first case), with no anchor to find.
        self.after = (minutes_of(level.after_minutes)
                      if level.from_ == "created" and level.clock == "calendar" else None)
        self.effects = PreparedEffects(level, note=False)
        self.says = level.notify is not None or level.page is not None
        self.waited = waiting_words(level)
        self.note = level.note
        self.base = level_base(ladder, number, level)  # its rule, less cycle and repeat
        self.title = f"escalation {ladder.name} level {number}"
        # The start of afterhours' own note, when the level has none of its own.
        self.escalated = f"afterhours escalated this ticket ({ladder.name}, level {number}): "


class Acknowledging:
    """A ladder's acknowledged_by: as a domain.ladders.Acknowledging, in plain fields."""

    __slots__ = ("assignee", "public_reply", "responder", "tags")

    def __init__(self, by: Acknowledgement) -> None:
        self.tags = tuple(by.tags)
        self.assignee, self.public_reply, self.responder = (by.assignee, by.public_reply,
                                                            by.responder)


class CompiledLadder:
    """A ladder: its condition prepared, its planner name, its levels."""

    __slots__ = ("acknowledged_by", "condition", "levels", "name", "rule", "title")

    def __init__(self, ladder: Escalation) -> None:
        self.rule = ladder
        self.condition: Prepared = prepare(ladder.when)
        self.name = f"escalation:{rule_key(ladder)}"
        self.title = ladder.name  # as messages and skips name it
        self.acknowledged_by = Acknowledging(ladder.acknowledged_by)
        self.levels = tuple(CompiledLevel(ladder, number, level)
                            for number, level in enumerate(ladder.levels, start=1))


class CompiledPolicy:
    """Every block of a policy, compiled; `*_first` when a block acts on its first match."""

    def __init__(self, policy: Policy) -> None:
        self.priority_rules = tuple(CompiledRule("priority", rule)
                                    for rule in policy.priority_rules.rules)
        self.priority_first = policy.priority_rules.match == "first"
        self.routes = tuple(CompiledRule("route", rule) for rule in policy.routes.rules)
        self.routes_first = policy.routes.match == "first"
        self.escalations = tuple(CompiledLadder(ladder) for ladder in policy.escalations.rules)
        self.escalations_first = policy.escalations.match == "first"
        # Each channel's mentions, as its messages start with them.
        self.paging = paging_levels(policy)  # the levels that page PagerDuty, if any
        self.mentions = {name: mention(channel.mentions)
                         for name, channel in policy.channels.items()}
        # Each channel's type and Slack conversation, as a message to it is planned.
        self.channel_types = {name: channel.type for name, channel in policy.channels.items()}
        self.conversations = {name: channel.conversation
                              for name, channel in policy.channels.items()}


compiled = by_identity(CompiledPolicy, limit=64)


_WAITING = {"first_reply": "first reply", "answered": "answer", "solved": "resolution"}


def waiting_words(level: EscalationLevel) -> str:
    """What a level waits for, in words: the same for every ticket."""
    waiting = _WAITING[level.until]
    minutes = f"{level.after_minutes} {level.clock} minutes"
    if level.from_ == "first_reply_due":
        return f"no {waiting} by the promised time" + (
            f" nor {minutes} after it" if level.after_minutes else "")
    if level.from_ == "last_customer_update":
        return f"no {waiting} within {minutes} of the requester's last update"
    if level.after_minutes:
        return f"no {waiting} within {minutes}"
    return f"no {waiting} yet; this level acts at once"
