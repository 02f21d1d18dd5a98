"""Cross-references inside a policy: every channel, team and template a rule names must exist.

Each problem carries the path of the field at fault, so `check` can point at its very line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from afterhours.policy.rules import (
    ONCALL_PREFIX,
    Effects,
    Escalation,
    PriorityRule,
    Route,
    rule_key,
)
from afterhours.policy.templates import (
    PLACEHOLDERS,
    SYNC_PLACEHOLDERS,
    placeholders,
    unknown_placeholders,
)

if TYPE_CHECKING:
    from afterhours.policy.model import Policy
    from afterhours.policy.roster import OnCallTeam

Path = tuple[str | int, ...]
Problem = tuple[Path, str]


def effects_of(policy: Policy) -> Iterator[tuple[Path, Effects]]:
    """Every rule and level that acts, with the path it sits at."""
    for i, rule in enumerate(policy.priority_rules.rules):
        yield ("priority_rules", "rules", i), rule
    for i, route in enumerate(policy.routes.rules):
        yield ("routes", "rules", i), route
    for i, ladder in enumerate(policy.escalations.rules):
        for j, level in enumerate(ladder.levels):
            yield ("escalations", "rules", i, "levels", j), level


def reference_problems(policy: Policy) -> list[Problem]:
    """Names used twice, and channels, teams and templates named but not declared."""
    problems = _unique_names(policy)
    for path, effects in effects_of(policy):
        problems += _effect_problems(policy, path, effects)
    for team_name, team in policy.oncall.items():
        if team.channel is not None and team.channel not in policy.channels:
            problems.append((("oncall", team_name, "channel"),
                             _undeclared("channel", team.channel, policy.channels)))
    for name, channel in policy.channels.items():
        problems += _recipient_problems(policy, name, channel.to)
    for name, text in policy.templates.items():
        # A template may name the Jira issue: only a sync-back reply fills those (see below).
        problems += [(("templates", name), message) for message in _text_problems(
            policy, text, {**PLACEHOLDERS, **SYNC_PLACEHOLDERS})]
    if isinstance(policy.known_issue_update, str):  # false: none; None: afterhours' words
        problems += _reply_problems(policy, ("known_issue_update",), policy.known_issue_update)
    promised = bool(policy.reply_promises)
    for i, ladder in enumerate(policy.escalations.rules):
        for j, level in enumerate(ladder.levels):
            if level.from_ == "first_reply_due" and not promised:
                problems.append((("escalations", "rules", i, "levels", j, "from"),
                                 "from: first_reply_due needs reply_promises: to say when the "
                                 "first reply is due"))
    return problems


def _unique_names(policy: Policy) -> list[Problem]:
    problems: list[Problem] = []
    blocks: list[tuple[str, Sequence[PriorityRule | Route | Escalation]]] = [
        ("priority_rules", policy.priority_rules.rules), ("routes", policy.routes.rules),
        ("escalations", policy.escalations.rules)]
    names: set[str] = set()
    for block, rules in blocks:
        # What each rule is remembered by (its id, else its name) must be unique in its block,
        # or one rule's actions would count as already done for the other.
        keys: dict[str, str] = {}
        for i, rule in enumerate(rules):
            if rule.name in names:
                problems.append(((block, "rules", i, "name"),
                                 f"rule name {rule.name!r} is used twice; names must be unique"))
                continue
            names.add(rule.name)
            key = rule_key(rule)
            if key in keys:
                field = "id" if rule.id is not None else "name"
                problems.append(((block, "rules", i, field),
                                 f"{key!r} is already what rule {keys[key]!r} is remembered by; "
                                 "ids and names must not repeat each other"))
            keys.setdefault(key, rule.name)
    return problems


def _effect_problems(policy: Policy, path: Path, effects: Effects) -> list[Problem]:
    problems: list[Problem] = []
    if effects.notify is not None and effects.notify not in policy.channels:
        problems.append(((*path, "notify"),
                         _undeclared("channel", effects.notify, policy.channels)))

    if effects.page is not None:
        team = policy.oncall.get(effects.page)
        if team is None:
            problems.append(((*path, "page"),
                             _undeclared("on-call team", effects.page, policy.oncall)))
        elif team.channel is None:
            problems.append(((*path, "page"),
                             f"on-call team {effects.page!r} has no channel: to page"))

    problems += _paging_problems(policy, path, effects)
    if effects.assignee is not None and effects.assignee.startswith(ONCALL_PREFIX):
        team_name = effects.assignee.removeprefix(ONCALL_PREFIX)
        if team_name not in policy.oncall:
            problems.append(((*path, "assignee"),
                             _undeclared("on-call team", team_name, policy.oncall)))
        else:
            # Zendesk assigns by email; a plain name in the rota could never be assigned.
            named = [p for p in policy.oncall[team_name].people() if "@" not in p]
            if named:
                problems.append(((*path, "assignee"),
                                 f"on-call team {team_name!r} names {', '.join(named)} without "
                                 "an email; tickets are assigned by email"))
    elif effects.assignee is not None and "@" not in effects.assignee:
        problems.append(((*path, "assignee"),
                         f"assignee {effects.assignee!r} is neither an email nor "
                         "oncall:<team>"))
    if effects.reply is not None:
        problems += _reply_problems(policy, (*path, "reply"), effects.reply)
    if effects.note is not None:
        problems += [((*path, "note"), message)
                     for message in _text_problems(policy, effects.note)]
    return problems


def _reply_problems(policy: Policy, path: Path, template: str) -> list[Problem]:
    if template not in policy.templates:
        return [(path, _undeclared("template", template, policy.templates))]
    named = [p for p in placeholders(policy.templates[template]) if p in SYNC_PLACEHOLDERS]
    if named:
        return [(path, f"template {template!r} uses {{{named[0]}}}, which only a sync_back "
                       "on_resolution: reply can fill (a rule's reply has no Jira issue to "
                       "name)")]
    return []


def _recipient_problems(policy: Policy, channel: str, recipients: Sequence[str]
                        ) -> list[Problem]:
    """An email channel's oncall:<team> must be a team whose people are all addresses."""
    problems: list[Problem] = []
    for number, recipient in enumerate(recipients):
        if not recipient.startswith(ONCALL_PREFIX):
            continue
        team = recipient.removeprefix(ONCALL_PREFIX)
        path: Path = ("channels", channel, "to", number)
        if team not in policy.oncall:
            problems.append((path, _undeclared("on-call team", team, policy.oncall)))
        elif named := [p for p in policy.oncall[team].people() if "@" not in p]:
            problems.append((path, f"on-call team {team!r} names {', '.join(named)} without"
                                   " an email; they cannot be mailed"))
    return problems


def _paging_problems(policy: Policy, path: Path, effects: Effects) -> list[Problem]:
    """A PagerDuty channel is paged by escalation levels only (a level's stop is what
    resolves the incident, and a rule has none); an email channel needs someone to mail."""
    team = policy.oncall.get(effects.page) if effects.page is not None else None
    targets = [("notify", effects.notify), ("page", team.channel if team else None)]
    problems: list[Problem] = []
    for field, name in targets:
        channel = policy.channels.get(name) if name is not None else None
        if channel is not None and channel.type == "email":
            problems += _mail_problems(path, field, name or "", channel.to, team)
        if channel is not None and channel.type == "pagerduty" and path[0] != "escalations":
            problems.append(((*path, field),
                             f"channel {name!r} is a PagerDuty service: only escalation levels "
                             "may page it (the level's stop resolves the incident; a rule has "
                             "none), so move this to a level of a ladder"))
    return problems


def _mail_problems(path: Path, field: str, name: str, to: Sequence[str],
                   team: OnCallTeam | None) -> list[Problem]:
    if field == "notify" and not to:
        return [((*path, field), f"email channel {name!r} has no to: to mail")]
    named = [p for p in team.people() if "@" not in p] if field == "page" and team else []
    if named:
        return [((*path, field), f"on-call team is paged by mail through {name!r}, but "
                                 f"names {', '.join(named)} without an email")]
    return []


def _text_problems(policy: Policy, text: str,
                   allowed: Mapping[str, str] = PLACEHOLDERS) -> list[str]:
    problems = []
    for name in unknown_placeholders(text, allowed):
        hint = difflib.get_close_matches(name, list(allowed), n=1)
        known = ", ".join("{" + p + "}" for p in allowed)
        said = f"did you mean {{{hint[0]}}}?" if hint else f"known: {known}"
        problems.append(f"unknown placeholder {{{name}}}: {said}")
    if "reply_by" in placeholders(text) and not policy.reply_promises:
        problems.append("{reply_by} needs reply_promises: to say when the first reply is due")
    return problems


def _undeclared(kind: str, name: str, declared: Mapping[str, object]) -> str:
    message = f"{kind} {name!r} is not declared"
    hint = difflib.get_close_matches(name, list(declared), n=1)
    if hint:
        return f"{message}: did you mean {hint[0]!r}?"
    return f"{message}; declared: {', '.join(sorted(declared)) or 'none'}"
