"""Short phrases shared by the explain and replay reports."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import assert_never

from afterhours.domain.actions import (
    Action,
    AddInternalNote,
    AddPublicReply,
    AddTags,
    AssignAgent,
    AssignGroup,
    CommentOnIssue,
    CreateJiraIssue,
    LabelIssue,
    LinkJiraIssue,
    NotifyChannel,
    RemoveTags,
    SetPriority,
    SetStatus,
)
from afterhours.domain.render import one_line
from afterhours.policy.rules import EscalationLevel


def describe_action(action: Action) -> str:
    """What an action does, in a few words: 'priority urgent', 'notify channel finance'."""
    if isinstance(action, SetStatus | CommentOnIssue | LabelIssue):
        return _describe_sync(action)
    match action:
        case SetPriority():
            said = f"priority {action.priority}"
        case AddTags():
            said = f"tags {', '.join(action.tags)}"
        case RemoveTags():
            said = f"remove tags {', '.join(action.tags)}"
        case AssignGroup():
            said = f"group {action.group}"
        case AssignAgent():
            said = f"assignee {action.email}"
        case AddInternalNote():
            said = f"internal note “{one_line(action.body, 60)}”"
        case AddPublicReply():
            said = f"public reply “{one_line(action.body, 60)}”"
        case NotifyChannel():
            said = f"notify channel {action.channel}"
        case CreateJiraIssue():
            said = f"Jira {action.issue_type} in {action.project}: “{one_line(action.summary, 60)}”"
        case LinkJiraIssue():
            said = f"link Jira {action.issue_key} back to the ticket"
        case _:
            assert_never(action)
    return said


def _describe_sync(action: SetStatus | CommentOnIssue | LabelIssue) -> str:
    """What a sync-back action does, in a few words."""
    if isinstance(action, SetStatus):
        return f"status {action.status}"
    if isinstance(action, CommentOnIssue):
        return f"comment on Jira {action.issue_key}"
    return f"label Jira {action.issue_key} {', '.join(action.labels)}"


def describe_delta(delta: timedelta) -> str:
    """A duration as a lead says it: '2d 3h', '3h 20m', '45m', 'under a minute'."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins}m" if mins else f"{hours}h"
    return f"{mins}m" if mins else "under a minute"


def count(n: int, noun: str) -> str:
    """'1 ticket', '3 tickets'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def iso(moment: datetime | None) -> str | None:
    """An aware datetime as ISO 8601 for JSON, or None."""
    return None if moment is None else moment.isoformat()


def level_actions(level: EscalationLevel) -> list[str]:
    """Everything a level does when it acts, in plain words."""
    does = [f"page {level.page} (whoever is on call)"] if level.page else []
    does += [f"notify {level.notify}"] if level.notify else []
    does += [f"priority {level.priority.value}"] if level.priority else []
    does += [f"group {level.group}"] if level.group else []
    does += [f"assignee {level.assignee}"] if level.assignee else []
    does += [f"tags {', '.join(level.tags)}"] if level.tags else []
    does += [f"remove tags {', '.join(level.remove_tags)}"] if level.remove_tags else []
    does += [f"public reply {level.reply}"] if level.reply else []
    does.append("internal note “" + one_line(level.note, 40) + "”" if level.note
                else "internal note")
    return does
