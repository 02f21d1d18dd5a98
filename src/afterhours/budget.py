"""The rate budget: an outside request waits its turn before it is sent, not after a 429.

One `RateBudget` per service. Before each request it says how long the request must wait:
- afterhours' own pace: at most `per_minute` requests in any 60 s and half of that in any
  30 s (a burst is spread out, and no wait for the pace is longer than 30 s); an endpoint
  class (Zendesk's incremental export: 10 a minute) keeps a pace of its own besides;
- what the vendor's last answer said in its rate-limit headers: once the account's remaining
  requests are down to the reserve left to others (the agents' tools), or Jira says it is
  near its limit, requests wait for the window to reset;
- a 429's Retry-After holds that endpoint until then, for a minute at most (Jira throttles
  an endpoint at a time, Zendesk some endpoints on their own, and an exhausted account shows
  in its headers; after a longer Retry-After a later pass tries again, as after any 429).

The math here is pure: time comes in as `now` (seconds on the daemon's clock). `BudgetGate`
(afterhours.budget_gate) sleeps and counts around it.
"""

from __future__ import annotations

import fnmatch
import math
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

WINDOW = 60.0  # vendors count requests a minute
BURST_WINDOW = 30.0  # at most half a minute's requests in any half minute
NEAR_LIMIT_PAUSE = 1.0  # Jira's near-limit flag: at most one request a second
_LIMIT = ("x-rate-limit", "ratelimit-limit", "x-ratelimit-limit")
_REMAINING = ("x-rate-limit-remaining", "ratelimit-remaining", "x-ratelimit-remaining")
_NEVER = -math.inf


@dataclass(frozen=True)
class EndpointClass:
    """Endpoints (fnmatch on `GET /api/v2/...` templates) with a per-minute limit of their own."""

    name: str
    pattern: str
    per_minute: int

    def matches(self, endpoint: str) -> bool:
        """Whether `endpoint` (a metrics endpoint template) is in this class."""
        return fnmatch.fnmatchcase(endpoint, self.pattern)


EXPORT_RATE_LIMIT = 10  # Zendesk's incremental exports: 10 a minute (30 with High Volume)


def zendesk_classes(export_per_minute: int = EXPORT_RATE_LIMIT) -> tuple[EndpointClass, ...]:
    """Zendesk's endpoints with a limit of their own: the incremental exports."""
    return (EndpointClass("export", "GET /api/v2/incremental/*", export_per_minute),)


@dataclass(frozen=True)
class Reading:
    """What one answer's rate-limit headers said: the limit of the window, what is left of
    it, when it resets (seconds on the daemon's clock, if said) and Jira's near-limit flag."""

    limit: int | None
    remaining: int | None
    reset_at: float | None
    near: bool


def _integer(headers: Mapping[str, str], names: Sequence[str]) -> int | None:
    for name in names:
        value = headers.get(name, "").strip()
        if value.lstrip("-").isdigit():
            return int(value)
    return None


def _reset_at(headers: Mapping[str, str], now: float) -> float | None:
    delta = headers.get("ratelimit-reset", "").strip()  # Zendesk: seconds from now
    if delta.isdigit():
        return now + int(delta)
    stamp = headers.get("x-ratelimit-reset", "").strip()  # Jira: an ISO 8601 instant
    if not stamp:
        return None
    if stamp.isdigit():  # epoch seconds, as some gateways send it
        return float(stamp)
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return None


def read_headers(headers: Mapping[str, str], now: float) -> Reading | None:
    """The rate-limit headers of Zendesk (X-Rate-Limit, ratelimit-*) or Jira
    (X-RateLimit-*) in `headers`; None when the answer carries none."""
    lowered = {name.lower(): value for name, value in headers.items()}
    reading = Reading(
        limit=_integer(lowered, _LIMIT), remaining=_integer(lowered, _REMAINING),
        reset_at=_reset_at(lowered, now),
        near=lowered.get("x-ratelimit-nearlimit", "").strip().lower() == "true")
    if reading == Reading(None, None, None, False):
        return None
    return reading


class Pace:
    """A sliding log of requests sent: at most `per_minute` in any 60 s, half in any 30 s."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = max(1, per_minute)
        self._sent: deque[float] = deque()

    @property
    def burst(self) -> int:
        """Requests allowed in any 30 s: with at most half of a minute's requests in the last
        half minute, the oldest of a full minute leaves within 30 s (from 2 a minute on)."""
        return max(1, self.per_minute // 2)

    def wait(self, now: float) -> float:
        """Seconds until one more request keeps both windows."""
        self._forget(now)
        wait = 0.0
        for allowed, window in ((self.per_minute, WINDOW), (self.burst, BURST_WINDOW)):
            if len(self._sent) >= allowed:
                wait = max(wait, self._sent[-allowed] + window - now)
        return wait

    def record(self, at: float) -> None:
        """A request goes out at `at` (kept in order: a slot never precedes an earlier one)."""
        self._sent.append(max(at, self._sent[-1]) if self._sent else at)

    def left(self, now: float) -> int:
        """Requests that may go now without waiting."""
        self._forget(now)
        recent = sum(1 for at in self._sent if at > now - BURST_WINDOW)
        return max(0, min(self.per_minute - len(self._sent), self.burst - recent))

    def oldest(self, now: float, *, default: float) -> float:
        """When the oldest request of the last minute went; `default` if none did."""
        self._forget(now)
        return self._sent[0] if self._sent else default

    def _forget(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - WINDOW:
            self._sent.popleft()




class RateBudget:
    """The budget of one service: `per_minute` requests the account allows, of which
    `share` is afterhours' own (the rest is left to others: the agents' tools), and the
    endpoint classes with limits of their own. Thread-safe."""

    def __init__(self, service: str, *, per_minute: int, share: float = 1.0,
                 classes: Sequence[EndpointClass] = ()) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"a rate share lies in (0, 1], not {share}")
        self.service = service
        self.share = share
        self._limit = per_minute
        self._account = Pace(self._allowance(per_minute))
        self._classes = [(each, Pace(each.per_minute)) for each in classes]
        self._account_hold = _NEVER  # until the account's window resets
        self._holds: dict[str, float] = {}  # endpoint -> until its 429's Retry-After ends
        # Requests the vendor's last answer left before the account is down to the reserve;
        # None while unknown (no headers yet, or their window has reset since).
        self._headroom: int | None = None
        self._reset_at: float | None = None
        self._lock = threading.Lock()

    def _allowance(self, limit: int) -> int:
        return max(1, math.floor(limit * self.share))

    def _paces(self, endpoint: str) -> list[Pace]:
        return [self._account, *(pace for each, pace in self._classes if each.matches(endpoint))]

    def delay(self, endpoint: str, now: float) -> float:
        """Seconds the next request to `endpoint` must wait (0: it may go now)."""
        with self._lock:
            self._expire(now)
            held = max(self._account_hold, self._holds.get(endpoint, _NEVER))
            return max(held - now, 0.0, *(pace.wait(now) for pace in self._paces(endpoint)))

    def spend(self, endpoint: str, at: float) -> None:
        """A request to `endpoint` goes out at `at`."""
        with self._lock:
            for pace in self._paces(endpoint):
                pace.record(at)
            if self._headroom is not None:
                self._headroom -= 1
                if self._headroom <= 0:
                    self._hold_account(self._window_end(at))

    def observe(self, endpoint: str, now: float, reading: Reading | None,
                retry_after: float | None = None) -> None:
        """What an answer to `endpoint` said: its rate-limit headers, and a 429's
        Retry-After."""
        with self._lock:
            if retry_after is not None:
                until = now + min(retry_after, WINDOW)
                self._holds[endpoint] = max(self._holds.get(endpoint, _NEVER), until)
            if reading is None:
                return
            if reading.limit is not None and reading.limit > 0:
                # The vendor knows the account's limit; a lower setting still wins.
                self._account.per_minute = self._allowance(min(self._limit, reading.limit))
            self._reset_at = reading.reset_at
            if reading.remaining is not None:
                limit = reading.limit or self._limit
                reserve = math.floor(limit * (1 - self.share))
                self._headroom = reading.remaining - reserve
                if self._headroom <= 0:
                    self._hold_account(self._window_end(now))
            if reading.near:
                self._hold_account(now + NEAR_LIMIT_PAUSE)

    def left(self, now: float) -> int:
        """Requests afterhours may still send now without waiting (for the gauge)."""
        with self._lock:
            self._expire(now)
            if self._account_hold > now:
                return 0
            left = self._account.left(now)
            return left if self._headroom is None else max(0, min(left, self._headroom))

    def _hold_account(self, until: float) -> None:
        self._account_hold = max(self._account_hold, until)

    def _window_end(self, now: float) -> float:
        if self._reset_at is not None:
            return self._reset_at
        # No reset time said: a minute from afterhours' own oldest request of the last minute
        # (a fixed minute that held it has reset by then), or from now if it sent none.
        return self._account.oldest(now, default=now) + WINDOW

    def _expire(self, now: float) -> None:
        if self._reset_at is not None and now >= self._reset_at:
            self._headroom, self._reset_at = None, None  # a new window: nothing known of it
        for endpoint in [e for e, until in self._holds.items() if until <= now]:
            del self._holds[endpoint]
