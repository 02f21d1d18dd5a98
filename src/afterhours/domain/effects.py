"""Turning what a rule or level says it does (its effects) into keyed actions and skips.

An action's key is `ticket:<id>/<rule>/<step>`: the ledger settles each key once, which is what
makes a plan safe to repeat. Every field change is planned against the ticket as it will be
once the earlier actions of the same plan have landed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial

from afterhours.domain import mail, pages, render
from afterhours.domain.actions import (
    Action,
    AddInternalNote,
    AddPublicReply,
    AddTags,
    AssignAgent,
    AssignGroup,
    Claim,
    CreateJiraIssue,
    NotifyChannel,
    PlannedAction,
    RemoveTags,
    SetPriority,
    SkippedAction,
)
from afterhours.domain.compiled import compiled
from afterhours.domain.ladders import REPLY_STEP, own_replies
from afterhours.domain.model import History, JiraIssueRef, Ticket
from afterhours.domain.oncall import OnCallShift, on_call_now
from afterhours.domain.placeholder_values import Placeholders
from afterhours.domain.prepared_effects import PreparedEffects
from afterhours.domain.ticket_changes import FIELD_CHANGES, apply_change
from afterhours.policy.model import Policy
from afterhours.policy.templates import fill

# Words written on demand: a step the ledger settled never writes its text.
Words = Callable[[], str]


def note_marker(key: str) -> str:
    """The line that ends each note afterhours writes: its ledger key, findable later."""
    return f"[afterhours {key}]"


class PlanBuilder:
    """Collects one plan's actions and skips, and the ticket as they would leave it."""

    __slots__ = ("_own", "_planned_replies", "_prefix", "_settled", "actions", "filed",
                 "history", "level_title", "live", "now", "policy", "priority_by", "program",
                 "settled_seen", "skips", "ticket", "view", "wake_at")

    def __init__(self, ticket: Ticket, history: History, policy: Policy, now: datetime) -> None:
        self.ticket, self.history, self.policy, self.now = ticket, history, policy, now
        self.program = compiled(policy)  # the policy as the planner runs it
        self.actions: list[PlannedAction] = []
        # The escalation level acting now, in words ("escalation p1 level 2"), for its pages;
        # and the rules of the levels this plan found still needed (domain.pages).
        self.level_title: str | None = None
        self.live: set[str] = set()
        self.skips: list[SkippedAction] = []
        self.priority_by: str | None = None  # the rule whose priority this plan sets
        self.wake_at: datetime | None = None  # the earliest next deadline of a level seen
        # (rule, key) of each step left out as settled, written down for verdicts only.
        self.settled_seen: list[tuple[str, str]] | None = None
        # The ticket once this plan's actions so far have landed: each change of a field
        # is applied as it is planned (notes, messages and Jira change none).
        self.view = ticket
        # The Jira create this plan makes, once it is planned: (its key, its rule).
        self.filed: tuple[str, str] | None = None
        self._prefix = f"ticket:{ticket.id}/"
        self._settled = history.settled
        self._own: int | None = None  # afterhours' settled replies, counted when asked
        self._planned_replies = 0

    @property
    def own_replies(self) -> int:
        """Public replies by afterhours: settled ones and those in this plan."""
        if self._own is None:  # the history does not change during a plan
            self._own = own_replies(self.history)
        return self._own + self._planned_replies

    def wake_by(self, moment: datetime | None) -> None:
        """Plan again no later than `moment` (None: nothing to wait for)."""
        if moment is not None and (self.wake_at is None or moment < self.wake_at):
            self.wake_at = moment

    def key(self, rule: str, step: str) -> str:
        """The ledger key of one step of a rule for this ticket."""
        return f"ticket:{self.ticket.id}/{rule}/{step}"

    def act(self, rule: str, step: str, reason: str, action: Action) -> None:
        """Plan `action` unless its key is already settled."""
        key = f"{self._prefix}{rule}/{step}"  # unsettled, inline: once per action
        if key not in self._settled:
            self.add(key, rule, reason, action)
        elif self.settled_seen is not None:
            self.settled_seen.append((rule, key))

    def unsettled(self, rule: str, step: str) -> str | None:
        """The ledger key of a step still to take; None when the ledger settled it (noted
        for verdicts), so that its words need not be written at all."""
        key = f"{self._prefix}{rule}/{step}"  # self.key, inline: once per step
        if key in self._settled:
            if self.settled_seen is not None:
                self.settled_seen.append((rule, key))
            return None
        return key

    def add(self, key: str, rule: str, reason: str, action: Action) -> None:
        """Plan `action` under `key`, a key `unsettled` gave."""
        planned = PlannedAction(key, rule, reason, action)
        kind = type(action)
        if kind in FIELD_CHANGES:
            self.view = apply_change(self.view, action)
            if kind is AddPublicReply:
                self._planned_replies += 1
        elif kind is CreateJiraIssue:
            if self.filed is None:
                self.filed = key, rule
            # Filed before the rule's own chat message is sent, so that the message can name
            # the issue (see NotifyChannel.filing).
            at = next((i for i, p in enumerate(self.actions)
                       if p.rule == rule and isinstance(p.action, NotifyChannel)),
                      len(self.actions))
            self.actions.insert(at, planned)
            return
        self.actions.append(planned)

    def skip(self, rule: str, step: str, reason: str) -> None:
        """Record that a matching rule deliberately does nothing here, once."""
        key = f"{self._prefix}{rule}/{step}"
        if key not in self._settled:
            self.skips.append(SkippedAction(key, rule, reason))
        elif self.settled_seen is not None:
            self.settled_seen.append((rule, key))

    def note(self, rule: str, step: str, reason: str, body: str | Words) -> None:
        """Plan an internal note that ends with its key, so a lost answer can be looked up;
        `body` may be the way to write it, asked only when the note is still to write."""
        key = self.unsettled(rule, step)
        if key is not None:
            text = body if isinstance(body, str) else body()
            self.add(key, rule, reason,
                     AddInternalNote(self.ticket.id, f"{text}\n\n{note_marker(key)}"))

    def apply(self, rule: str, reason: str, effects: PreparedEffects, message: Words | None,
              plain: Words | None = None) -> None:
        """Plan every effect of a matched rule or level; `message` writes its chat text, and
        `plain` the same without naming the rule's group (sent if the group change fails).
        Words are written only for the steps the ledger has not settled."""
        # Whether the message announces a group change, as the ticket is before it.
        claims = (plain is not None and effects.group is not None
                  and self.view.group != effects.group)
        self._change_fields(rule, reason, effects)
        if effects.writes:  # most priority rules write nothing
            self._write(rule, reason, effects, message, plain if claims else None)

    def _change_fields(self, rule: str, reason: str, effects: PreparedEffects) -> None:
        view, ticket_id = self.view, self.ticket.id
        if effects.priority is not None:
            self._set_priority(rule, reason, effects)
        if effects.tags:
            tags = view.tags
            # Most often none of the tags is there yet, or all of them are.
            missing = (effects.tags if tags.isdisjoint(effects.tag_set) else
                       () if effects.tag_set <= tags else
                       tuple(t for t in effects.tags if t not in tags))
            if missing:
                self.act(rule, "add_tags", reason, AddTags(ticket_id, missing))
            else:
                self.skip(rule, "add_tags", effects.tags_said)
        if effects.remove_tags:
            present = tuple(t for t in effects.remove_tags if t in view.tags)
            if present:
                self.act(rule, "remove_tags", reason, RemoveTags(ticket_id, present))
        if effects.group is not None:
            if view.group == effects.group:
                self.skip(rule, "assign_group", effects.group_said)
            else:
                self.act(rule, "assign_group", reason, AssignGroup(ticket_id, effects.group))
        if effects.assignee is not None:
            self._assign(rule, reason, effects)

    def _set_priority(self, rule: str, reason: str, effects: PreparedEffects) -> None:
        priority = effects.priority
        assert priority is not None  # noqa: S101  (only a priority is set)
        if self.priority_by is not None:
            self.skip(rule, "set_priority", f"priority set by {self.priority_by} first")
        elif self.view.priority == priority:
            self.skip(rule, "set_priority", effects.priority_said)
        else:
            self.act(rule, "set_priority", reason, SetPriority(self.ticket.id, priority))
        self.priority_by = self.priority_by or rule

    def _write(self, rule: str, reason: str, effects: PreparedEffects, message: Words | None,
               plain: Words | None) -> None:
        ticket_id = self.ticket.id
        if effects.note is not None:
            self.note(rule, "note", reason, partial(self.filled, effects.note))
        if effects.reply is not None and (key := self.unsettled(rule, REPLY_STEP)) is not None:
            body = self.filled(self.policy.templates[effects.reply])
            self.add(key, rule, reason, AddPublicReply(ticket_id, body))
        if message is None:  # nothing to send: no notify: nor page:
            return
        text: str | None = None
        claim: Claim | None = None
        if effects.notify is not None and (key := self.unsettled(rule, "notify")) is not None:
            text = message()
            claim = None if plain is None else self._claim(rule, effects, plain())
            self._send(key, rule, "notify", reason, effects, channel=effects.notify, text=text,
                       claim=claim)
        if effects.page is not None and (key := self.unsettled(rule, "page")) is not None:
            team = self.policy.oncall[effects.page]
            shift = on_call_now(effects.page, team, self.now)
            if text is None:
                text = message()
                claim = None if plain is None else self._claim(rule, effects, plain())
            # A page never waits for Zendesk: it goes out with or without the group named.
            paged = None if claim is None else Claim(
                claim.key, claim.group, render.page_message(claim.plain_text, shift))
            self._send(key, rule, "page", f"{reason}; {shift.primary} is on call for"
                       f" {effects.page}", effects, channel=team.channel or effects.page,
                       text=render.page_message(text, shift), claim=paged, shift=shift)

    def _send(self, key: str, rule: str, step: str, reason: str, effects: PreparedEffects, *,
              channel: str, text: str, claim: Claim | None,
              shift: OnCallShift | None = None) -> None:
        """Plan the message `text` (announcing `claim`) to a chat channel; a page when the
        channel is PagerDuty, a mail (to the on-call of `shift` too) when it is e-mail."""
        kind = self.program.channel_types.get(channel)  # None: not declared, a chat webhook
        if kind == "pagerduty":
            self.add(key, rule, reason, pages.trigger(self, rule, step, channel))
        elif kind == "email":
            self.add(key, rule, reason, mail.mail(self, rule, step, channel, reason,
                                                  shift=shift))
        else:
            self.add(key, rule, reason, self._message(channel, text, claim,
                                                      self._filing(rule, effects)))

    def _claim(self, rule: str, effects: PreparedEffects, plain: str) -> Claim:
        """The group change a message announces, and its words until the change lands."""
        assert effects.group is not None  # noqa: S101  (only a group change is claimed)
        return Claim(self.key(rule, "assign_group"), effects.group, plain)

    def _filing(self, rule: str, effects: PreparedEffects) -> str | None:
        """The ledger key of the Jira create this plan makes (or this rule will make), whose
        outcome a message sent after it names; None when there is none, or it is known."""
        if self.history.jira_issue is not None:
            return None
        planned = None if self.filed is None else self.filed[0]
        if planned is None and effects.files_in_jira:
            planned = self.key(rule, "create_jira_issue")
        return planned

    def _message(self, channel: str, text: str, claim: Claim | None,
                 filing: str | None) -> NotifyChannel:
        """A chat message as it is sent: the channel's mentions first, and the Jira issue
        the ticket was filed as when it is known already."""
        program, issue = self.program, self.history.jira_issue
        mentions = program.mentions.get(channel, "")
        if claim is not None:
            claim = Claim(claim.key, claim.group, _said(mentions, claim.plain_text, issue))
        return NotifyChannel(self.ticket.id, channel, _said(mentions, text, issue), claim,
                             filing, program.conversations.get(channel))

    def assign(self, rule: str, reason: str, assignee: str) -> None:
        """Plan assigning the ticket to `assignee` (an agent's email)."""
        if self.view.assignee is not None and self.view.assignee.casefold() == assignee.casefold():
            self.skip(rule, "assign_agent", f"already assigned to {assignee}")
        else:
            self.act(rule, "assign_agent", reason, AssignAgent(self.ticket.id, assignee))

    def _assign(self, rule: str, reason: str, effects: PreparedEffects) -> None:
        assignee = effects.assignee
        assert assignee is not None  # noqa: S101  (only an assignee is assigned)
        if effects.oncall is not None:
            team = effects.oncall
            shift = on_call_now(team, self.policy.oncall[team], self.now)
            assignee, reason = shift.primary, f"{reason}; {shift.primary} is on call for {team}"
        if self.view.assignee is not None and self.view.assignee.casefold() == assignee.casefold():
            self.skip(rule, "assign_agent", f"already assigned to {assignee}")
        else:
            self.act(rule, "assign_agent", reason, AssignAgent(self.ticket.id, assignee))

    def filled(self, template: str) -> str:
        """`template` with its placeholders filled for this ticket now."""
        return fill(template, Placeholders(self.view, self.policy, self.now, self.history))

    def placeholders(self) -> Mapping[str, str]:
        """The values a template's placeholders are filled with, for this ticket now; each
        is worked out when a template asks for it (most name two of six)."""
        return Placeholders(self.view, self.policy, self.now, self.history)


def _said(mentions: str, words: str, issue: JiraIssueRef | None) -> str:
    """A chat message's words: the channel's mentions first, the Jira issue last if known."""
    words = mentions + words
    return words if issue is None else render.with_issue(words, issue.key, issue.url)
