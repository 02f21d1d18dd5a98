"""Readiness: is the daemon keeping up? Fed by the pass loop, read by `GET /readyz`.

The HTTP thread never touches the state store itself (a store connection belongs to the
loop that uses it): the loop reports each finished pass and probes the store after each pass
(finished or crashed), sampling the parked count when it can; `check` only reads what it
was told.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from afterhours.clock import Clock
from afterhours.ops.metrics import Metrics

log = structlog.get_logger()
# A pass must have finished within max(3 x poll interval, this): one slow pass is not a fault.
MIN_FRESHNESS = timedelta(seconds=120)
STORE_FAILURE_THRESHOLD = 3


@dataclass(frozen=True)
class Readiness:
    """The answer of `/readyz`: ready or not, why not, and what was looked at."""

    ready: bool
    reasons: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)


class Health:
    """What readiness is judged on; safe to call from the loop and the HTTP thread at once."""

    def __init__(
        self,
        clock: Clock,
        *,
        poll_interval: float = 60.0,
        metrics: Metrics | None = None,
        store_probe: Callable[[], object] | None = None,
        parked_count: Callable[[], int] | None = None,
        store_failure_threshold: int = STORE_FAILURE_THRESHOLD,
        startup_grace: timedelta | None = None,
    ) -> None:
        self._clock = clock
        self.freshness = max(timedelta(seconds=3 * poll_interval), MIN_FRESHNESS)
        # The first pass after a start may backfill a day of tickets: not stale until then.
        self.startup_grace = self.freshness if startup_grace is None else startup_grace
        self._metrics = metrics
        self._store_probe = store_probe
        self._parked_count = parked_count
        self._threshold = store_failure_threshold
        self._lock = threading.Lock()
        self._started = clock()
        self._last_pass: datetime | None = None
        self._policy_sha256: str | None = None
        self._store_failures = 0
        self._store_error: str | None = None
        self._parked: int | None = None

    def policy_in_force(self, sha256: str) -> None:
        """A policy is loaded (at start, or by a reload)."""
        with self._lock:
            self._policy_sha256 = sha256

    def pass_finished(self) -> None:
        """A pass finished: note when, then probe the store."""
        now = self._clock()
        with self._lock:
            self._last_pass = now
        self.probe_store()

    def probe_store(self) -> None:
        """Ask the store something cheap (the parked count when there is one) from the loop's
        thread; a failure counts towards the threshold, an answer resets it."""
        try:
            if self._parked_count is not None:
                parked = self._parked_count()
                with self._lock:
                    self._parked = parked
                if self._metrics is not None:
                    self._metrics.set_parked(parked)
            elif self._store_probe is not None:
                self._store_probe()
            else:
                return
        except Exception as error:  # a store that does not answer is what readiness reports
            self.store_failed(error)
            return
        self.store_ok()

    def store_failed(self, error: BaseException) -> None:
        """The state store failed a call; after `store_failure_threshold` in a row, not ready."""
        with self._lock:
            self._store_failures += 1
            self._store_error = f"{type(error).__name__}: {error}"
            failures = self._store_failures
        log.warning("state.store_failed", error=self._store_error, failures_in_a_row=failures)

    def store_ok(self) -> None:
        """The state store answered: the count of failures in a row starts again."""
        with self._lock:
            self._store_failures = 0
            self._store_error = None

    def check(self) -> Readiness:
        """Ready when a pass finished recently, the store answers and a policy is in force."""
        now = self._clock()
        with self._lock:
            last, sha = self._last_pass, self._policy_sha256
            failures, store_error, parked = self._store_failures, self._store_error, self._parked
        reasons = []
        if sha is None:
            reasons.append("no policy loaded")
        if last is None:
            waited = now - self._started
            if waited > self.startup_grace:
                reasons.append(f"no pass has finished in {_seconds(waited)} s since start"
                               f" (allowed: {_seconds(self.startup_grace)} s)")
        elif now - last > self.freshness:
            reasons.append(f"the last pass finished {_seconds(now - last)} s ago"
                           f" (allowed: {_seconds(self.freshness)} s)")
        if failures >= self._threshold:
            reasons.append(f"the state store failed {failures} times in a row: {store_error}")
        detail: dict[str, Any] = {
            "last_pass_at": None if last is None else last.isoformat(),
            "last_pass_age_seconds": None if last is None else _seconds(now - last),
            "policy_sha256": sha,
            "store_failures_in_a_row": failures,
            # Parked actions need a person, not a restart: reported, never a reason.
            "parked_actions": parked,
        }
        return Readiness(ready=not reasons, reasons=reasons, detail=detail)


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())
