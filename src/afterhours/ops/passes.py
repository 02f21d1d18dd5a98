"""A pass as ops see it: counted by result, timed, reported to readiness, summed up in one
`pass.completed` line."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict

import structlog

from afterhours.ops.health import Health
from afterhours.ops.metrics import Metrics
from afterhours.outcomes import PassReport

log = structlog.get_logger()


@contextmanager
def observed_pass(metrics: Metrics, health: Health) -> Iterator[PassReport]:
    """Yield the pass's report; when the block ends, count the pass under its result (or
    `crashed` if the block raised), tell readiness, and log the summary line."""
    started = time.perf_counter()
    report = PassReport()
    try:
        yield report
    except Exception:
        metrics.pass_finished("crashed", time.perf_counter() - started)
        health.probe_store()  # was it the store? readiness counts that
        raise
    metrics.pass_finished(report.result, time.perf_counter() - started)
    health.pass_finished()
    log.info("pass.completed", result=report.result, **asdict(report))
