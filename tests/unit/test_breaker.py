"""The circuit breaker's state machine: what opens it, what it refuses, how it closes again."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from structlog.testing import capture_logs

from afterhours.breaker import Breakers, CircuitBreaker, guarded, is_outage
from afterhours.errors import (
    AccessError,
    CircuitOpenError,
    OutcomeUnknownError,
    PermanentError,
    ServiceError,
    TransientError,
)
from afterhours.retrying import RetryPolicy, call_with_retries

REFUSED = TransientError("jira", "ConnectionError: [Errno 111] Connection refused")


def failing(error: ServiceError) -> Callable[[], None]:
    def fail() -> None:
        raise error

    return fail


def answered() -> str:
    return "ok"


def fail_times(breaker: CircuitBreaker, times: int, error: ServiceError = REFUSED) -> None:
    for _ in range(times):
        with pytest.raises(ServiceError):
            breaker.call(failing(error))


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (REFUSED, True),
        (TransientError("jira", "503", status=503), True),
        (TransientError("jira", "502", status=502), True),
        (TransientError("jira", "504", status=504), True),
        (OutcomeUnknownError("jira", "answer lost"), True),
        (OutcomeUnknownError("jira", "503 after the write", status=503), True),
        (TransientError("jira", "429", status=429, retry_after=5), False),
        (TransientError("jira", "500", status=500), False),
        (PermanentError("jira", "400", status=400), False),
        (AccessError("jira", "401", status=401), False),
        (CircuitOpenError("jira", "open"), False),
    ],
)
def test_only_failures_without_an_answer_count_as_an_outage(
    error: ServiceError, outage: bool
) -> None:
    assert is_outage(error) is outage


def test_three_failures_in_a_row_open_the_breaker_and_the_third_says_so() -> None:
    breaker = CircuitBreaker("jira", threshold=3)
    fail_times(breaker, 2)
    assert breaker.state == "closed"
    with capture_logs() as logs, pytest.raises(CircuitOpenError) as raised:
        breaker.call(failing(REFUSED))
    # Raised as CircuitOpenError so that a retry loop around the call stops at once.
    assert raised.value.__cause__ is REFUSED
    assert breaker.state == "open"
    assert logs == [{"event": "breaker.opened", "log_level": "warning", "dependency": "jira",
                     "failures": 3, "error": str(REFUSED)}]


def test_an_open_breaker_refuses_without_calling() -> None:
    breaker = CircuitBreaker("jira", threshold=1)
    fail_times(breaker, 1)
    calls: list[str] = []
    with pytest.raises(CircuitOpenError) as raised:
        breaker.call(lambda: calls.append("called"))
    assert calls == []
    assert raised.value.service == "jira"
    assert "Connection refused" in str(raised.value)  # the reason for the audit trail


def test_an_answer_in_between_resets_the_count() -> None:
    breaker = CircuitBreaker("jira", threshold=3)
    fail_times(breaker, 2)
    assert breaker.call(answered) == "ok"
    fail_times(breaker, 2)
    # A 429, a 500 or a 4xx is an answer: the service is up.
    for error in (TransientError("jira", "429", status=429), PermanentError("jira", "404",
                                                                            status=404)):
        with pytest.raises(type(error)):
            breaker.call(failing(error))
    fail_times(breaker, 2)
    assert breaker.state == "closed"


def test_a_new_pass_lets_one_probe_through_and_a_success_closes() -> None:
    breaker = CircuitBreaker("zendesk", threshold=2)
    fail_times(breaker, 2)
    breaker.new_pass()
    assert breaker.state == "half_open"
    with capture_logs() as logs:
        assert breaker.call(answered) == "ok"
    assert breaker.state == "closed"
    assert logs == [{"event": "breaker.closed", "log_level": "info", "dependency": "zendesk"}]


def test_a_failed_probe_opens_the_breaker_again_at_once() -> None:
    breaker = CircuitBreaker("zendesk", threshold=3)
    fail_times(breaker, 3)
    breaker.new_pass()
    with pytest.raises(CircuitOpenError):
        breaker.call(failing(REFUSED))  # one failure is enough while probing
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError):
        breaker.call(answered)
    breaker.new_pass()
    with pytest.raises(PermanentError):  # an answer, even a no, closes it
        breaker.call(failing(PermanentError("zendesk", "422", status=422)))
    assert breaker.state == "closed"


def test_new_pass_leaves_a_closed_breaker_and_its_count_alone() -> None:
    breaker = CircuitBreaker("jira", threshold=3)
    fail_times(breaker, 2)
    breaker.new_pass()
    with pytest.raises(CircuitOpenError):
        breaker.call(failing(REFUSED))


def test_an_unknown_outcome_opens_the_breaker_but_keeps_saying_it_may_have_landed() -> None:
    breaker = CircuitBreaker("jira", threshold=1)
    lost = OutcomeUnknownError("jira", "ReadTimeout")
    with pytest.raises(OutcomeUnknownError):
        breaker.call(failing(lost))
    assert breaker.state == "open"


def test_errors_that_are_not_service_errors_leave_the_state_alone() -> None:
    breaker = CircuitBreaker("jira", threshold=2)
    fail_times(breaker, 1)

    def bug() -> None:
        raise AttributeError("_response_json")

    with pytest.raises(AttributeError):
        breaker.call(bug)
    fail_times(breaker, 1)
    assert breaker.state == "open"


def test_a_retry_loop_stops_when_its_breaker_opens() -> None:
    slept: list[float] = []
    breaker = CircuitBreaker("jira", threshold=3)
    attempts: list[int] = []

    def refused() -> None:
        attempts.append(1)
        raise REFUSED

    policy = RetryPolicy(attempts=10, sleep=slept.append)
    with pytest.raises(CircuitOpenError):
        call_with_retries(policy, "jira.find_issue", guarded(breaker, refused))
    assert len(attempts) == 3
    assert len(slept) == 2  # between the three attempts; none after the breaker opened
    with pytest.raises(CircuitOpenError):
        call_with_retries(policy, "jira.find_issue", guarded(breaker, refused))
    assert len(attempts) == 3
    assert len(slept) == 2


def test_breakers_are_one_per_dependency_and_a_view_shows_the_open_ones() -> None:
    breakers = Breakers(threshold=1)
    finance, oncall = breakers.get("chat:finance"), breakers.get("chat:oncall-lead")
    assert breakers.get("chat:finance") is finance
    fail_times(finance, 1)
    assert oncall.call(answered) == "ok"
    assert breakers.open_dependencies() == {"chat:finance"}
    assert breakers.states() == {"chat:finance": "open", "chat:oncall-lead": "closed"}
    breakers.new_pass()
    assert breakers.states()["chat:finance"] == "half_open"
    assert breakers.open_dependencies() == {"chat:finance"}  # not known to work yet
    assert finance.call(answered) == "ok"
    assert breakers.open_dependencies() == frozenset()


def test_no_breaker_means_the_call_itself() -> None:
    assert guarded(None, answered) is answered


def test_a_threshold_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CircuitBreaker("jira", threshold=0)
