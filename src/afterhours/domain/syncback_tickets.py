"""The pure sync-back planner, Zendesk to Jira: (ticket now, what was last seen of it, its
requester's new comments, its open issues, policy, settled keys) -> a plan of comments and
labels on those issues.

A ticket's events are what changed since it was last seen: solved (keyed by the moment it
was solved), reopened after a solve (keyed by the solve it undid), a public comment by its
requester (keyed by the comment's id). Each reaches every issue the ticket hangs off that is
still open. A ticket seen for the first time has no events: only what happens from then on
flows. No echo: a reopening afterhours is making itself (its resolution flow) is no event,
and a comment quoting an afterhours marker is never copied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from afterhours.domain.actions import CommentOnIssue, LabelIssue, Plan, PlannedAction
from afterhours.domain.comment_text import jira_comment
from afterhours.domain.effects import note_marker
from afterhours.domain.model import Ticket
from afterhours.domain.sync_model import CustomerComment, TicketBaseline, sync_key
from afterhours.domain.syncback import OWN_MARKER
from afterhours.policy.model import Policy
from afterhours.policy.sync_back import CustomerCommentReaction, JiraReaction
from afterhours.policy.templates import fill

SOLVED = frozenset({"solved", "closed"})
OPEN = frozenset({"new", "open", "pending", "hold"})


@dataclass(frozen=True)
class TicketEvent:
    """Something that happened to a ticket that Jira may hear of."""

    event: str  # the ledger key's event part: solved@..., reopened@..., customer:<id>
    kind: str  # the policy's name for it: ticket_solved, ticket_reopened, customer_comment
    reason: str
    quote: str = ""


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def ticket_events(ticket: Ticket, baseline: TicketBaseline | None,
                  comments: Sequence[CustomerComment], *, reopening: bool) -> list[TicketEvent]:
    """What happened to `ticket` since `baseline` (None: never seen, so nothing yet);
    `reopening`: afterhours itself is reopening it, which is no event."""
    if baseline is None:
        return []
    events = []
    if baseline.status not in SOLVED and ticket.status in SOLVED:
        when = ticket.solved_at or ticket.updated_at
        events.append(TicketEvent(f"solved@{_stamp(when)}", "ticket_solved",
                                  f"ticket #{ticket.id} was solved"))
    if baseline.status == "solved" and ticket.status in OPEN and not reopening:
        undone = baseline.solved_at or ticket.updated_at
        events.append(TicketEvent(f"reopened@{_stamp(undone)}", "ticket_reopened",
                                  f"ticket #{ticket.id} was reopened"))
    seen = baseline.customer_update_at
    for comment in sorted(comments, key=lambda c: (c.at, c.comment_id)):
        if (seen is None or comment.at > seen) and OWN_MARKER not in comment.body:
            events.append(TicketEvent(f"customer:{comment.comment_id}", "customer_comment",
                                      f"the customer commented on ticket #{ticket.id}",
                                      comment.body))
    return events


def plan_ticket_flows(ticket: Ticket, events: Sequence[TicketEvent], open_issues: Sequence[str],
                      policy: Policy, settled: frozenset[str]) -> Plan:
    """The comments and labels `events` leave on each of `open_issues`, as the policy's
    in_jira: says, leaving out what `settled` says is done."""
    sync = policy.sync_back
    actions: list[PlannedAction] = []
    if sync is None:
        return Plan(ticket.id)
    for event in events:
        reaction: JiraReaction | None = getattr(sync.in_jira, event.kind)
        if reaction is None:
            continue
        for issue_key in open_issues:
            rule = f"sync:{issue_key}"
            key = sync_key(issue_key, ticket.id, event.event, "comment")
            if reaction.comment is not None and key not in settled:
                quoted = isinstance(reaction, CustomerCommentReaction) and reaction.quote
                intro = fill(reaction.comment, {"ticket_id": str(ticket.id),
                                                "issue_key": issue_key})
                body = jira_comment(intro, ticket.id, ticket.web_url, note_marker(key),
                                    event.quote if quoted else "")
                actions.append(PlannedAction(key, rule, event.reason,
                                             CommentOnIssue(ticket.id, issue_key, body)))
            key = sync_key(issue_key, ticket.id, event.event, "labels")
            if reaction.labels and key not in settled:
                actions.append(PlannedAction(key, rule, event.reason, LabelIssue(
                    ticket.id, issue_key, tuple(reaction.labels))))
    return Plan(ticket.id, tuple(actions))
