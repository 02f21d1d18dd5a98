"""From measured figures to the table's rows, each with the issue's target (#13)."""

from __future__ import annotations

from dataclasses import dataclass

from bench.matcher_rows import matcher_rows
from bench.night import Night, percentile
from bench.scenarios import BaselinePoll, FirstPass, QuietRun
from bench.table import NOT_RUN, Row, judged

MB = 1_000_000
# The targets.
ZENDESK_VS_MINIMUM = 1.2
ZENDESK_VS_BASELINE = 30
QUIET_CPU = 0.050
QUIET_GROWTH = 1.5
PLANNER = 20_000
P1_P95, LATENESS_P95 = 75, 60
PUSH_P1_P95 = 5  # issue #16
RSS, RSS_GROWTH = 100 * MB, 0.05


@dataclass(frozen=True)
class Results:
    """Everything one benchmark run measured."""

    planner: float  # tickets a second
    first: FirstPass
    baseline: BaselinePoll
    quiet: list[QuietRun]
    not_run: list[int]  # quiet sizes left out (the largest without --full)
    night: Night
    push_night: Night


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _x(value: float) -> str:
    return f"{value:.2f}x" if value < 10 else f"{value:.1f}x" if value < 100 else f"{value:,.0f}x"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def request_rows(first: FirstPass, baseline: BaselinePoll) -> list[Row]:
    """Zendesk and Jira requests per 1,000 changed tickets, against the baseline and the
    minimum for the same work."""
    per = 1000 / first.tickets
    base_per = 1000 / baseline.tickets
    measured = "" if first.tickets == 1000 else f" (measured on {first.tickets:,})"
    zendesk, zendesk_base = first.zendesk * per, baseline.zendesk * base_per
    jira, jira_base = first.jira * per, baseline.jira * base_per
    fewer = zendesk_base / zendesk
    jobs = -(-first.written // 100)
    return [
        Row(f"Zendesk requests per 1,000 changed tickets{measured}", _n(zendesk),
            _n(zendesk_base), _x(zendesk / zendesk_base),
            f"≥ {ZENDESK_VS_BASELINE}x fewer than baseline",
            judged(fewer >= ZENDESK_VS_BASELINE)),
        Row(f"  vs the minimum, {first.minimum_zendesk} for {first.tickets:,} tickets (export "
            f"pages of 1,000, {jobs} update_many jobs of 100, {jobs} job-status polls)",
            _x(first.zendesk / first.minimum_zendesk),
            _x(baseline.zendesk / first.minimum_zendesk), target=f"≤ {ZENDESK_VS_MINIMUM}x",
            verdict=judged(first.zendesk <= ZENDESK_VS_MINIMUM * first.minimum_zendesk)),
        Row(f"Jira requests per 1,000 changed tickets{measured}", _n(jira), _n(jira_base),
            _x(jira / jira_base) if jira_base else "—"),
        Row(f"  vs the minimum, {first.minimum_jira} for {first.filed} bugs "
            f"({-(-first.filed // 50)} bulk creates of 50, {first.filed} remote links)",
            _x(first.jira / first.minimum_jira) if first.minimum_jira else "—",
            _x(baseline.jira / first.minimum_jira) if first.minimum_jira else "—"),
        Row(f"First pass, seconds per 1,000 changed tickets{measured}",
            f"{first.seconds * per:.1f} s", f"{baseline.seconds * base_per:.1f} s",
            _x(first.seconds * per / (baseline.seconds * base_per))),
    ]


def quiet_rows(quiet: list[QuietRun], not_run: list[int]) -> list[Row]:
    """Per size: the median quiet pass's time and requests; then each size against the
    smallest."""
    rows = []
    for run in quiet:
        size = f"Quiet pass, {run.open_tickets:,} open tickets"
        busy = f" ({run.busy} of {len(run.passes)} passes acted)" if run.busy else ""
        rows += [
            Row(f"{size}: time (wall / daemon CPU){busy}",
                f"{_ms(run.wall)} / {_ms(run.cpu)} CPU", target=f"< {_ms(QUIET_CPU)} CPU",
                verdict=judged(run.cpu < QUIET_CPU)),
            # Zendesk's export; Jira's one search is the sync-back's poll (#17).
            Row(f"{size}: requests", f"{run.requests_to('zendesk')} Zendesk"
                f" ({max(run.exports)} export), {run.requests_to('jira')} Jira",
                target="1 export request",
                verdict=judged(run.requests_to("zendesk") == 1 and max(run.exports) == 1
                               and run.requests_to("chat") == 0)),
        ]
    for left_out in not_run:
        rows.append(Row(f"Quiet pass, {left_out:,} open tickets", "not run (--full runs it)",
                        target=f"< {_ms(QUIET_CPU)} CPU, 1 export request", verdict=NOT_RUN))
    smallest = quiet[0]
    for run in quiet[1:]:
        ratio = run.wall / smallest.wall
        rows.append(Row(f"Quiet pass time, {run.open_tickets:,} / {smallest.open_tickets:,} "
                        "open tickets", _x(ratio), target=f"≤ {QUIET_GROWTH}x",
                        verdict=judged(ratio <= QUIET_GROWTH)))
    rows += [Row(f"Quiet pass time, {left_out:,} / {smallest.open_tickets:,} open tickets",
                 "not run", target=f"≤ {QUIET_GROWTH}x", verdict=NOT_RUN)
             for left_out in not_run]
    return rows


def night_rows(night: Night) -> list[Row]:
    """P1 latency and escalation lateness over the night in poll mode."""
    where = (f"{night.hours:g} h night, 60 s poll, {len(night.latencies)} P1"
             + (f", {night.unset} never set" if night.unset else ""))
    p95 = percentile(night.latencies, 0.95)
    late = percentile(night.lateness, 0.95)
    return [
        Row(f"P1 latency, created to priority set, p50 ({where})",
            f"{percentile(night.latencies, 0.5):.0f} s"),
        Row("P1 latency, p95", f"{p95:.0f} s", target=f"≤ {P1_P95} s",
            verdict=judged(p95 <= P1_P95 and not night.unset)),
        Row(f"Escalation lateness after the deadline, p95 ({len(night.lateness)} escalations)",
            f"{late:.0f} s", target=f"≤ {LATENESS_P95} s", verdict=judged(late <= LATENESS_P95)),
        _page_row(night),
    ]


def push_rows(night: Night) -> list[Row]:
    """P1 latency over the same night in push mode (issue #16)."""
    where = (f"push mode, {night.hours:g} h night, {len(night.latencies)} P1"
             + (f", {night.unset} never set" if night.unset else ""))
    p95 = percentile(night.latencies, 0.95)
    return [
        Row(f"P1 latency, created to priority set, p50 ({where})",
            f"{percentile(night.latencies, 0.5):.1f} s"),
        Row("P1 latency in push mode, p95", f"{p95:.1f} s", target=f"≤ {PUSH_P1_P95} s",
            verdict=judged(p95 <= PUSH_P1_P95 and not night.unset)),
    ]


def _page_row(night: Night) -> Row:
    """PagerDuty pages' lateness: the on-call lead's phone, from the level's deadline."""
    measure = f"PagerDuty page lateness after the deadline, p95 ({len(night.page_lateness)} pages)"
    if not night.page_lateness:
        return Row(measure, "no page", target=f"≤ {LATENESS_P95} s", verdict=NOT_RUN)
    late = percentile(night.page_lateness, 0.95)
    return Row(measure, f"{late:.0f} s", target=f"≤ {LATENESS_P95} s",
               verdict=judged(late <= LATENESS_P95))


def memory_rows(largest: QuietRun) -> list[Row]:
    """Peak RSS of the daemon over the largest run, and its growth across that run."""
    growth = largest.growth()
    where = f"largest run: {largest.open_tickets:,} open tickets, {len(largest.passes)} passes"
    return [
        Row(f"Daemon peak RSS ({where})", f"{largest.peak / MB:.0f} MB",
            target=f"≤ {RSS // MB} MB", verdict=judged(largest.peak <= RSS)),
        Row("Daemon RSS growth, first to last tenth of the largest run", f"{growth:+.1%}",
            target=f"< {RSS_GROWTH:.0%}", verdict=judged(growth < RSS_GROWTH)),
    ]


def all_rows(results: Results) -> list[Row]:
    """Every row, in the issue's order."""
    planner = Row("Planner throughput (plan_actions, one core, no I/O)",
                  f"{results.planner:,.0f} tickets/s", target=f"≥ {PLANNER:,} tickets/s",
                  verdict=judged(results.planner >= PLANNER))
    return [*request_rows(results.first, results.baseline),
            *quiet_rows(results.quiet, results.not_run), planner,
            *night_rows(results.night), *push_rows(results.push_night),
            *memory_rows(results.quiet[-1]), *matcher_rows()]
