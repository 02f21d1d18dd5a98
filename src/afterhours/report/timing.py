"""Response times and SLA: from arrival to the daemon's first action and to the first reply
(a person's, where Zendesk's metrics say when), against the policy's promises; attainment
per priority; the open backlog beyond its promise. Pure."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence

from afterhours.report.model import Cell, Section, Table, table
from afterhours.report.tickets import PRIORITIES, SLA_STATES, Counted

BACKLOG_TARGET_PERCENT = 5.0  # the SOP templates aim for 5 % or less beyond SLA
PER_TICKET_ROWS = 500  # the per-ticket list is cut here; the figures count every ticket


def _median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 1) if known else None


def _p90(values: Sequence[float | None]) -> float | None:
    known = sorted(v for v in values if v is not None)
    if not known:
        return None
    # The nearest-rank 90th percentile: a value that happened, never an interpolation.
    return known[max(0, -(-9 * len(known) // 10) - 1)]


def response_section(counted: Sequence[Counted], backlog: Sequence[Counted]) -> Section:
    """Response times and SLA of the after-hours tickets, and the open backlog."""
    after = [c for c in counted if c.after_hours]
    replied = [c for c in after if c.human_replied]
    timed = [c for c in replied if c.human_reply is not None]
    sla = Counter(c.sla for c in after)
    judged = sla["met"] + sla["missed"]
    beyond = [c for c in backlog if c.sla == "missed"]
    share = round(100 * len(beyond) / len(backlog), 1) if backlog else 0.0
    return Section(
        "response", "Response times and SLA",
        (("median minutes to the daemon's first action",
          _median([c.minutes_to(c.first_action) for c in after])),
         ("tickets a person replied to", len(replied)),
         ("of them, with the reply time in Zendesk's metrics", len(timed)),
         ("SLA attainment %", round(100 * sla["met"] / judged, 1) if judged else None),
         ("open backlog beyond SLA %", share)),
        (_by_priority(after), _sla_table(after), _backlog(backlog, beyond, share),
         _per_ticket(after)),
    )


def _by_priority(after: Sequence[Counted]) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for priority in PRIORITIES:
        group = [c for c in after if c.priority == priority]
        if not group:
            continue
        rows.append((
            priority,
            _median([c.minutes_to(c.first_action) for c in group]),
            _median([c.minutes_to(c.first_reply) for c in group]),
            _median([c.minutes_to(c.human_reply) for c in group]),
            _median([c.minutes_to(c.reply_by) for c in group]),
            _p90([c.minutes_to(c.first_action) for c in group]),
        ))
    return table(
        "response_by_priority", "Median minutes from arrival, by priority",
        ("priority", "first action", "first reply", "first human reply", "promised",
         "first action p90"), rows, chart="grouped", log_scale=True,
        note="first reply: Zendesk's first public reply, afterhours' acknowledgement included;"
        " first human reply: a person's, where Zendesk's metrics say when (not when afterhours"
        " replied first); promised: the policy's reply promise, in minutes on the clock.")


def _sla_table(after: Sequence[Counted]) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for priority in PRIORITIES:
        counts = Counter(c.sla for c in after if c.priority == priority)
        if not counts:
            continue
        judged = counts["met"] + counts["missed"]
        rows.append((priority, *(counts[s] for s in SLA_STATES),
                     round(100 * counts["met"] / judged, 1) if judged else None))
    return table(
        "sla_by_priority", "First-reply SLA by priority", ("priority", *SLA_STATES, "attained %"),
        rows, chart="stacked",
        note="missed: a person's reply came after the promise, the daemon recorded a level"
        " counted from it, or none came and the promise is past; unknown: a person replied"
        " after afterhours' own reply (Zendesk's metrics do not say when), or solved without a"
        " public reply.")


def _backlog(backlog: Sequence[Counted], beyond: Sequence[Counted], share: float) -> Table:
    return table(
        "backlog_beyond_sla", "Open backlog beyond SLA", ("measure", "tickets"),
        [("open tickets", len(backlog)), ("beyond SLA", len(beyond)),
         ("beyond SLA %", share), ("target %", BACKLOG_TARGET_PERCENT)],
        chart="table",
        note="Open tickets now with no reply by a person and their promise past (or a"
        " recorded miss), whenever they arrived.")


def _per_ticket(after: Sequence[Counted]) -> Table:
    rows = [(c.ticket.id, c.priority, c.category, c.minutes_to(c.first_action),
             c.minutes_to(c.first_reply), c.minutes_to(c.human_reply),
             "yes" if c.human_replied else "no", c.minutes_to(c.reply_by), c.sla)
            for c in sorted(after, key=lambda c: c.ticket.created_at)[:PER_TICKET_ROWS]]
    return table(
        "response_by_ticket", "Each after-hours ticket: minutes from arrival",
        ("ticket", "priority", "category", "first action", "first reply", "first human reply",
         "a person replied", "promised", "SLA"), rows, chart="table")
