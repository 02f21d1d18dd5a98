"""`build_report`: the facts of a period in, every figure of the report out. Pure: the same
facts and policy always give the same report."""

from __future__ import annotations

from afterhours.policy.model import Policy
from afterhours.report.escalations import escalation_section
from afterhours.report.model import Facts, Report
from afterhours.report.problems import jira_section, problems_section
from afterhours.report.tickets import by_ticket, count_ticket, promise_levels
from afterhours.report.timing import response_section
from afterhours.report.volume import volume_section


def build_report(facts: Facts, policy: Policy) -> Report:
    """The report of `facts` under `policy` (its schedule, promises and ladders)."""
    events = by_ticket(facts.events)
    promises = promise_levels(policy)
    seen = {t.id: t for t in (*facts.backlog, *facts.tickets)}
    every = {i: count_ticket(t, events.get(i, ()), policy, facts.end, promises)
             for i, t in seen.items()}
    arrived = [t for t in facts.tickets if facts.start <= t.created_at <= facts.end]
    counted = [every[t.id] for t in arrived]
    backlog = [every[t.id] for t in facts.backlog if not t.is_closed]
    return Report(
        start=facts.start,
        end=facts.end,
        time_zone=policy.schedule.time_zone,
        sections=(
            volume_section(counted),
            response_section(counted, backlog),
            escalation_section(facts.events, every),
            jira_section(facts.filed, seen, facts.start, facts.end),
            problems_section(arrived, policy),
        ),
    )
