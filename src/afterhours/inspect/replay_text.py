"""`replay` as text: per rule, how many tickets, which actions, a few ticket ids."""

from __future__ import annotations

import textwrap

from afterhours.domain.render import one_line
from afterhours.domain.schedule import describe_moment
from afterhours.inspect.replay import SAMPLE_SIZE, PolicyDiff, RuleTally
from afterhours.inspect.replay_report import METHOD, ReplayReport
from afterhours.inspect.words import count
from afterhours.policy.rules import level_key, rule_key

_WIDTH = 28


_SAYS = {"first": "the first that matches wins", "all": "every one that matches acts"}


def render_report(report: ReplayReport) -> str:
    """The replay report as readable text, ending with a newline."""
    schedule = report.policy.policy.schedule
    selection = report.selection
    lines = [
        f"Replay of {count(len(selection.tickets), 'ticket')} created"
        f" from {describe_moment(report.period.start, schedule)}"
        f" until {describe_moment(report.period.end, schedule)}",
        f"  policy {report.policy.path} (sha256 {report.policy.sha256[:12]});"
        " nothing is changed by replaying.",
        f"  Read {count(selection.read, 'ticket')} from the Zendesk export:"
        f" {len(selection.tickets)} replayed, {selection.outside} created outside the period,"
        f" {selection.deleted} deleted (left out).",
        f"  Evaluated as of {describe_moment(report.evaluated_at, schedule)}.",
        *textwrap.wrap(METHOD, 96, initial_indent="  ", subsequent_indent="  "),
    ]
    tallies = {t.rule: t for t in report.replay.tallies}
    policy = report.policy.policy
    lines += ["", f"Priority rules ({_SAYS[policy.priority_rules.match]}):"]
    lines += [_row(r.name, tallies[f"priority:{rule_key(r)}"])
              for r in policy.priority_rules.rules]
    lines += ["", f"Routes ({_SAYS[policy.routes.match]}):"]
    lines += [_row(r.name, tallies[f"route:{rule_key(r)}"]) for r in policy.routes.rules]
    lines += ["", f"Escalation ladders ({_SAYS[policy.escalations.match]}; 'tickets' = applies):"]
    for ladder in policy.escalations.rules:
        lines.append(_row(ladder.name, tallies[f"escalation:{rule_key(ladder)}"]))
        for n, step in enumerate(ladder.levels, start=1):
            level = tallies[f"escalation:{rule_key(ladder)}/level:{level_key(n, step)}"]
            lines.append(_row(f"  level {n} fired", level))
    untouched = report.replay.untouched
    lines += ["", f"No rule matched {count(len(untouched), 'ticket')}"
                  + (f": e.g. {_ids(untouched)}" if untouched else ".")]
    joins = report.replay.joins
    if joins or policy.known_issues or policy.similar_issues is not None:
        lines += ["", f"Joins instead of filing in Jira: {count(len(joins), 'ticket')}"]
        lines += [f"  #{j.ticket_id} → {j.issue}: {one_line(j.reason, 160)}" for j in joins]
    near, similar = report.replay.near_joins, policy.similar_issues
    if near and similar is not None:
        lines += ["", f"Closest below the threshold ({similar.threshold}), filed instead:"]
        lines += [f"  #{n.ticket_id} ~ {n.issue}: {n.score:.0f}% alike"
                  f" (shared words: {', '.join(n.words) or 'none in the subjects'})"
                  for n in near]
    if report.diff is not None and report.against is not None:
        lines += _diff(report.diff, report)
    return "\n".join(lines) + "\n"


def _row(label: str, tally: RuleTally) -> str:
    actions = ", ".join(f"{kind} {n}" for kind, n in sorted(tally.actions.items()))
    tickets = len(tally.tickets)
    parts = [f"  {label:<{_WIDTH}} {tickets:>4} {'ticket ' if tickets == 1 else 'tickets'}"]
    if actions:
        parts.append(actions + (f" ({tally.already} already in place)" if tally.already else ""))
    if tally.tickets:
        parts.append(f"e.g. {_ids(tally.sample)}")
    line = "  ".join(parts)
    if tally.held_by_hours:
        line += (f"\n  {'':<{_WIDTH}}      matched all but the hours condition for"
                 f" {count(len(tally.held_by_hours), 'ticket')}, e.g."
                 f" {_ids(tally.held_by_hours[:SAMPLE_SIZE])}")
    return line


def _ids(ids: tuple[int, ...] | list[int]) -> str:
    return ", ".join(f"#{i}" for i in ids[:SAMPLE_SIZE])


def _diff(diff: PolicyDiff, report: ReplayReport) -> list[str]:
    old = report.against.path if report.against else "the other policy"
    total = len(report.selection.tickets)
    lines = ["", f"Compared with {old} (old) -> {report.policy.path} (new):",
             "  (+ only with the new policy, - only with the old)"]
    if not diff.changed:
        return [*lines, "  no ticket would be handled differently."]
    lines.append(f"  {len(diff.changed)} of {count(total, 'ticket')} would be handled"
                 " differently. Tickets gained and lost, per rule:")
    for shift in diff.shifts:
        sample = [f"+#{i}" for i in shift.gained[:3]] + [f"-#{i}" for i in shift.lost[:3]]
        lines.append(f"    {shift.rule:<{_WIDTH + 12}} +{len(shift.gained):<4}"
                     f" -{len(shift.lost):<4} e.g. {', '.join(sample)}")
    subjects = {t.id: t.subject for t in report.selection.tickets}
    lines.append("  Examples:")
    for change in diff.changed[:SAMPLE_SIZE]:
        subject = one_line(subjects.get(change.ticket_id, ""), 60)
        lines.append(f"    #{change.ticket_id} “{subject}”")
        if change.rules_gained:
            lines.append(f"       now matches:   {', '.join(change.rules_gained)}")
        if change.rules_lost:
            lines.append(f"       no longer:     {', '.join(change.rules_lost)}")
        lines += [f"       + {a}" for a in change.steps_gained]
        lines += [f"       - {a}" for a in change.steps_lost]
    return lines
