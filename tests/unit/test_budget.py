"""The rate budget's math: its own pace, what the vendors' headers say, holds after a 429."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from afterhours.breaker import CircuitBreaker
from afterhours.budget import (
    BURST_WINDOW,
    WINDOW,
        Pace,
    RateBudget,
    Reading,
    read_headers,
    zendesk_classes,
)
from afterhours.budget_gate import BudgetGate
from afterhours.errors import CircuitOpenError, RateBudgetError, TransientError
from afterhours.ops.metrics import Metrics
from afterhours.retrying import RetryPolicy, call_with_retries

EXPORT = "GET /api/v2/incremental/tickets/cursor.json"
PUT = "PUT /api/v2/tickets/{id}.json"
SEARCH = "GET /rest/api/3/search/jql"
T0 = datetime(2026, 11, 20, 18, 0, tzinfo=UTC).timestamp()


def send(budget: RateBudget, endpoint: str, now: float) -> float:
    """One request as the gate sends it: wait the delay, then spend; return the send time."""
    at = now + budget.delay(endpoint, now)
    budget.spend(endpoint, at)
    return at


def test_a_pace_of_one_a_minute_waits_the_whole_minute() -> None:
    pace = Pace(per_minute=1)
    pace.record(T0)
    assert pace.wait(T0) == WINDOW


def test_a_pace_lets_half_a_minute_through_at_once_then_spreads_the_rest() -> None:
    pace = Pace(per_minute=10)
    for _ in range(5):
        assert pace.wait(T0) == 0
        pace.record(T0)
    assert pace.left(T0) == 0
    assert pace.wait(T0) == BURST_WINDOW  # the burst is spent: wait for it to age
    for _ in range(5):
        pace.record(T0 + 30)
    assert pace.wait(T0 + 30) == 30  # ten in the minute: the first five leave at T0 + 60
    assert pace.left(T0 + 60) == 5


@settings(max_examples=200, deadline=None)
@given(per_minute=st.integers(2, 51),
       gaps=st.lists(st.floats(0, 20, allow_nan=False), min_size=1, max_size=300))
def test_a_pace_never_exceeds_its_limits_nor_waits_longer_than_half_a_minute(
    per_minute: int, gaps: list[float],
) -> None:
    pace, now, sent = Pace(per_minute), T0, []
    for gap in gaps:
        now += gap
        wait = pace.wait(now)
        assert 0 <= wait <= BURST_WINDOW + 1e-9
        now += wait
        pace.record(now)
        sent.append(now)
    for at in sent:
        assert sum(at <= other < at + WINDOW for other in sent) <= per_minute
        assert sum(at <= other < at + BURST_WINDOW for other in sent) <= pace.burst


def test_zendesk_and_jira_headers_are_read_and_other_answers_carry_none() -> None:
    zendesk = {"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "699", "ratelimit-reset": "41"}
    assert read_headers(zendesk, T0) == Reading(700, 699, T0 + 41, near=False)
    assert read_headers({"x-rate-limit": "200", "x-rate-limit-remaining": "3"}, T0) == Reading(
        200, 3, None, near=False)
    jira = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "12",
            "X-RateLimit-NearLimit": "true", "X-RateLimit-Reset": "2026-11-20T18:01Z"}
    assert read_headers(jira, T0) == Reading(100, 12, T0 + 60, near=True)
    assert read_headers({"Content-Type": "application/json"}, T0) is None
    # Garbage is no reading, not a crash.
    assert read_headers({"X-RateLimit-Reset": "soon", "X-Rate-Limit": "many"}, T0) is None


def test_the_share_is_what_afterhours_may_use_of_the_accounts_limit() -> None:
    budget = RateBudget("zendesk", per_minute=200, share=0.5)
    sent = [send(budget, PUT, T0) for _ in range(200)]
    in_first_minute = sum(at < T0 + WINDOW for at in sent)
    assert in_first_minute == 100
    assert sum(at < T0 + BURST_WINDOW for at in sent) == 50
    with pytest.raises(ValueError, match="share"):
        RateBudget("zendesk", per_minute=200, share=0)


def test_the_export_keeps_within_ten_a_minute_whatever_the_account_allows() -> None:
    budget = RateBudget("zendesk", per_minute=2500, classes=zendesk_classes())
    exports = [send(budget, EXPORT, T0) for _ in range(30)]
    for at in exports:
        assert sum(at <= other < at + WINDOW for other in exports) <= 10
    assert budget.delay(PUT, T0) == 0  # other endpoints are not held up by the export's limit


def test_the_account_down_to_the_agents_share_waits_for_the_reset() -> None:
    budget = RateBudget("zendesk", per_minute=200, share=0.5)
    # The agents' tools have used 95 of 200 this minute; 100 are theirs to keep.
    headers = {"X-Rate-Limit": "200", "X-Rate-Limit-Remaining": "105", "ratelimit-reset": "20"}
    budget.observe(PUT, T0, read_headers(headers, T0))
    assert budget.left(T0) == 5
    for _ in range(5):
        assert send(budget, PUT, T0) == T0
    assert budget.delay(PUT, T0) == 20  # down to the reserve: wait for the minute's reset
    assert budget.left(T0) == 0
    assert budget.delay(PUT, T0 + 20) == 0  # a new minute: nothing known of it yet


def test_remaining_without_a_reset_time_holds_a_minute_from_the_oldest_own_request() -> None:
    budget = RateBudget("jira", per_minute=600)
    budget.observe(SEARCH, T0, read_headers({"X-RateLimit-Remaining": "0"}, T0))
    assert budget.delay(SEARCH, T0) == WINDOW  # nothing of ours in the vendor's window
    budget = RateBudget("jira", per_minute=600)
    send(budget, SEARCH, T0)
    send(budget, SEARCH, T0 + 20)
    budget.observe(SEARCH, T0 + 40, read_headers({"X-RateLimit-Remaining": "0"}, T0 + 40))
    assert budget.delay(SEARCH, T0 + 40) == 20  # any minute that held T0's request has ended


def test_a_lower_limit_from_the_vendor_lowers_the_pace_a_lower_setting_wins() -> None:
    budget = RateBudget("zendesk", per_minute=700, share=0.5)
    budget.observe(PUT, T0, read_headers({"X-Rate-Limit": "200"}, T0))
    assert budget.left(T0) == 50  # half of 100 in any 30 s
    budget = RateBudget("zendesk", per_minute=200, share=0.5)
    budget.observe(PUT, T0, read_headers({"X-Rate-Limit": "2500"}, T0))
    assert budget.left(T0) == 50


def test_jira_near_its_limit_goes_one_request_a_second() -> None:
    budget = RateBudget("jira", per_minute=600)
    budget.observe(SEARCH, T0, read_headers({"X-RateLimit-NearLimit": "true"}, T0))
    assert budget.delay(SEARCH, T0) == 1.0
    assert budget.delay(SEARCH, T0 + 1) == 0


def test_a_429_holds_its_endpoint_only_and_for_a_minute_at_most() -> None:
    budget = RateBudget("zendesk", per_minute=200)
    budget.observe(PUT, T0, None, retry_after=7)
    assert budget.delay(PUT, T0) == 7
    assert budget.delay(EXPORT, T0) == 0
    budget.observe(PUT, T0, None, retry_after=3600)
    assert budget.delay(PUT, T0) == WINDOW  # a later pass tries again, as after any 429
    assert budget.delay(PUT, T0 + WINDOW) == 0


class Time:
    """A clock in seconds that only the gate's sleeps move."""

    def __init__(self) -> None:
        self.now = T0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def gate_on(budget: RateBudget, time: Time, **retry: Any) -> tuple[BudgetGate, Metrics]:
    metrics = Metrics()
    gate = BudgetGate(budget, clock=time, retry=RetryPolicy(sleep=time.sleep, **retry),
                      metrics=metrics)
    return gate, metrics


def sample(metrics: Metrics, name: str, service: str) -> float:
    value = metrics.registry.get_sample_value(name, {"service": service})
    assert value is not None
    return value


def test_the_gate_sleeps_the_budgets_wait_before_sending_and_counts_it() -> None:
    time = Time()
    gate, metrics = gate_on(RateBudget("zendesk", per_minute=20, share=0.5), time)
    for _ in range(12):
        gate.admit(PUT)
    assert time.slept == [30.0, 30.0]  # five at once, five 30 s later, two more 30 s later
    assert time.now == T0 + 60
    assert sample(metrics, "afterhours_rate_budget_wait_seconds_total", "zendesk") == 60
    assert sample(metrics, "afterhours_rate_budget_remaining", "zendesk") == 3


def test_a_wait_beyond_the_retry_cap_is_not_slept_the_request_is_refused() -> None:
    time = Time()
    gate, _ = gate_on(RateBudget("zendesk", per_minute=200), time, max_retry_after=30)
    gate.answered(PUT, 429, {"Retry-After": "45"})
    with capture_logs() as logs, pytest.raises(RateBudgetError) as refused:
        gate.admit(PUT)
    assert refused.value.retry_after == 45
    assert time.slept == []
    assert [(e["event"], e["wait_seconds"]) for e in logs] == [("budget.deferred", 45)]
    # Under the retry policy the refusal is one more long Retry-After: deferred, not retried.
    calls: list[int] = []

    def call() -> None:
        calls.append(1)
        gate.admit(PUT)

    with pytest.raises(RateBudgetError):
        call_with_retries(RetryPolicy(sleep=time.sleep), "zendesk.update_ticket", call)
    assert calls == [1]


def test_a_stop_during_the_wait_sends_nothing() -> None:
    time, cancel = Time(), threading.Event()

    def sleep(seconds: float) -> None:
        time.sleep(seconds)
        cancel.set()  # SIGTERM while waiting

    budget = RateBudget("zendesk", per_minute=2)
    gate = BudgetGate(budget, clock=time, retry=RetryPolicy(sleep=sleep, cancel=cancel))
    gate.admit(PUT)
    with pytest.raises(RateBudgetError, match="stopping"):
        gate.admit(PUT)
    assert budget.left(time.now) == 1  # the refused request took no turn


def test_a_budget_refusal_neither_opens_nor_closes_a_breaker() -> None:
    breaker = CircuitBreaker("zendesk", threshold=2)
    refused = RateBudgetError("zendesk", "held")
    with pytest.raises(TransientError):
        breaker.call(failing(TransientError("zendesk", "reset")))
    for _ in range(3):
        with pytest.raises(RateBudgetError):
            breaker.call(failing(refused))
    assert breaker.state == "closed"
    with pytest.raises(CircuitOpenError):  # the second outage in a row, not the fifth
        breaker.call(failing(TransientError("zendesk", "reset")))


def failing(error: Exception) -> Callable[[], None]:
    def fail() -> None:
        raise error

    return fail
