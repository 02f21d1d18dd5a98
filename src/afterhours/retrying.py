"""The one retry policy: only transient errors, exponential backoff with jitter, bounded.

Every outside call goes through `call_with_retries`; the clients' own retry loops are off.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import structlog
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    stop_when_event_set,
    wait_exponential,
    wait_random,
)

from afterhours.errors import TransientError
from afterhours.ops.metrics import Metrics

T = TypeVar("T")
log = structlog.get_logger()


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts and total time are both capped."""

    attempts: int = 5
    total_seconds: float = 120.0
    initial_wait: float = 0.5
    max_wait: float = 30.0
    sleep: Callable[[float], object] = time.sleep
    # Once set (by SIGTERM), no further attempt starts; give `sleep=cancel.wait` so a wait
    # in progress ends at once too.
    cancel: threading.Event | None = None
    # Counts retries and 429 waits (afterhours_retries_total, ..._rate_limit_wait_seconds_total).
    metrics: Metrics | None = None

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """One attempt only: for tests that want to see the first failure."""
        return cls(attempts=1)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def call_with_retries(policy: RetryPolicy, operation: str, fn: Callable[[], T]) -> T:
    """Run `fn`, retrying TransientError per `policy`; other errors pass straight through."""
    # Full exponential growth plus up to one initial step of jitter, so that many tickets
    # failing together do not retry in lock-step.
    backoff = wait_exponential(multiplier=policy.initial_wait, max=policy.max_wait) + wait_random(
        0, policy.initial_wait
    )

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        hinted = error.retry_after if isinstance(error, TransientError) else None
        # The server's Retry-After is a floor, never shortened by our own backoff.
        return max(backoff(state), hinted or 0.0)

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "retry.scheduled",
            operation=operation,
            attempt=state.attempt_number,
            wait_seconds=round(state.upcoming_sleep, 2),
            error=str(error),
            status=getattr(error, "status", None),
        )
        if policy.metrics is not None:
            throttled = isinstance(error, TransientError) and error.status == 429
            policy.metrics.retry_scheduled(operation, state.upcoming_sleep,
                                           getattr(error, "service", None) if throttled else None)

    def sleep(seconds: float) -> None:
        policy.sleep(seconds)  # Event.wait answers a bool; tenacity wants nothing back

    stop = stop_after_attempt(policy.attempts) | stop_after_delay(policy.total_seconds)
    if policy.cancel is not None:
        stop = stop | stop_when_event_set(policy.cancel)
    retrying = Retrying(
        retry=retry_if_exception_type(TransientError),
        stop=stop,
        wait=wait,
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(fn)
