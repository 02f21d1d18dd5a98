"""The retry policy's bounded waits: Retry-After honoured up to a cap, never slept beyond it."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from afterhours.errors import PermanentError, TransientError
from afterhours.retrying import RetryPolicy, call_with_retries


class Answers:
    """Raises the given errors in turn, then answers "ok"; counts its calls."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def limited(seconds: float) -> TransientError:
    return TransientError("zendesk", "rate limited (429)", status=429, retry_after=seconds)


def test_a_retry_after_within_the_cap_is_waited_as_a_floor() -> None:
    slept: list[float] = []
    policy = RetryPolicy(sleep=slept.append, initial_wait=0.01, max_retry_after=30)
    fn = Answers(limited(12))
    assert call_with_retries(policy, "zendesk.update_ticket", fn) == "ok"
    assert slept == [12]


def test_a_retry_after_beyond_the_cap_fails_at_once_and_says_why() -> None:
    slept: list[float] = []
    policy = RetryPolicy(sleep=slept.append, max_retry_after=30)
    error = limited(3600)
    fn = Answers(error)
    with capture_logs() as logs, pytest.raises(TransientError) as raised:
        call_with_retries(policy, "zendesk.update_ticket", fn)
    assert raised.value is error  # a TransientError: the action is deferred, not failed
    assert fn.calls == 1
    assert slept == []
    assert logs == [{"event": "retry.deferred_long_wait", "log_level": "warning",
                     "operation": "zendesk.update_ticket", "retry_after": 3600,
                     "cap": 30.0, "status": 429}]


def test_a_retry_after_past_the_policys_total_time_is_not_slept_either() -> None:
    slept: list[float] = []
    policy = RetryPolicy(sleep=slept.append, total_seconds=10, max_retry_after=30)
    fn = Answers(limited(20))
    with capture_logs() as logs, pytest.raises(TransientError):
        call_with_retries(policy, "jira.find_issue", fn)
    assert slept == []
    (logged,) = logs
    assert logged["event"] == "retry.deferred_long_wait"
    assert logged["cap"] <= 10


def test_the_default_cap_is_thirty_seconds() -> None:
    assert RetryPolicy().max_retry_after == 30.0


def test_no_recorded_sleep_exceeds_the_cap_in_a_storm_of_hints() -> None:
    slept: list[float] = []
    policy = RetryPolicy(attempts=6, sleep=slept.append, initial_wait=0.01, max_wait=0.1,
                         max_retry_after=5)
    fn = Answers(limited(1), limited(5), limited(4), limited(6), limited(1))
    with pytest.raises(TransientError):
        call_with_retries(policy, "chat.notify", fn)
    assert fn.calls == 4  # the fourth answer asked for 6 s: deferred there
    assert len(slept) == 3
    assert max(slept) <= 5


def test_connection_errors_are_still_retried_with_backoff() -> None:
    slept: list[float] = []
    policy = RetryPolicy(attempts=3, sleep=slept.append, initial_wait=0.5)
    fn = Answers(TransientError("jira", "refused"), TransientError("jira", "refused"))
    assert call_with_retries(policy, "jira.find_issue", fn) == "ok"
    assert len(slept) == 2
    assert all(0 < s <= 30 for s in slept)


def test_permanent_errors_are_never_retried() -> None:
    slept: list[float] = []
    fn = Answers(PermanentError("jira", "400", status=400))
    with pytest.raises(PermanentError):
        call_with_retries(RetryPolicy(sleep=slept.append), "jira.create_issue", fn)
    assert (fn.calls, slept) == (1, [])
