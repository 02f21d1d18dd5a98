"""The pure sync-back planner, Jira to Zendesk: (issue and its activity, linked tickets,
policy, settled keys) -> one plan per ticket, each action with its reason and ledger key.

Every flow is keyed by what it flows from, in Jira's own ids: `change:<history id>` (a note
on a status, assignee, fix version or resolution change), `comment:<comment id>` (a copied
comment), `resolved:<history id>` (what a resolution does). So the same activity read again
plans nothing new, and a resolution reopened and resolved again acts again.

No echo: a change or comment by afterhours' own Jira account, or carrying an afterhours
marker, never flows back. Only what happened since a ticket hung off the issue flows to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from afterhours.domain.actions import (
    Action,
    AddInternalNote,
    AddPublicReply,
    AddTags,
    Plan,
    PlannedAction,
    SetStatus,
    SkippedAction,
)
from afterhours.domain.effects import note_marker
from afterhours.domain.model import Ticket
from afterhours.domain.sync_model import (
    NOTED_FIELDS,
    IssueActivity,
    IssueChange,
    IssueComment,
    LinkedTicket,
    sync_key,
)
from afterhours.domain.sync_text import change_note, comment_note, resolution_values
from afterhours.policy.model import Policy
from afterhours.policy.sync_back import CopiedComments, OnResolution
from afterhours.policy.templates import fill, placeholders

OWN_MARKER = "[afterhours "  # what ends every note and comment afterhours writes
REOPENABLE = frozenset({"solved", "pending", "hold"})
_UNCHANGEABLE = frozenset({"closed", "deleted"})


@dataclass
class _Flows:
    """One ticket's plan from one issue, as it is built."""

    activity: IssueActivity
    link: LinkedTicket
    ticket: Ticket
    settled: frozenset[str]
    actions: list[PlannedAction] = field(default_factory=list)
    skips: list[SkippedAction] = field(default_factory=list)

    def key(self, event: str, step: str) -> str:
        return sync_key(self.activity.issue.key, self.ticket.id, event, step)

    def act(self, event: str, step: str, reason: str, action: Action) -> None:
        """Plan `action`, or say why not when the ticket takes no more changes."""
        key = self.key(event, step)
        if key in self.settled:
            return
        if self.ticket.status in _UNCHANGEABLE:
            self.skip(event, step, f"ticket #{self.ticket.id} is {self.ticket.status}: "
                                   "Zendesk takes no more changes to it")
            return
        self.actions.append(PlannedAction(key, f"sync:{self.activity.issue.key}", reason,
                                          action))

    def marker(self, event: str) -> str:
        """The marker that ends the note of `event`: its ledger key."""
        return note_marker(self.key(event, "note"))

    def note(self, event: str, reason: str, body: str) -> None:
        """Plan the internal note of `event` (its text ends with its marker)."""
        self.act(event, "note", reason, AddInternalNote(self.ticket.id, body))

    def skip(self, event: str, step: str, reason: str) -> None:
        key = self.key(event, step)
        if key not in self.settled:
            self.skips.append(SkippedAction(key, f"sync:{self.activity.issue.key}", reason))


def plan_issue_flows(activity: IssueActivity, links: Sequence[LinkedTicket], policy: Policy,
                     settled: frozenset[str]) -> list[Plan]:
    """What flows from the issue to each linked ticket Zendesk still has, leaving out what
    `settled` (the ledger's done, skipped and failed keys) says is done."""
    sync = policy.sync_back
    if sync is None:
        return []
    plans = []
    for link in links:
        if link.ticket is None:
            continue
        flows = _Flows(activity, link, link.ticket, settled)
        changes = [c for c in activity.changes if _flows_to(c, link)]
        for change in changes:
            noted = [f for f in change.fields if NOTED_FIELDS.get(f.field) in sync.notes_on]
            if noted:
                event = f"change:{change.history_id}"
                flows.note(event, f"{activity.issue.key} changed", change_note(
                    activity.issue, change.author, noted, flows.marker(event)))
        rule = sync.copy_comments
        for comment in activity.comments if rule is not None else ():
            if rule is not None and _flows_to(comment, link) and copied(comment, rule):
                event = f"comment:{comment.comment_id}"
                flows.note(event, f"{comment.author} commented on {activity.issue.key} for "
                                  "support", comment_note(activity.issue, comment, rule.marker,
                                                          flows.marker(event)))
        if sync.on_resolution is not None:
            _plan_resolution(flows, changes, sync.on_resolution, policy)
        plans.append(Plan(link.ticket_id, tuple(flows.actions), tuple(flows.skips)))
    return plans


def _flows_to(item: IssueChange | IssueComment, link: LinkedTicket) -> bool:
    """Whether a change or comment is news to the ticket: not afterhours' own, and made
    since the ticket hung off the issue."""
    if item.by_afterhours:
        return False
    if isinstance(item, IssueComment) and OWN_MARKER in item.body:
        return False
    return link.since is None or item.at >= link.since


def copied(comment: IssueComment, rule: CopiedComments) -> bool:
    """Whether the policy copies `comment` to the ticket: it starts with the marker, or is
    restricted to one of the visibilities listed."""
    if rule.marker is not None and comment.body.strip().casefold().startswith(
            rule.marker.casefold()):
        return True
    return comment.visibility is not None and comment.visibility in rule.visibility


def _plan_resolution(flows: _Flows, changes: Sequence[IssueChange], rule: OnResolution,
                     policy: Policy) -> None:
    issue, ticket = flows.activity.issue, flows.ticket
    if not issue.resolved:
        return
    resolving = next((c for c in reversed(changes) if any(
        f.field == "resolution" and f.after for f in c.fields)), None)
    if resolving is None:  # resolved before the ticket hung off it
        return
    event = f"resolved:{resolving.history_id}"
    resolution = issue.resolution or ""
    if rule.resolutions and resolution.casefold() not in {
            r.casefold() for r in rule.resolutions}:
        flows.skip(event, "resolution", (
            f"{issue.key} was resolved as {resolution}, which on_resolution does not act on "
            f"(it lists {', '.join(rule.resolutions)})"))
        return
    if rule.wait_for_fix_version and not issue.fix_versions:
        return  # planned again when the issue changes: a fix version set is a change
    reason = f"{issue.key} was resolved as {resolution} by {resolving.author}"
    if rule.reopen:
        if ticket.status in REOPENABLE:
            flows.act(event, "reopen", reason, SetStatus(ticket.id, "open"))
        else:
            flows.skip(event, "reopen", f"{reason}; the ticket is already {ticket.status}")
    missing = tuple(tag for tag in rule.tags if tag not in ticket.tags)
    if missing:
        flows.act(event, "tags", reason, AddTags(ticket.id, missing))
    elif rule.tags:
        flows.skip(event, "tags", f"{reason}; tags {', '.join(rule.tags)} already on the ticket")
    if rule.reply is None:
        return
    text = policy.templates[rule.reply]
    if "fix_version" in placeholders(text) and not issue.fix_versions:
        flows.skip(event, "reply", f"{reason}; the reply names the fix version, and "
                                   f"{issue.key} has none")
        return
    flows.act(event, "reply", reason,
              AddPublicReply(ticket.id, fill(text, resolution_values(ticket, issue)).strip()))
