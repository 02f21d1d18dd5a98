"""The pure planner: (ticket, policy, now, history) -> actions, each with its rule and why.

It does no I/O and reads no clock, so the same inputs always give the same plan, and
a plan whose actions are all settled plans nothing (the loop is idempotent by construction).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from afterhours.domain import render
from afterhours.domain.actions import (
    Action,
    AddInternalNote,
    AddTags,
    AssignGroup,
    CreateJiraIssue,
    LinkJiraIssue,
    NotifyChannel,
    Plan,
    PlannedAction,
    SetPriority,
    SkippedAction,
)
from afterhours.domain.matching import Verdict, evaluate
from afterhours.domain.model import History, Ticket
from afterhours.domain.schedule import add_business_minutes, describe_moment, is_business_time
from afterhours.policy.model import Escalation, EscalationLevel, Policy, PriorityRule, Route

R = TypeVar("R", PriorityRule, Route)


def jira_label(ticket_id: int) -> str:
    """The label that ties a Jira issue to its ticket, set in the create request itself."""
    return f"zendesk-{ticket_id}"


def note_marker(key: str) -> str:
    """The line that ends each note afterhours writes: its ledger key, findable later."""
    return f"[afterhours {key}]"


def jira_tag(issue_key: str) -> str:
    """The Zendesk tag that shows which Jira issue a ticket was filed as."""
    return "jira_" + issue_key.lower().replace("-", "_")


@dataclass
class _PlanBuilder:
    ticket: Ticket
    history: History
    actions: list[PlannedAction] = field(default_factory=list)
    skips: list[SkippedAction] = field(default_factory=list)

    def act(self, rule: str, step: str, reason: str, action: Action) -> None:
        key = f"ticket:{self.ticket.id}/{rule}/{step}"
        if key not in self.history.settled:
            self.actions.append(PlannedAction(key, rule, reason, action))

    def note(self, rule: str, step: str, reason: str, body: str) -> None:
        # The marker lets a retry after a lost answer see that the note is already there.
        marker = note_marker(f"ticket:{self.ticket.id}/{rule}/{step}")
        self.act(rule, step, reason, AddInternalNote(self.ticket.id, f"{body}\n\n{marker}"))

    def skip(self, rule: str, step: str, reason: str) -> None:
        key = f"ticket:{self.ticket.id}/{rule}/{step}"
        if key not in self.history.settled:
            self.skips.append(SkippedAction(key, rule, reason))

    def add_tags(self, rule: str, step: str, reason: str, tags: list[str]) -> None:
        missing = tuple(t for t in tags if t not in self.ticket.tags)
        if missing:
            self.act(rule, step, reason, AddTags(self.ticket.id, missing))
        elif tags:
            self.skip(rule, step, f"tags {', '.join(tags)} already on the ticket")

    def assign(self, rule: str, step: str, reason: str, group: str | None) -> None:
        if group is None:
            return
        if self.ticket.group == group:
            self.skip(rule, step, f"already in group {group!r}")
        else:
            self.act(rule, step, reason, AssignGroup(self.ticket.id, group))


def plan_actions(ticket: Ticket, policy: Policy, now: datetime, history: History) -> Plan:
    """Decide what to do with `ticket` at `now`, leaving out what `history` says is settled."""
    builder = _PlanBuilder(ticket, history)
    if not ticket.is_closed:
        after_hours = not is_business_time(ticket.created_at, policy.schedule)
        when = describe_moment(ticket.created_at, policy.schedule)
        _plan_priority(builder, policy.priority_rules, after_hours, when)
        _plan_route(builder, policy.routes, after_hours, when)
        for ladder in policy.escalations:
            _plan_escalation(builder, ladder, policy, now, after_hours=after_hours, when=when)
    return Plan(ticket.id, tuple(builder.actions), tuple(builder.skips))


def _first_match(
    builder: _PlanBuilder, rules: list[R], prefix: str, after_hours: bool, when: str
) -> tuple[R, str] | None:
    left_for_hours = False
    for rule in rules:
        verdict = evaluate(rule.when, builder.ticket, after_hours=after_hours, when=when)
        if verdict.matched:
            return rule, _because(verdict)
        if verdict.only_hours_failed and not left_for_hours:
            # The rule would have won but for the clock: say once that it was left on purpose,
            # then go on, since a later rule without an hours condition may still match.
            builder.skip(f"{prefix}:{rule.name}", "hours", "; ".join(verdict.failed))
            left_for_hours = True
    return None


def _plan_priority(
    builder: _PlanBuilder, rules: list[PriorityRule], after_hours: bool, when: str
) -> None:
    found = _first_match(builder, rules, "priority", after_hours, when)
    if found is None:
        return
    rule, reason = found
    name = f"priority:{rule.name}"
    if builder.ticket.priority == rule.priority:
        builder.skip(name, "set_priority", f"priority already {rule.priority.value}")
    else:
        builder.act(name, "set_priority", reason, SetPriority(builder.ticket.id, rule.priority))
    builder.add_tags(name, "add_tags", reason, rule.tags)


def _plan_route(builder: _PlanBuilder, routes: list[Route], after_hours: bool, when: str) -> None:
    found = _first_match(builder, routes, "route", after_hours, when)
    if found is None:
        return
    route, reason = found
    ticket, name = builder.ticket, f"route:{route.name}"
    builder.assign(name, "assign_group", reason, route.group)
    builder.add_tags(name, "add_tags", reason, route.tags)
    if route.note:
        builder.note(name, "note", reason, route.note)
    if route.notify:
        target = route.group or (route.jira.project if route.jira else route.notify)
        text = render.route_message(ticket, route.name, target)
        builder.act(name, "notify", reason, NotifyChannel(ticket.id, route.notify, text))
    if route.jira is None:
        return
    issue = builder.history.jira_issue
    if issue is None:
        labels = (jira_label(ticket.id), *route.jira.labels)
        create = CreateJiraIssue(
            ticket.id,
            route.jira.project,
            route.jira.issue_type,
            render.jira_summary(ticket),
            render.jira_description(ticket, reason),
            labels,
        )
        builder.act(name, "create_jira_issue", reason, create)
        return
    filed = f"filed as {issue.key}"
    title = f"Zendesk #{ticket.id}: {render.one_line(ticket.subject, 200)}"
    builder.act(name, "link_jira_issue", filed,
                LinkJiraIssue(ticket.id, issue.key, ticket.web_url, title))
    builder.add_tags(name, "jira_tag", filed, [jira_tag(issue.key)])
    builder.note(name, "jira_note", filed,
                 f"afterhours filed this ticket in Jira as {issue.key}: {issue.url}")


def _plan_escalation(
    builder: _PlanBuilder,
    ladder: Escalation,
    policy: Policy,
    now: datetime,
    *,
    after_hours: bool,
    when: str,
) -> None:
    ticket = builder.ticket
    verdict = evaluate(ladder.when, ticket, after_hours=after_hours, when=when)
    if not verdict.matched:
        return
    for number, level in enumerate(ladder.levels, start=1):
        if _stopped(ticket, level):
            continue
        due = escalation_due(ticket, level, policy)
        if due is None or now < due:
            continue
        name = f"escalation:{ladder.name}/level:{number}"
        why = (
            f"no {'first reply' if level.until == 'first_reply' else 'resolution'} within "
            f"{level.after_minutes} {level.clock} minutes (due "
            f"{describe_moment(due, policy.schedule)})"
        )
        reason = f"{_because(verdict)}; {why}"
        if level.notify:
            text = render.escalation_message(ticket, ladder.name, number, why)
            builder.act(name, "notify", reason, NotifyChannel(ticket.id, level.notify, text))
        builder.assign(name, "assign_group", reason, level.group)
        builder.add_tags(name, "add_tags", reason, level.tags)
        note = f"afterhours escalated this ticket ({ladder.name}, level {number}): {why}."
        builder.note(name, "note", reason, note)


def escalation_due(ticket: Ticket, level: EscalationLevel, policy: Policy) -> datetime | None:
    """When `level` falls due for `ticket`, counted from creation on the level's clock."""
    if level.clock == "business":
        return add_business_minutes(ticket.created_at, level.after_minutes, policy.schedule)
    return ticket.created_at + timedelta(minutes=level.after_minutes)


def _stopped(ticket: Ticket, level: EscalationLevel) -> bool:
    if level.until == "first_reply":
        return ticket.first_reply_at is not None
    return ticket.solved_at is not None or ticket.is_closed


def _because(verdict: Verdict) -> str:
    return "; ".join(verdict.held) or "applies to every ticket"
