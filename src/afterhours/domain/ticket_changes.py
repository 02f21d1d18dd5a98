"""The ticket as Zendesk shows it after planned changes land: the planner's view of it as it
plans, and the shell's once the changes are done (a dry run's, a sync-back's)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from afterhours.domain.actions import (
    Action,
    AddPublicReply,
    AddTags,
    AssignAgent,
    AssignGroup,
    RemoveTags,
    SetPriority,
    SetStatus,
)
from afterhours.domain.model import Ticket


def apply_changes(ticket: Ticket, changes: Iterable[Action]) -> Ticket:
    """`ticket` as Zendesk shows it after `changes`; notes and outside actions change no field."""
    fields: dict[str, object] = {}
    tags, replies = ticket.tags, ticket.replies
    for change in changes:
        if type(change) not in FIELD_CHANGES:  # most changes: notes, messages, Jira
            continue
        if isinstance(change, SetPriority):
            fields["priority"] = change.priority
        elif isinstance(change, AddTags):
            tags = fields["tags"] = tags | frozenset(change.tags)
        elif isinstance(change, RemoveTags):
            tags = fields["tags"] = tags - frozenset(change.tags)
        elif isinstance(change, AssignGroup):
            fields["group"] = change.group
        elif isinstance(change, AssignAgent):
            fields["assignee"] = change.email
        elif isinstance(change, AddPublicReply):
            replies = fields["replies"] = replies + 1
        elif isinstance(change, SetStatus):
            fields["status"] = change.status
    if not fields:
        return ticket
    # dataclasses.replace without its per-call look at the fields (a tenth of the planner's
    # time when it was one replace per change): a copy of the frozen ticket's fields with
    # these ones changed.
    changed = object.__new__(Ticket)
    changed.__dict__.update(ticket.__dict__, **fields)
    return changed


# The changes that change a field of the ticket (the exact types: none is subclassed).
FIELD_CHANGES = frozenset({SetPriority, AddTags, RemoveTags, AssignGroup, AssignAgent,
                           AddPublicReply, SetStatus})


def apply_change(ticket: Ticket, change: Action) -> Ticket:
    """`apply_changes` of one change: the planner's view of the ticket as each action it
    plans lands (a copy made without dataclasses.replace, as there)."""
    name: str
    value: object
    # The exact types (FIELD_CHANGES: none is subclassed), compared by identity: cheaper
    # than a chain of isinstance calls, and asked for every field an action changes.
    kind = type(change)
    moved: Any = change  # narrowed by `kind`, which mypy cannot follow
    if kind is AddTags:
        name, value = "tags", ticket.tags | frozenset(moved.tags)
    elif kind is AddPublicReply:
        name, value = "replies", ticket.replies + 1
    elif kind is SetPriority:
        name, value = "priority", moved.priority
    elif kind is AssignGroup:
        name, value = "group", moved.group
    elif kind is RemoveTags:
        name, value = "tags", ticket.tags - frozenset(moved.tags)
    elif kind is AssignAgent:
        name, value = "assignee", moved.email
    elif kind is SetStatus:
        name, value = "status", moved.status
    else:
        return ticket
    # The fields copied whole (a dict's copy is one block copy) and given to the new ticket:
    # cheaper than filling the new ticket's own dictionary field by field.
    fields = ticket.__dict__.copy()
    fields[name] = value
    changed = object.__new__(Ticket)
    _set_fields(changed, "__dict__", fields)
    return changed


_set_fields = object.__setattr__  # past the frozen dataclass's refusing __setattr__
