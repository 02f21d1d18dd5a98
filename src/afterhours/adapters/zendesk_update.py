"""afterhours' Zendesk changes as ticket updates: names resolved to ids, one comment each.

Zendesk takes one comment per update. A plan that both replies in public and leaves internal
notes becomes two updates: the reply with every field change, then the notes alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from afterhours.domain.actions import (
    AddInternalNote,
    AddPublicReply,
    AddTags,
    AssignAgent,
    AssignGroup,
    RemoveTags,
    SetPriority,
    SetStatus,
    ZendeskAction,
)


@dataclass(frozen=True)
class Comment:
    """A comment to add: public (the requester sees it) or an internal note."""

    body: str
    public: bool


@dataclass(frozen=True)
class TicketUpdate:
    """One PUT's ticket fields (as the API names them) and its comment, if any."""

    fields: dict[str, Any] = field(default_factory=dict)
    comment: Comment | None = None


def build_updates(
    changes: Sequence[ZendeskAction],
    *,
    group_id: Callable[[str], int],
    agent_id: Callable[[str], int],
) -> list[TicketUpdate]:
    """The updates that apply `changes`, in order; names are resolved first, so a group or
    agent that does not exist fails (PermanentError) before anything is sent."""
    fields: dict[str, Any] = {}
    added: dict[str, None] = {}  # ordered sets
    removed: dict[str, None] = {}
    replies: list[str] = []
    notes: list[str] = []
    for change in changes:
        if isinstance(change, SetPriority):
            fields["priority"] = change.priority
        elif isinstance(change, AddTags | RemoveTags):
            # The later change to a tag wins, as when the changes are applied one by one.
            into, out_of = (added, removed) if isinstance(change, AddTags) else (removed, added)
            for tag in change.tags:
                into[tag] = None
                out_of.pop(tag, None)
        elif isinstance(change, AssignGroup):
            # The later one wins: the planner orders escalations after routes, so a ladder's
            # group overrides the route's when both fall due in one plan.
            fields["group_id"] = group_id(change.group)
        elif isinstance(change, AssignAgent):
            fields["assignee_id"] = agent_id(change.email)
        elif isinstance(change, AddPublicReply):
            replies.append(change.body)
        elif isinstance(change, AddInternalNote):
            notes.append(change.body)
        elif isinstance(change, SetStatus):
            fields["status"] = change.status
    # additional_tags and remove_tags change only the tags named; `tags` would replace an
    # agent's tags.
    if added:
        fields["additional_tags"] = list(added)
    if removed:
        fields["remove_tags"] = list(removed)
    reply = Comment("\n\n".join(replies), public=True) if replies else None
    note = Comment("\n\n".join(notes), public=False) if notes else None
    if reply is not None and note is not None:
        return [TicketUpdate(fields, reply), TicketUpdate({}, note)]
    return [TicketUpdate(fields, reply or note)]
