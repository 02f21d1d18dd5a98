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
    JoinJiraIssue,
    LabelIssue,
    LinkJiraIssue,
    NotifyChannel,
    RemoveTags,
    ResolvePage,
    SendMail,
    SetPriority,
    SetStatus,
    TriggerPage,
    UpdateChatMessage,
)
from afterhours.domain.render import one_line
from afterhours.policy.rules import ONCALL_PREFIX, Effects, EscalationLevel, JiraTarget, Rule


def describe_action(action: Action) -> str:
    """What an action does, in a few words: 'priority urgent', 'notify channel finance'."""
    if isinstance(action, SetStatus | CommentOnIssue | LabelIssue | JoinJiraIssue | TriggerPage
                  | ResolvePage | SendMail | UpdateChatMessage):
        return _describe_outside(action)
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


def _describe_outside(action: SetStatus | CommentOnIssue | LabelIssue | JoinJiraIssue
                      | TriggerPage | ResolvePage | SendMail | UpdateChatMessage) -> str:
    """What a sync-back, known-issue or paging action does, in a few words."""
    if isinstance(action, UpdateChatMessage):
        return f"update the Slack message on {action.channel}: the escalation stopped"
    if isinstance(action, TriggerPage | ResolvePage | SendMail):
        return _page_words(action)
    if isinstance(action, JoinJiraIssue):
        return f"join Jira {action.issue_key} (label {action.label}, count its customers)"
    if isinstance(action, SetStatus):
        return f"status {action.status}"
    if isinstance(action, CommentOnIssue):
        return f"comment on Jira {action.issue_key}"
    return f"label Jira {action.issue_key} {', '.join(action.labels)}"


def _page_words(action: TriggerPage | ResolvePage | SendMail) -> str:
    if isinstance(action, SendMail):
        return f"mail {action.channel} ({', '.join(action.to)})"
    if isinstance(action, TriggerPage):
        return f"page PagerDuty {action.channel} ({action.severity})"
    return f"resolve the PagerDuty incident on {action.channel}"


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


def effect_words(effects: Effects) -> list[str]:
    """Everything a rule or level says it does, in plain words (a level's note aside: see
    `level_actions`)."""
    does = [f"page {effects.page} (whoever is on call)"] if effects.page else []
    does += [f"notify {effects.notify}"] if effects.notify else []
    does += [f"priority {effects.priority.value}"] if effects.priority else []
    does += [f"group {effects.group}"] if effects.group else []
    if effects.assignee:
        team = effects.assignee.removeprefix(ONCALL_PREFIX)
        does.append(f"assignee whoever is on call for {team}" if team != effects.assignee
                    else f"assignee {effects.assignee}")
    does += [f"tags {', '.join(effects.tags)}"] if effects.tags else []
    does += [f"remove tags {', '.join(effects.remove_tags)}"] if effects.remove_tags else []
    does += [f"public reply {effects.reply}"] if effects.reply else []
    jira: JiraTarget | None = getattr(effects, "jira", None)
    if jira is not None:
        does.append(_jira_words(jira))
    return does


def _jira_words(jira: JiraTarget) -> str:
    said = f"file in Jira: {jira.issue_type} in {jira.project}, labels zendesk-<id>"
    said += "".join(f", {label}" for label in jira.labels)
    said += f", components {', '.join(jira.components)}" if jira.components else ""
    if jira.priority:
        said += ", Jira priority " + ", ".join(
            f"{zendesk} {named}" for zendesk, named in jira.priority.items())
    return said


def rule_actions(rule: Rule) -> list[str]:
    """Everything a priority rule or route does when it acts, in plain words."""
    return effect_words(rule) + (["internal note “" + one_line(rule.note, 40) + "”"]
                                 if rule.note else [])


def level_actions(level: EscalationLevel) -> list[str]:
    """Everything a level does when it acts, in plain words: always a note, its own or
    afterhours' saying why."""
    does = effect_words(level)
    does.append("internal note “" + one_line(level.note, 40) + "”" if level.note
                else "internal note")
    return does
