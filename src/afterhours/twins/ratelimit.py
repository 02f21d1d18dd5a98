"""A vendor's rate limit on a twin, off until a test sets one on `TwinServer.rate_limit`.

Requests are counted in whole minutes of the twin's clock, as Zendesk counts them. Every
answer carries the vendor's rate-limit headers; a request past the limit is not served: it is
answered 429 with Retry-After (the seconds to the next minute), as the vendor would, and
counted in `throttled`. An endpoint class may have a limit of its own besides (Zendesk's
incremental export: 10 a minute).

    zendesk.server.rate_limit = zendesk_rate_limit(clock, per_minute=200)
    jira.server.rate_limit = jira_rate_limit(clock, per_minute=100)
"""

from __future__ import annotations

import fnmatch
import math
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

Style = Literal["zendesk", "jira"]
_ACCOUNT = "*"
NEAR_LIMIT = 0.2  # Jira says X-RateLimit-NearLimit when less than a fifth is left


@dataclass
class TwinRateLimit:
    """`per_minute` requests a minute for the whole twin, and `classes` (an endpoint pattern,
    fnmatch on the twin's route labels, and its own limit a minute); headers as `style`'s."""

    clock: Callable[[], datetime]
    per_minute: int
    style: Style
    classes: Sequence[tuple[str, int]] = ()
    throttled: Counter[str] = field(default_factory=Counter)  # endpoint -> 429s answered
    served: Counter[int] = field(default_factory=Counter)  # minute (epoch // 60) -> served
    _minute: int = -1
    _counts: Counter[str] = field(default_factory=Counter)  # limit's pattern -> requests
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, endpoint: str) -> tuple[bool, dict[str, str]]:
        """Count a request to `endpoint`: whether it is served, and the headers of its answer
        (a 429's when it is not)."""
        with self._lock:
            now = self.clock().timestamp()
            self._roll(now)
            limits = [(_ACCOUNT, self.per_minute), *((pattern, limit) for pattern, limit
                                                     in self.classes
                                                     if fnmatch.fnmatchcase(endpoint, pattern))]
            reset = (self._minute + 1) * 60 - now
            if any(self._counts[pattern] >= limit for pattern, limit in limits):
                self.throttled[endpoint] += 1
                return False, self._refusal(reset)
            for pattern, _ in limits:
                self._counts[pattern] += 1
            self.served[self._minute] += 1
            return True, self._headers(self.per_minute - self._counts[_ACCOUNT], reset)

    def spend(self, requests: int) -> None:
        """Count `requests` sent by others this minute (the agents' tools)."""
        with self._lock:
            self._roll(self.clock().timestamp())
            self._counts[_ACCOUNT] += requests

    def _roll(self, now: float) -> None:
        minute = math.floor(now / 60)
        if minute != self._minute:
            self._minute = minute
            self._counts.clear()

    def _headers(self, remaining: int, reset: float) -> dict[str, str]:
        remaining = max(0, remaining)
        if self.style == "jira":
            headers = {"X-RateLimit-Limit": str(self.per_minute),
                       "X-RateLimit-Remaining": str(remaining)}
            if remaining < self.per_minute * NEAR_LIMIT:
                headers["X-RateLimit-NearLimit"] = "true"
            return headers
        limit = str(self.per_minute)
        return {"X-Rate-Limit": limit, "X-Rate-Limit-Remaining": str(remaining),
                "ratelimit-limit": limit, "ratelimit-remaining": str(remaining),
                "ratelimit-reset": str(math.ceil(reset))}

    def _refusal(self, reset: float) -> dict[str, str]:
        headers = {**self._headers(0, reset), "Retry-After": str(math.ceil(reset))}
        if self.style == "jira":
            # Jira: the instant of the reset, to the minute (yyyy-MM-ddTHH:mmZ).
            at = datetime.fromtimestamp((self._minute + 1) * 60, UTC)
            headers["X-RateLimit-Reset"] = at.strftime("%Y-%m-%dT%H:%MZ")
            headers["RateLimit-Reason"] = "jira-burst-based"
        return headers


def zendesk_rate_limit(clock: Callable[[], datetime], *, per_minute: int,
                       export_per_minute: int = 10) -> TwinRateLimit:
    """Zendesk's: the account's requests a minute, and the incremental export's own limit."""
    return TwinRateLimit(clock, per_minute, "zendesk",
                         classes=(("GET /api/v2/incremental/*", export_per_minute),))


def jira_rate_limit(clock: Callable[[], datetime], *, per_minute: int) -> TwinRateLimit:
    """Jira Cloud's, with its X-RateLimit-* headers and near-limit flag."""
    return TwinRateLimit(clock, per_minute, "jira")
