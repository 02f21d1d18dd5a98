"""What `check` says about a policy's sync_back: section beyond its own fields: the projects it
watches, the templates it names, the placeholders it uses. Each problem carries its path."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from afterhours.policy.rules import PriorityRule, Route
from afterhours.policy.templates import (
    JIRA_COMMENT_PLACEHOLDERS,
    PLACEHOLDERS,
    SYNC_PLACEHOLDERS,
    placeholders,
)

if TYPE_CHECKING:
    from afterhours.policy.model import Policy

Path = tuple[str | int, ...]
Problem = tuple[Path, str]
# What a sync-back reply can fill: the ticket's facts and the issue's, not the promise nor the
# desk's hours (they belong to the ticket's arrival, long past when the fix is released).
REPLY_PLACEHOLDERS = {name: help_text for name, help_text in
                      {**PLACEHOLDERS, **SYNC_PLACEHOLDERS}.items()
                      if name not in ("reply_by", "next_open", "known_issue", "articles")}


def watched_projects(policy: Policy) -> tuple[str, ...]:
    """The Jira projects sync-back polls: those the rules file into, and its own list."""
    if policy.sync_back is None:
        return ()
    rules: list[PriorityRule | Route] = [*policy.priority_rules.rules, *policy.routes.rules]
    filed = [rule.jira.project for rule in rules if rule.jira is not None]
    return tuple(sorted({*filed, *policy.sync_back.projects}))


def sync_back_problems(policy: Policy) -> list[Problem]:
    """Templates named but not declared, placeholders that cannot be filled, nothing to watch."""
    sync = policy.sync_back
    if sync is None:
        return []
    problems: list[Problem] = []
    if not watched_projects(policy):
        problems.append((("sync_back",), "sync_back has no Jira project to watch: no rule "
                                         "files into Jira; list some under projects:"))
    resolution = sync.on_resolution
    if resolution is not None and resolution.reply is not None:
        path: Path = ("sync_back", "on_resolution", "reply")
        text = policy.templates.get(resolution.reply)
        if text is None:
            known = ", ".join(sorted(policy.templates)) or "none"
            hint = difflib.get_close_matches(resolution.reply, list(policy.templates), n=1)
            said = f"did you mean {hint[0]!r}?" if hint else f"declared: {known}"
            problems.append((path, f"template {resolution.reply!r} is not declared; {said}"))
        else:
            problems += [(path, f"template {resolution.reply!r} uses {{{name}}}, which a "
                                "reply on resolution cannot say (it belongs to the ticket's "
                                "arrival)")
                         for name in placeholders(text) if name not in REPLY_PLACEHOLDERS]
    for event in ("ticket_solved", "ticket_reopened", "customer_comment"):
        reaction = getattr(sync.in_jira, event)
        if reaction is None or reaction.comment is None:
            continue
        known = ", ".join("{" + p + "}" for p in JIRA_COMMENT_PLACEHOLDERS)
        problems += [(("sync_back", "in_jira", event, "comment"),
                      f"unknown placeholder {{{name}}} in a comment for Jira: known: {known}")
                     for name in placeholders(reaction.comment)
                     if name not in JIRA_COMMENT_PLACEHOLDERS]
    return problems
