"""Rules and ladders as support leads write them: conditions, then what to do.

Every rule and level may carry a stable `id`. What afterhours did is remembered by it (or by
the name when there is no id), so a lead can rename a rule that is in use without its notes
and messages being sent again.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from afterhours.policy.basics import RuleName
from afterhours.policy.conditions import Condition, Priority, Tag, _Strict

Minutes = Annotated[int, Field(ge=0, le=525_600)]  # a year at most: a typo, not a plan
_NAME_HELP = "A unique name: lowercase letters, digits, - and _."
_ID_HELP = (
    "A stable id (same form as a name) that what afterhours did is remembered by. Set it once "
    "and keep it: the name may then change freely. Without an id the name is used, so renaming "
    "the rule would repeat its notes and messages on open tickets."
)
_WHEN_HELP = (
    "The conditions a ticket must meet; every one given must hold. Leave out to match every "
    "ticket."
)
ONCALL_PREFIX = "oncall:"


class Effects(_Strict):
    """What a rule or an escalation level does to a ticket; every field is optional."""

    priority: Priority | None = Field(default=None, description="The priority to set.")
    tags: list[Tag] = Field(default=[], description="Tags to add; the ticket keeps its others.")
    remove_tags: list[Tag] = Field(default=[], description="Tags to take off the ticket.")
    group: str | None = Field(
        default=None, description="The Zendesk group to assign the ticket to, by name."
    )
    assignee: Annotated[str, Field(min_length=1, max_length=254)] | None = Field(
        default=None,
        description="The agent to assign the ticket to, by email, or oncall:<team> for whoever "
        "is on call for that team at the time.",
    )
    note: Annotated[str, Field(min_length=1, max_length=10_000)] | None = Field(
        default=None,
        description="An internal note (agents only). May use the placeholders a template does.",
    )
    reply: str | None = Field(
        default=None,
        description="A public reply to the requester: the name of a template under templates:.",
    )
    notify: str | None = Field(
        default=None,
        description="A channel declared under channels: to post a message about the ticket to.",
    )
    page: str | None = Field(
        default=None,
        description="An on-call team declared under oncall:: posts to the team's channel, "
        "naming who is on call now and their backup.",
    )


class JiraTarget(_Strict):
    """Where a routed ticket is filed in Jira."""

    project: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]+$")] = Field(
        description="The Jira project key, such as ENG."
    )
    issue_type: str = Field(default="Bug", description="The Jira issue type, by name.")
    labels: list[Tag] = Field(
        default=[],
        description="Labels for the issue; zendesk-<ticket id> is always added as well.",
    )
    components: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(
        default=[], description="Components of the project to set on the issue, by name."
    )
    priority: dict[Priority | Literal["none"], str] = Field(
        default={},
        description="The Jira priority for each Zendesk priority, such as urgent: Highest; "
        "none is for a ticket without one. A priority not listed leaves Jira's default.",
    )


class PriorityRule(Effects):
    """A rule in the priority block: it must set a priority, and may do more."""

    id: RuleName | None = Field(default=None, description=_ID_HELP)
    name: RuleName = Field(description=_NAME_HELP)
    when: Condition = Field(default=Condition(), description=_WHEN_HELP)
    priority: Priority = Field(description="The priority to set.")
    jira: JiraTarget | None = Field(
        default=None, description="File the ticket as a Jira issue, once (see routes)."
    )


class Route(Effects):
    """Where a ticket goes: a group, tags, a note, a reply, a message, a Jira issue."""

    id: RuleName | None = Field(default=None, description=_ID_HELP)
    name: RuleName = Field(description=_NAME_HELP)
    when: Condition = Field(default=Condition(), description=_WHEN_HELP)
    jira: JiraTarget | None = Field(
        default=None,
        description="File the ticket as a Jira issue, once; the issue is then linked back to the "
        "ticket and the ticket tagged jira_<issue key>.",
    )


Rule = PriorityRule | Route


class EscalationLevel(Effects):
    """One rung of a ladder: if `until` has not happened `after_minutes` in, act."""

    id: RuleName | None = Field(
        default=None,
        description="A stable id for the level. Without one the level is remembered by its "
        "position, so inserting a level above it would fire it again.",
    )
    after_minutes: Minutes = Field(
        description="How many minutes after the starting point (from:) this level acts, counted "
        "on its clock; 0 acts at once."
    )
    from_: Literal["created", "last_customer_update", "first_reply_due"] = Field(
        default="created",
        alias="from",
        description="Where the minutes count from: created (the ticket's creation), "
        "last_customer_update (the requester's latest comment; each new one starts the level "
        "again), or first_reply_due (the moment the first reply promised under reply_promises: "
        "falls due).",
    )
    until: Literal["first_reply", "answered", "solved"] = Field(
        description="What makes this level unnecessary: first_reply (an agent's first public "
        "reply; afterhours' own replies do not count), answered (the ticket waits on the "
        "requester: pending, or solved), or solved."
    )
    clock: Literal["calendar", "business"] = Field(
        default="calendar",
        description="calendar: every minute counts; business: only minutes inside the "
        "schedule's hours.",
    )
    repeat_every_minutes: Annotated[int, Field(gt=0, le=525_600)] | None = Field(
        default=None,
        description="Act again every this many minutes (same clock) while `until` has not "
        "happened, up to max_repeats times. Leave out to act once.",
    )
    max_repeats: Annotated[int, Field(ge=1, le=100)] = Field(
        default=3, description="How many times a repeating level acts again after the first."
    )


class Acknowledgement(_Strict):
    """What shows that a person has taken the ticket, which stops the whole ladder."""

    tags: list[Tag] = Field(default=[], description="Any one of these tags on the ticket.")
    assignee: bool = Field(
        default=False, description="true: an assignee is set (by anyone, afterhours included)."
    )
    public_reply: bool = Field(
        default=False,
        description="true: an agent has replied in public (afterhours' own replies do not count).",
    )
    responder: bool = Field(
        default=True,
        description="true: a person acknowledged the escalation where they read it "
        "(Acknowledge or Take it on the chat message, or the PagerDuty incident acknowledged "
        "or resolved on the phone); false: such an acknowledgement does not stop this ladder.",
    )


class Escalation(_Strict):
    """A ladder for the tickets it matches."""

    id: RuleName | None = Field(default=None, description=_ID_HELP)
    name: RuleName = Field(description=_NAME_HELP)
    when: Condition = Field(default=Condition(), description=_WHEN_HELP)
    acknowledged_by: Acknowledgement = Field(
        default=Acknowledgement(),
        description="What stops the whole ladder once a person has taken the ticket.",
    )
    levels: Annotated[list[EscalationLevel], Field(min_length=1)] = Field(
        description="The levels, each acting once per ticket when it falls due (or repeating)."
    )

    @field_validator("levels")
    @classmethod
    def _unique_level_ids(cls, levels: list[EscalationLevel]) -> list[EscalationLevel]:
        # A level is remembered by its id, else its position: the two must not collide.
        keys = [level_key(number, level) for number, level in enumerate(levels, start=1)]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"level id {twice[0]!r} is used twice in this ladder (a level "
                             "without an id is remembered by its position: 1, 2, ...)")
        return levels


def rule_key(rule: PriorityRule | Route | Escalation) -> str:
    """What the ledger remembers a rule by: its id, else its name."""
    return rule.id or rule.name


def level_key(number: int, level: EscalationLevel) -> str:
    """What the ledger remembers a level by: its id, else its position from 1."""
    return level.id or str(number)
