"""`check --live`: every name the policy uses, looked up in the real services.

`check` alone proves the file is well-formed; a group misspelt against Zendesk, a Jira
component that was renamed or a dead webhook only show when something is asked of them, and
the SOP asks for the channels to be tested before each shift.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO
from urllib.parse import urlsplit

from afterhours.adapters.jira import JiraIssueTracker
from afterhours.bootstrap import build_targets
from afterhours.clock import utc_now
from afterhours.domain.mail import channel_recipients
from afterhours.inspect.live import (
    Reference,
    ReferenceKind,
    check_live,
    live_exit_code,
    render_live,
)
from afterhours.inspect.live import Targets as LiveTargets
from afterhours.inspect.sources import PROMPT_RETRY, open_desk
from afterhours.policy.conditions import Condition
from afterhours.policy.model import Policy
from afterhours.policy.references import effects_of
from afterhours.policy.rules import ONCALL_PREFIX, PriorityRule, Route
from afterhours.settings import Settings


def policy_references(policy: Policy) -> list[Reference]:
    """Every channel, group, agent, custom field and Jira name the policy relies on."""
    found: dict[tuple[str, str, str | None], Reference] = {}
    for ref in (*_zendesk_references(policy), *_jira_references(policy)):
        found.setdefault((ref.kind, ref.name, ref.project), ref)
    return list(found.values())


def _zendesk_references(policy: Policy) -> Iterator[Reference]:
    for name, channel in policy.channels.items():
        kind: ReferenceKind = "channel" if channel.type == "webhook" else channel.type
        yield Reference(kind, name, f"channels.{name}")
    paged: set[str] = set()
    for path, effects in effects_of(policy):
        where = ".".join(str(p) for p in path)
        if effects.group:
            yield Reference("group", effects.group, f"{where}.group")
        if effects.assignee and effects.assignee.startswith(ONCALL_PREFIX):
            paged.add(effects.assignee.removeprefix(ONCALL_PREFIX))
        elif effects.assignee:
            yield Reference("agent", effects.assignee, f"{where}.assignee")
    # Only a team tickets are assigned to must be Zendesk agents; a paged one is reached by chat.
    for team in sorted(paged):
        for person in policy.oncall[team].people():
            if "@" in person:
                yield Reference("agent", person, f"oncall.{team}")
    named = [("priority_rules", r.name, r.when) for r in policy.priority_rules.rules]
    named += [("routes", r.name, r.when) for r in policy.routes.rules]
    named += [("escalations", r.name, r.when) for r in policy.escalations.rules]
    for block, name, when in named:
        for title in _field_titles(when):
            yield Reference("field", title, f"{block}.{name}.when")


def _jira_references(policy: Policy) -> Iterator[Reference]:
    rules: list[PriorityRule | Route] = [*policy.priority_rules.rules, *policy.routes.rules]
    for rule in rules:
        if rule.jira is None:
            continue
        where, project = f"{rule.name}.jira", rule.jira.project
        yield Reference("jira_project", project, f"{where}.project")
        yield Reference("jira_issue_type", rule.jira.issue_type, f"{where}.issue_type", project)
        for component in rule.jira.components:
            yield Reference("jira_component", component, f"{where}.components", project)
        for priority in rule.jira.priority.values():
            yield Reference("jira_priority", priority, f"{where}.priority")
    # The projects sync-back watches besides those the rules file into.
    for project in policy.sync_back.projects if policy.sync_back is not None else ():
        yield Reference("jira_project", project, "sync_back.projects")


def _field_titles(condition: Condition) -> Iterator[str]:
    yield from condition.fields
    for part in (*condition.all_, *condition.any_):
        yield from _field_titles(part)
    if condition.not_ is not None:
        yield from _field_titles(condition.not_)


def run_live_check(policy: Policy, out: TextIO | None, *, send_test: bool = False,
                   ) -> tuple[int, list[dict[str, object]]]:
    """Look every reference up with the credentials in AFTERHOURS_* settings; the exit code
    (0 when all hold) and the results as JSON-ready data. With `out`, the report is written
    there as text. `send_test`: also one test page (resolved at once) and mail per channel."""
    settings = Settings()
    now = utc_now()
    desk = open_desk(settings)
    tracker = JiraIssueTracker(
        str(settings.jira_url), settings.jira_email, settings.jira_token.get_secret_value(),
        ticket_namespace=urlsplit(str(settings.zendesk_url)).netloc,
        timeout=settings.http_timeout, retry=PROMPT_RETRY)
    notifier = build_targets(settings, retry=PROMPT_RETRY)
    mail_to = {name: tuple(channel_recipients(policy, name, now))
               for name, channel in policy.channels.items() if channel.type == "email"}
    try:
        results = check_live(policy_references(policy), desk=desk, tracker=tracker,
                             notifier=notifier, now=now,
                             targets=LiveTargets(notifier, send_test, mail_to, {
                                 name: channel.conversation
                                 for name, channel in policy.channels.items()
                                 if channel.conversation is not None}))
    finally:
        desk.close()
        tracker.close()
        notifier.close()
    if out is not None:
        out.write(render_live(results))
    found = [{"kind": r.reference.kind, "name": r.reference.name, "where": r.reference.where,
              "ok": r.ok, "detail": r.detail} for r in results]
    return live_exit_code(results), found
