"""`explain` as text for a support lead: one section per question, plain words, no jargon."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from afterhours.domain.render import one_line
from afterhours.domain.schedule import describe_moment
from afterhours.domain.verdicts import RuleVerdict
from afterhours.inspect.explain import Explanation, LadderView, Ledger, LevelView, local_stamp
from afterhours.inspect.words import describe_action, level_actions, rule_actions
from afterhours.policy.model import EscalationLevel, Policy
from afterhours.policy.rules import Rule

_INDENT = "       "


def render_explanation(explained: Explanation) -> str:
    """The explanation as a readable report, ending with a newline."""
    lines = _ticket(explained)
    policy = explained.policy
    lines += _block("Priority rules", policy.priority_rules.match, policy.priority_rules.rules,
                    explained.verdicts.priority_rules, "no priority rule matches")
    lines += _block("Routes", policy.routes.match, policy.routes.rules,
                    explained.verdicts.routes, "no route matches")
    lines += _known_issues(explained)
    lines += _ladders(explained)
    lines += _plan(explained)
    lines += _ledger(explained.ledger, explained.policy)
    return "\n".join(lines) + "\n"


def _ticket(explained: Explanation) -> list[str]:
    ticket, policy = explained.ticket, explained.policy
    arrival = explained.verdicts.arrival
    tags = ", ".join(sorted(ticket.tags)) or "none"
    lines = [
        f"Ticket #{ticket.id} “{one_line(ticket.subject, 80)}”",
        f"  {ticket.status}, priority {ticket.priority or 'none'}, group {ticket.group or 'none'},"
        f" tags {tags}",
        f"  from {ticket.requester_email or 'unknown'}"
        f" ({ticket.organization or 'no organization'}) via {ticket.channel}",
        f"  {ticket.web_url}",
        f"Explained as of {describe_moment(explained.now, policy.schedule)}."
        " Nothing is changed by explaining.",
        "",
        f"Arrival: {'AFTER HOURS' if arrival.after_hours else 'in business hours'},"
        f" created {arrival.when}",
        f"  because {explained.arrival_why}.",
    ]
    if ticket.is_closed:
        lines.append(f"  The ticket is {ticket.status}: afterhours plans nothing for it; the rules"
                     " below show what they would say.")
    return lines


# How a block picks its rules, as its title says it.
_MATCH = {"first": "the first rule that matches wins", "all": "every rule that matches acts"}


def _block(title: str, match: str, rules: Sequence[Rule], block: tuple[RuleVerdict, ...],
           none_won: str) -> list[str]:
    what = _MATCH[match].replace("rule", "route") if title == "Routes" else _MATCH[match]
    lines = ["", f"{title}: {what}:"]
    if not block:
        return [*lines, "  (none in the policy)"]
    for number, (rule, judged) in enumerate(zip(rules, block, strict=True), start=1):
        if judged.status == "won":
            lines.append(f"  {number}. {judged.name}: {'WON' if match == 'first' else 'MATCHED'}")
            lines += _reasons(judged)
            lines.append(f"{_INDENT}does: {', '.join(rule_actions(rule)) or 'nothing'}")
            lines += _settled(judged)
        elif judged.status == "not matched":
            lines.append(f"  {number}. {judged.name}: not matched")
            lines += _reasons(judged)
        else:
            alone = "would match" if judged.verdict.matched else "would not match"
            lines.append(f"  {number}. {judged.name}: not considered ({judged.shadowed_by} won"
                         f" first; on its own it {alone})")
    if not any(j.status == "won" for j in block):
        lines.append(f"  => {none_won}: nothing from this block")
    return lines


def _known_issues(explained: Explanation) -> list[str]:
    judged = explained.verdicts.known_issues
    if not judged:
        return []
    lines = ["", "Known issues: a ticket a route files in Jira joins the first that matches:"]
    for number, known in enumerate(judged, start=1):
        said = "MATCHED" if known.chosen else (
            f"matches, but not joined: {known.left}" if known.left else
            "matches, but an earlier one came first" if known.verdict.matched else "not matched")
        lines.append(f"  {number}. {known.issue.name} ({known.issue.jira}): {said}")
        lines += [f"{_INDENT}yes: {r}" for r in known.verdict.held]
        lines += [f"{_INDENT}no:  {r}" for r in known.verdict.failed]
    return lines


def _settled(judged: RuleVerdict) -> list[str]:
    # Steps the planner left out because the ledger has them: done (or skipped) before.
    steps = [key.rpartition("/")[2] for key in judged.steps.settled]
    return [f"{_INDENT}already done (ledger): {', '.join(steps)}"] if steps else []


def _reasons(judged: RuleVerdict) -> list[str]:
    verdict = judged.verdict
    if not verdict.held and not verdict.failed:
        return [f"{_INDENT}yes: no conditions, so every ticket matches"]
    return [f"{_INDENT}yes: {r}" for r in verdict.held] + [
        f"{_INDENT}no:  {r}" for r in verdict.failed
    ]


def _ladders(explained: Explanation) -> list[str]:
    every = explained.policy.escalations.match == "all"
    lines = ["", "Escalation ladders: " + ("every ladder that matches applies:" if every else
                                           "the first ladder that matches applies:")]
    if not explained.ladders:
        return [*lines, "  (none in the policy)"]
    for ladder in explained.ladders:
        lines += _ladder(ladder, explained.policy)
    return lines


def _ladder(ladder: LadderView, policy: Policy) -> list[str]:
    name = ladder.verdict.name
    if ladder.verdict.status == "not considered":
        lines = [f"  {name}: not considered ({ladder.verdict.shadowed_by} applies first)"]
    elif ladder.applies == "yes":
        lines = [f"  {name}: applies"]
    elif ladder.applies == "after this plan":
        lines = [f"  {name}: applies once the planned changes below are made"]
    else:
        lines = [f"  {name}: does not apply"]
    lines += _reasons(ladder.verdict)
    ack = _acknowledgement(ladder)
    if ladder.levels and ack:
        lines.append(f"{_INDENT}the whole ladder stops once acknowledged: {ack}")
    for view in ladder.levels:
        lines += [f"    level {view.number}: {_level_rule(view.level)}",
                  f"{_INDENT}{view.note}" if view.due is None else
                  f"{_INDENT}due {_deadline(view, view.due, policy)}: {view.note}"]
    return lines


def _deadline(view: LevelView, due_at: datetime, policy: Policy) -> str:
    """The level's first deadline, and the moment it counts from unless that is creation
    (or the deadline itself)."""
    due = describe_moment(due_at, policy.schedule)
    start = view.verdict.start
    if view.level.from_ == "created" or start is None or start == due_at:
        return due
    counted = describe_moment(start, policy.schedule)
    return f"{due} (counted from {_FROM[view.level.from_]}, {counted})"


# Where a level's minutes count from, and what stops it, as the policy language means them.
_FROM = {"created": "creation", "last_customer_update": "the requester's last update",
         "first_reply_due": "the promised first reply time"}
_UNTIL = {"first_reply": "an agent's first public reply",
          "answered": "an answer (the ticket pending or solved)", "solved": "solved"}


def _level_rule(level: EscalationLevel) -> str:
    """A level as the policy says it: when it acts, what stops it, and everything it does."""
    start = _FROM[level.from_]
    when = (f"at {start}" if not level.after_minutes
            else f"{level.after_minutes} {level.clock} minutes after {start}")
    if level.repeat_every_minutes:
        when += (f", then every {level.repeat_every_minutes} {level.clock} minutes up to"
                 f" {level.max_repeats} more times")
    return f"{when}, unless {_UNTIL[level.until]} -> {', '.join(level_actions(level))}"


def _acknowledgement(ladder: LadderView) -> str:
    ack = ladder.ladder.acknowledged_by
    said = [f"tag {', '.join(ack.tags)}"] if ack.tags else []
    said += ["an assignee is set"] if ack.assignee else []
    said += ["an agent's public reply"] if ack.public_reply else []
    return " or ".join(said)


def _plan(explained: Explanation) -> list[str]:
    plan, policy = explained.plan, explained.policy
    source = "the ledger's history" if explained.ledger.found else "an empty history (no ledger)"
    lines = ["", f"Planned at {describe_moment(explained.now, policy.schedule)}, with {source}:"]
    if not plan.actions:
        lines.append(f"  nothing to do: {_why_nothing(explained)}")
    for planned in plan.actions:
        lines += [
            f"  - {describe_action(planned.action)}  [{planned.kind}, {planned.rule}]",
            f"{_INDENT}because {planned.reason}",
        ]
    if plan.skips:
        lines.append("  Left alone on purpose:")
        lines += [f"  - {skip.rule}: {skip.reason}" for skip in plan.skips]
    return lines


def _why_nothing(explained: Explanation) -> str:
    if explained.ticket.is_closed:
        return f"the ticket is {explained.ticket.status}"
    verdicts = explained.verdicts
    matched = any(v.status in ("won", "applies") for v in (
        *verdicts.priority_rules, *verdicts.routes, *(ladder.judged for ladder in
                                                       verdicts.escalations)))
    if not matched:
        return "no rule applies to this ticket"
    return "what the rules ask for is done, in place, or not yet due"


def _ledger(ledger: Ledger, policy: Policy) -> list[str]:
    if not ledger.found:
        return ["", f"Ledger: no state file at {ledger.path}; nothing recorded, so the plan"
                    " above assumes nothing was done yet."]
    lines = ["", f"Ledger ({ledger.path}):"]
    issue = ledger.history.jira_issue
    if issue is not None:
        lines.append(f"  filed in Jira as {issue.key}: {issue.url}")
    if ledger.linked_issues:
        lines.append(f"  hangs off Jira {', '.join(ledger.linked_issues)}: what flowed back"
                     " either way is below (rules sync:<issue>)")
    if not ledger.audit:
        lines.append("  nothing recorded for this ticket")
    for row in ledger.audit:
        what = " ".join(part for part in (row.rule, row.action) if part)
        lines.append(f"  {local_stamp(row.at, policy)}  {row.outcome:<8} {what}:"
                     f" {one_line(row.reason, 100)}")
    return lines
