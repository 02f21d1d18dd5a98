"""The routing policy as validated data: what support leads write in YAML.

Every model forbids unknown fields so a typo is an error, not a silently
ignored rule.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from afterhours.policy.articles import Articles
from afterhours.policy.basics import RuleName, Weekday, located_errors
from afterhours.policy.conditions import Condition, Keyword, Match, Priority, Tag, Test
from afterhours.policy.hours import Schedule, TimeRange
from afterhours.policy.known_issues import KnownIssue, SimilarIssues, known_issue_problems
from afterhours.policy.lint import never_matching
from afterhours.policy.references import reference_problems
from afterhours.policy.roster import ONCALL_DESCRIPTION, OnCallTeam
from afterhours.policy.rules import (
    Acknowledgement,
    Effects,
    Escalation,
    EscalationLevel,
    JiraTarget,
    PriorityRule,
    Route,
)
from afterhours.policy.sync_back import SyncBack
from afterhours.policy.sync_back_checks import sync_back_problems
from afterhours.policy.templates import PLACEHOLDER_HELP

__all__ = [
    "Acknowledgement", "Condition", "Effects", "Escalation", "EscalationLevel", "JiraTarget",
    "Keyword", "Match", "OnCallTeam", "Policy", "Priority", "PriorityRule", "Promise", "Route",
    "RuleName", "Schedule", "SyncBack", "Tag", "Test", "TimeRange", "Weekday",
]

_SLACK_ID_PATTERN = r"^[UWS][A-Z0-9]{2,20}$"
_SLACK_ID = re.compile(_SLACK_ID_PATTERN)
SlackId = Annotated[str, Field(pattern=_SLACK_ID_PATTERN)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


ChannelType = Literal["webhook", "pagerduty", "email", "slack"]
_RECIPIENT = re.compile(r"^(?:[^@\s]+@[^@\s]+\.[^@\s]+|oncall:[a-z0-9][a-z0-9_-]*)$")


class Channel(_Strict):
    """Where messages go: a chat webhook (the default) or a PagerDuty service. Its secret (a
    webhook URL, a routing key) comes from settings, never from the policy."""

    type: ChannelType = Field(
        default="webhook",
        description="webhook: a chat incoming webhook (URL in AFTERHOURS_WEBHOOKS); "
        "pagerduty: a PagerDuty service's Events API v2 integration (routing key in "
        "AFTERHOURS_PAGERDUTY_ROUTING_KEYS), paged by escalation levels only and resolved "
        "when the level stops; email: mail through AFTERHOURS_SMTP_URL to `to:`; slack: "
        "Slack's Web API (chat.postMessage with AFTERHOURS_SLACK_BOT_TOKEN) to `conversation:`.",
    )
    conversation: Annotated[str, Field(pattern=r"^[CG][A-Z0-9]{2,20}$")] | None = Field(
        default=None,
        description="For type slack: the Slack channel's id (C... or G...: the channel's "
        "details, at the bottom), where the bot posts; invite the bot to it.",
        examples=["C0123ABCDEF"],
    )
    to: list[Annotated[str, Field(min_length=3, max_length=254)]] = Field(
        default=[],
        description="For type email: who is mailed, each an address or oncall:<team> (whoever "
        "is on call for that team then, primary and backup). A page: to a team whose channel "
        "this is mails the team's on-call as well.",
        examples=[["support-leads@acme.example", "oncall:support-leads"]],
    )
    description: str = Field(
        default="", description="What the channel is and who reads it; for people, not used."
    )
    mentions: list[SlackId] = Field(
        default=[],
        description="Who every message to this channel mentions, by Slack id: U... or W... for "
        "a person (their profile's ... menu > Copy member ID), S... for a user group (the "
        "group's Copy group ID), such as the Engineering Manager for new product bugs.",
        examples=[["U024BE7LH", "S0614TZR7"]],
    )

    @field_validator("mentions", mode="before")
    @classmethod
    def _slack_ids(cls, value: object) -> object:
        for item in value if isinstance(value, list) else []:
            if not isinstance(item, str) or not _SLACK_ID.match(item):
                raise ValueError(
                    f"{item!r} is not a Slack id: U... or W... for a person (profile ... menu >"
                    " Copy member ID), S... for a user group (Copy group ID); a name or an @"
                    " handle does not mention anyone in an incoming webhook's message")
        return value

    @model_validator(mode="after")
    def _mentions_in_chat(self) -> Channel:
        if self.type not in ("webhook", "slack") and self.mentions:
            raise ValueError(f"mentions: is for chat channels; a {self.type} channel pages"
                             " whoever its own schedule says")
        if self.type != "email" and self.to:
            raise ValueError("to: is for email channels (type: email)")
        if (self.type == "slack") != (self.conversation is not None):
            raise ValueError("a channel of type slack needs conversation: (its Slack channel id,"
                             " C...), and only it takes one")
        for recipient in self.to:
            if not _RECIPIENT.match(recipient):
                raise ValueError(f"{recipient!r} in to: is neither an email address nor"
                                 " oncall:<team>")
        return self


class Promise(_Strict):
    """How soon the customer is promised a first reply."""

    minutes: Annotated[int, Field(gt=0, le=525_600)] = Field(
        description="Minutes from the ticket's creation, counted on the clock."
    )
    clock: Literal["calendar", "business"] = Field(
        default="business",
        description="calendar: every minute counts; business: only minutes inside the "
        "schedule's hours.",
    )


class PriorityBlock(_Strict):
    """The priority rules and how they combine."""

    match: Literal["first", "all"] = Field(
        default="first",
        description="first: the first rule that matches acts and the rest are not looked at; "
        "all: every rule that matches acts (the first one's priority is kept).",
    )
    rules: list[PriorityRule] = Field(default=[], description="The rules, in order.")


class RouteBlock(_Strict):
    """The routes and how they combine."""

    match: Literal["first", "all"] = Field(
        default="first",
        description="first: the first route that matches acts and the rest are not looked at; "
        "all: every route that matches acts.",
    )
    rules: list[Route] = Field(default=[], description="The routes, in order.")


class EscalationBlock(_Strict):
    """The escalation ladders and how they combine."""

    match: Literal["first", "all"] = Field(
        default="all",
        description="all: every ladder that matches applies; first: only the first ladder that "
        "matches does (one ladder per priority, say).",
    )
    rules: list[Escalation] = Field(default=[], description="The ladders, in order.")


_BLOCK_HELP = " Written as a list (match: {match}) or as match: first|all plus rules:."
TemplateText = Annotated[str, Field(min_length=1, max_length=10_000)]


class Policy(_Strict):
    """The whole routing policy: when the desk is staffed, what to do with tickets outside it."""

    version: Literal[1] = Field(description="The policy language version; only 1 exists.")
    schedule: Schedule = Field(
        description="When the desk is staffed; a ticket created outside it is after hours."
    )
    reply_promises: dict[Priority | Literal["none"], Promise] = Field(
        default={},
        description="How soon each priority is promised a first reply; none is for a ticket "
        "without a priority. Templates say it as {reply_by}; ladders may count from it.",
    )
    channels: dict[RuleName, Channel] = Field(
        default={},
        description="The channels rules and escalations may notify, by name: chat webhooks "
        "(their URLs are secrets, set in AFTERHOURS_WEBHOOKS, not here) and PagerDuty "
        "services (type: pagerduty; routing keys in AFTERHOURS_PAGERDUTY_ROUTING_KEYS).",
    )
    oncall: dict[RuleName, OnCallTeam] = Field(
        default={},
        description=ONCALL_DESCRIPTION + " Rules and levels name a team with page: <team> or "
        "assignee: oncall:<team>.",
    )
    templates: dict[RuleName, TemplateText] = Field(
        default={},
        description="Public reply texts by name, for reply:. Placeholders: " + PLACEHOLDER_HELP,
    )
    priority_rules: PriorityBlock = Field(
        default=PriorityBlock(),
        description="Rules that set a ticket's priority." + _BLOCK_HELP.format(match="first"),
    )
    routes: RouteBlock = Field(
        default=RouteBlock(),
        description="Where tickets go: a group, an assignee, tags, a note, a reply, a chat "
        "message, a Jira issue." + _BLOCK_HELP.format(match="first"),
    )
    escalations: EscalationBlock = Field(
        default=EscalationBlock(),
        description="Escalation ladders; each level acts once per ticket unless it repeats."
        + _BLOCK_HELP.format(match="all"),
    )
    known_issues: list[KnownIssue] = Field(
        default=[],
        description="Bugs already in Jira that new tickets join instead of filing a duplicate: "
        "a ticket a route would file in Jira that meets one's conditions (the first that "
        "matches) is linked to its issue, which gets a comment and a customers-<count> label; "
        "replies may say its status as {known_issue}.",
    )
    known_issue_update: RuleName | Literal[False] | None = Field(
        default=None,
        description="The public reply a ticket gets when it joins a known or similar issue "
        "after its acknowledgement went out without the issue's status (its batch's filing "
        "waited on Jira): the name of a template under templates:, which may say "
        "{known_issue}; left out: afterhours' own words; false: none. Sent once, only when "
        "the acknowledgement's template says {known_issue}, and not after an agent replied "
        "in public or once the ticket is solved.",
    )
    articles: Articles | None = Field(
        default=None,
        description="Help-center articles a reply template offers as {articles}: how many, "
        "how alike to the ticket, from which sections or labels. Leave out to offer none.",
    )
    similar_issues: SimilarIssues | None = Field(
        default=None,
        description="Join an open issue afterhours filed when a new bug ticket is much like "
        "one of its tickets, instead of filing a duplicate; leave out to file every bug.",
    )
    sync_back: SyncBack | None = Field(
        default=None,
        description="What flows between a filed ticket and its Jira issues: notes on Jira "
        "changes, copied comments, what a resolution does, what a solve or a customer comment "
        "leaves in Jira. Leave out to sync nothing back.",
    )

    @field_validator("priority_rules", "routes", "escalations", mode="before")
    @classmethod
    def _list_is_a_block(cls, value: object) -> object:
        # The short form: a plain list of rules keeps the block's default match.
        return {"rules": value} if isinstance(value, list) else value

    @model_validator(mode="after")
    def _references(self) -> Policy:
        # Each problem carries its own path, so `check` can point at the very line.
        problems = (reference_problems(self) + never_matching(self) + sync_back_problems(self)
                    + known_issue_problems(self.known_issues))
        if problems:
            raise located_errors("Policy", "reference", problems)
        return self
