"""The pure planner: (ticket, policy, now, history) -> actions, each with its rule and why.

It does no I/O and reads no clock, so the same inputs always give the same plan, and
a plan whose actions are all settled plans nothing (the loop is idempotent by construction).

Blocks run in order (priority rules, routes, escalations), each on the ticket as the earlier
blocks leave it, so a route or ladder keyed on a priority acts in the same pass that sets it.

A plan also says when to plan the ticket again if nothing about it changes (`Plan.wake_at`,
the daemon's deadline index). Time enters a plan in two ways only:
- which occurrence of an escalation level is due: the next one (a level's first deadline,
  counted on its clock from its `from:` (a promise's due time included), or its next repeat)
  is a candidate for every level of every matching ladder that nothing has stopped, an
  acknowledged one included (its occurrence is skipped, and said so, when it falls due);
- the words of an action (who is on call, when the desk next opens): a plan with actions
  wakes at once (`now`), as its actions are taken now and the plan after them decides.
Whether a ticket arrived after hours is a fact of its creation time, and business minutes
are added up exactly (domain.schedule), so neither adds a moment of its own. Nothing else in
a plan reads `now`: the earliest candidate is when the plan can first differ (no cap).

`plan_with_verdicts` runs this very code and writes down each decision as it is made (every
rule's verdict, every level's deadline and stop: domain.verdicts), for `explain` and
`replay`; `plan_actions`, the daemon's path, writes down nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Protocol, TypeVar

from afterhours.domain import render
from afterhours.domain.actions import CreateJiraIssue, Plan
from afterhours.domain.compiled import CompiledLadder, CompiledLevel, CompiledRule
from afterhours.domain.effects import PlanBuilder, note_marker
from afterhours.domain.jira_names import jira_label, jira_tag
from afterhours.domain.known_issues import (
    judge_known_issues,
    known_match,
    plan_issue_side,
    plan_join,
    plan_joined,
    plan_link,
    plan_tag,
)
from afterhours.domain.known_updates import plan_status_update, withhold_when_closed
from afterhours.domain.ladders import (
    acknowledged,
    cycle_rule,
    escalation_due,
    level_rule,
    level_stop,
    occurrences_since,
)
from afterhours.domain.matching import Prepared, Verdict, Words
from afterhours.domain.message_updates import plan_updates
from afterhours.domain.model import CLOSED_STATUSES, History, Ticket
from afterhours.domain.pages import REPEAT, plan_acknowledgement, plan_resolves
from afterhours.domain.schedule import describe_moment, is_business_time
from afterhours.domain.verdicts import Arrival, Seen, Verdicts, Views
from afterhours.policy.model import Policy
from afterhours.policy.rules import Escalation, PriorityRule, Route

__all__ = ["Verdicts", "Views", "escalation_due", "jira_label", "jira_tag", "level_rule",
           "note_marker", "plan_actions", "plan_with_verdicts", "tally_rule"]




def plan_actions(ticket: Ticket, policy: Policy, now: datetime, history: History) -> Plan:
    """Decide what to do with `ticket` at `now`, leaving out what `history` says is settled."""
    return _plan(ticket, policy, now, history, None)


def plan_with_verdicts(ticket: Ticket, policy: Policy, now: datetime,
                       history: History) -> tuple[Plan, Verdicts]:
    """`plan_actions`, and the verdict of every rule and level behind it (for `explain`,
    `replay`): the same decisions, written down. A closed ticket plans nothing, but its
    rules are still judged (and its levels stopped), to say what they would do."""
    seen = Seen(ticket, policy)
    plan = _plan(ticket, policy, now, history, seen)
    verdicts = seen.verdicts(plan)
    if policy.known_issues:  # judged on the ticket as the routes saw it, as the join is
        verdicts = replace(verdicts, known_issues=judge_known_issues(verdicts.views.routes,
                                                                     policy, history))
    return plan, verdicts


def _plan(ticket: Ticket, policy: Policy, now: datetime, history: History,
          seen: Seen | None) -> Plan:
    builder = PlanBuilder(ticket, history, policy, now)
    planning = ticket.status not in CLOSED_STATUSES  # not ticket.is_closed, inline
    if seen is not None:
        builder.settled_seen = seen.settled
    if planning or seen is not None:
        program = builder.program
        # Whether the ticket came after hours, and when, in the words its verdicts say it in.
        schedule, created = policy.schedule, ticket.created_at
        arrived = (not is_business_time(created, schedule), describe_moment(created, schedule))
        if seen is not None:
            seen.arrival = Arrival(*arrived)
        for rule, reason in _matching(builder, program.priority_rules, program.priority_first,
                                      "priority", arrived, record_hours=planning, seen=seen):
            if planning:
                _plan_rule(builder, rule, reason)
        # One priority from the priority block; a route or a level may still raise it later.
        builder.priority_by = None
        routes_view = builder.view
        for route, reason in _matching(builder, program.routes, program.routes_first, "route",
                                       arrived, record_hours=planning, seen=seen):
            if planning:
                _plan_rule(builder, route, reason)
        if seen is not None:
            seen.views = Views(routes_view, builder.view)
        builder.priority_by = None
        for ladder, reason in _matching(builder, program.escalations, program.escalations_first,
                                        "escalation", arrived, record_hours=False, seen=seen):
            # A closed ticket stops every level: its ladders plan nothing.
            _plan_ladder(builder, ladder, reason, seen)
    if planning and history.acknowledgement is not None:
        plan_acknowledgement(builder)
    elif not planning:
        plan_issue_side(builder)  # the issue's link and join comment outlive the ticket
        withhold_when_closed(builder)
    # Incidents of paging levels no longer needed are resolved, a closed ticket's too.
    if builder.program.paging:
        plan_resolves(builder)
    plan_updates(builder)  # and Slack messages of those levels say they stopped
    wake_at = now if builder.actions else builder.wake_at
    return Plan(ticket.id, tuple(builder.actions), tuple(builder.skips), wake_at)


class _Judged(Protocol):
    """A compiled rule or ladder, as matching looks at it."""

    @property
    def condition(self) -> Prepared: ...
    @property
    def name(self) -> str: ...
    @property
    def rule(self) -> PriorityRule | Route | Escalation: ...


J = TypeVar("J", bound=_Judged)


def _matching(
    builder: PlanBuilder, entries: Sequence[J], first: bool, prefix: str,
    arrived: tuple[bool, str],
    *, record_hours: bool = True, seen: Seen | None = None,
) -> list[tuple[J, str]]:
    view = builder.view
    after_hours, when = arrived
    found: list[tuple[J, str]] = []
    left_for_hours = False
    said: Words | None
    for entry in entries:
        condition = entry.condition
        if found and first:
            if seen is None:
                break
            # Not looked at by the plan; judged still, so a lead sees what a match shadows.
            shadowed = condition.verdict(view, after_hours, when, every=True)
            assert shadowed is not None  # noqa: S101  (every=True)
            seen.judged(prefix, entry.rule, condition, shadowed, found[0][0].rule.name)
            continue
        if seen is None:
            # Prepared.judged, inline: asked of every rule of every plan, most fail a test.
            said = None
            for holds in condition.tests:
                if not holds(view, after_hours):
                    break
            else:
                said = condition.words(view, after_hours, when)
            if said is None:
                continue
        else:
            said = condition.words(view, after_hours, when)
            seen.judged(prefix, entry.rule, condition,
                        Verdict(tuple(said[0]), tuple(said[1]), said[2]), None)
        held, failed, hours_failed = said
        if not failed:  # matched
            found.append((entry, "; ".join(held) or "applies to every ticket"))
        elif record_hours and hours_failed and len(failed) == 1 and not left_for_hours:
            # The rule would have acted but for the clock (Verdict.only_hours_failed): say
            # once that it was left on purpose, then go on, since a later rule without an
            # hours condition may match.
            builder.skip(entry.name, "hours", "; ".join(failed))
            left_for_hours = True
    return found


def _plan_rule(builder: PlanBuilder, entry: CompiledRule, reason: str) -> None:
    name, group, title = entry.name, entry.group, entry.title
    view = builder.view
    # Only a message or a page sends the words; the message names the group only once the
    # change landed (the shell checks the ledger). A Jira issue is named once filed
    # (NotifyChannel.filing).
    if entry.said:
        builder.apply(name, reason, entry.effects,
                      partial(render.route_message, view, title, group or ""),
                      partial(render.route_message, view, title, "") if group else None)
    else:
        builder.apply(name, reason, entry.effects, None, None)
    if entry.jira is None:
        return
    view = builder.view  # the issue carries the priority this very rule may just have set
    issue = builder.history.jira_issue
    filing = None if builder.filed is None else builder.filed[1]
    if filing is not None:
        # A ticket is one Jira issue: a second matching rule must not file another.
        builder.skip(name, "create_jira_issue", f"already filed in Jira by {filing}")
        return
    if issue is None:
        known = known_match(builder, name)
        if known is not None:  # join, don't duplicate: the issue is filed already
            plan_join(builder, name, known)
            plan_status_update(builder, name, entry.effects.reply, known.issue.jira)
            return
        jira = entry.jira
        create = CreateJiraIssue(
            view.id, jira.project, jira.issue_type, render.jira_summary(view),
            render.jira_description(view, reason), (jira_label(view.id), *jira.labels),
            jira.priority.get(view.priority or "none"),  # type: ignore[call-overload]
            tuple(jira.components),
        )
        builder.act(name, "create_jira_issue", reason, create)
        return
    if plan_joined(builder, name, issue.key):  # joined, not filed: said in its words
        plan_status_update(builder, name, entry.effects.reply, issue.key)
        return
    filed = f"filed as {issue.key}"
    plan_link(builder, name, filed, issue.key)
    plan_tag(builder, name, filed, issue.key)
    builder.note(name, "jira_note", filed,
                 f"afterhours filed this ticket in Jira as {issue.key}: {issue.url}")


def tally_rule(rule: str) -> str:
    """A planner rule name without a level's cycle or repeat: what reports count it under."""
    base, _, _ = rule.partition("@")
    return base.split("/repeat:")[0]


def _plan_ladder(builder: PlanBuilder, compiled_ladder: CompiledLadder, because: str,
                 seen: Seen | None = None) -> None:
    policy, now, ladder = builder.policy, builder.now, compiled_ladder.rule
    title = compiled_ladder.title
    for step in compiled_ladder.levels:
        # The level's timing is read off `step`, the plain copy (domain.compiled).
        view, own = builder.view, builder.own_replies
        stop = level_stop(view, step, own)
        if stop is not None:
            if seen is not None:
                seen.level(ladder, step.number, step.level, view, "stopped", stop=stop)
            continue
        after = step.after
        due = (view.created_at + after if after is not None
               else escalation_due(view, step, policy))
        # `occurrences`, with its first deadline worked out from the compiled level.
        occurrence, following = ((None, due) if due is None or now < due
                                 else occurrences_since(due, step, policy, now))
        if following is not None and (builder.wake_at is None or following < builder.wake_at):
            builder.wake_at = following  # builder.wake_by, inline: asked of every level
        if occurrence is None:
            if seen is not None:
                seen.level(ladder, step.number, step.level, view,
                           "never" if following is None else "pending", next_due=following)
            continue
        number, level = step.number, step.level
        name = cycle_rule(step.base, step, view, occurrence.number)
        ack = acknowledged(view, compiled_ladder.acknowledged_by, own,
                           builder.history.acknowledgement)
        if ack is not None:
            builder.skip(name, "acknowledged", f"{ack}; the ladder {title} stops")
            if seen is not None:
                seen.level(ladder, number, level, view, "acknowledged", occurrence, following,
                           acknowledged=ack, why=_why(step, describe_moment(
                               occurrence.due, policy.schedule), occurrence.number))
            continue
        if builder.program.paging:  # only pages are resolved once their level stops
            builder.live.add(name.partition(REPEAT)[0])
        why = _why(step, describe_moment(occurrence.due, policy.schedule), occurrence.number)
        if seen is not None:  # "done" instead, once the plan shows every step was settled
            seen.level(ladder, number, level, view, "acts", occurrence, following, why=why)
        message = (partial(render.escalation_message, view, title, number, why,
                           occurrence.number) if step.says else None)
        reason = f"{because}; {why}"
        builder.level_title = step.title
        # Every level leaves a note saying why it acted: the level's own words when it has
        # them, else afterhours'. One note per level keeps the ledger key `note` stable.
        builder.apply(name, reason, step.effects, message)
        builder.note(name, "note", reason, partial(builder.filled, step.note) if step.note
                     else f"{step.escalated}{why}.")


def _why(level: CompiledLevel, due: str, repeat: int) -> str:
    return f"{level.waited} (due {due}{f', repeat {repeat}' if repeat else ''})"
