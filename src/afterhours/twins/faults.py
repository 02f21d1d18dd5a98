"""Fault injection for the twins: errors, 429 storms, latency, resets, answers lost after commit,
200s whose body is not JSON.

A `FaultRule` targets endpoints by the label `TwinServer` gives them
("PUT /api/v2/tickets/{id}.json") with fnmatch wildcards ("*", "POST *"). `Faults` holds the
rules of one twin and draws from one seeded `random.Random`: a client that sends the same
requests in the same order meets the same faults (concurrent clients interleave their draws
in whatever order their threads run). With no rule added, nothing is ever injected.
"""

from __future__ import annotations

import contextlib
import fnmatch
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

ErrorBody = Callable[[int], Any]  # status -> the JSON body of an error answer
FaultKind = Literal["reset", "drop_after_commit", "answer", "not_json"]


@dataclass(frozen=True)
class FaultRule:
    """What goes wrong, and how often, on the endpoints whose label matches `endpoint`.

    The rates are probabilities per request and are exclusive: one draw picks at most one of
    reset, drop after commit, 429 storm, error or a non-JSON 200 (an HTML page such as a proxy
    answers, the request never reaching the handler), so together they may not exceed 1.
    """

    endpoint: str = "*"
    error_rate: float = 0.0
    error_status: int = 503
    rate_limit_rate: float = 0.0
    storm_length: int = 0  # requests after the first 429 that also get 429
    retry_after: int = 1  # seconds, sent as Retry-After on every 429 of a storm
    latency: float | tuple[float, float] = 0.0  # seconds, or a (min, max) range
    reset_rate: float = 0.0
    drop_after_commit_rate: float = 0.0
    not_json_rate: float = 0.0

    def __post_init__(self) -> None:
        rates = _bands(self)
        if any(not 0.0 <= rate <= 1.0 for _, rate in rates) or sum(r for _, r in rates) > 1.0:
            raise ValueError(f"fault rates must lie in 0..1 and sum to at most 1: {self}")
        if not 400 <= self.error_status <= 599:
            raise ValueError(f"error_status must be a 4xx or 5xx status, not {self.error_status}")
        if self.storm_length < 0 or self.retry_after < 0:
            raise ValueError("storm_length and retry_after cannot be negative")
        low, high = self.latency_range
        if not 0.0 <= low <= high:
            raise ValueError(f"latency must be seconds >= 0, or a (min, max) range: {self.latency}")

    @property
    def latency_range(self) -> tuple[float, float]:
        """The latency as a (min, max) range in seconds."""
        if isinstance(self.latency, tuple):
            return float(self.latency[0]), float(self.latency[1])
        return float(self.latency), float(self.latency)

    def matches(self, endpoint: str) -> bool:
        """True when this rule applies to the endpoint labelled `endpoint`."""
        return fnmatch.fnmatchcase(endpoint, self.endpoint)



def _bands(rule: FaultRule) -> list[tuple[str, float]]:
    # The order fixes which stretch of [0, 1) each failure owns for a given seed.
    return [("reset", rule.reset_rate), ("drop_after_commit", rule.drop_after_commit_rate),
            ("429", rule.rate_limit_rate), ("error", rule.error_rate),
            ("not_json", rule.not_json_rate)]


# The bands whose fault is its kind alone (no status, no storm).
_PLAIN_KINDS: dict[str, FaultKind] = {
    "reset": "reset", "drop_after_commit": "drop_after_commit", "not_json": "not_json"}


@dataclass(frozen=True)
class Fault:
    """What to do to one request: wait `latency` seconds, then fail it as `kind` says (if set).

    "answer" means: answer `status` (with Retry-After when `retry_after` is set) without running
    the handler; "not_json" answers 200 with an HTML page, without running the handler either;
    "reset" aborts the connection before the handler runs; "drop_after_commit" runs
    the handler and then aborts the connection instead of answering.
    """

    latency: float = 0.0
    kind: FaultKind | None = None
    status: int | None = None
    retry_after: int | None = None


NO_FAULT = Fault()


class Faults:
    """The fault rules of one twin, a seeded random source and counts of what was injected."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)  # noqa: S311  (reproducible chaos, not secrets)
        self._rules: list[FaultRule] = []
        self._storms: dict[int, int] = {}  # rule index -> 429s still due in its storm
        self.enabled = True
        self.counts: Counter[str] = Counter()  # kind ("reset", "429", "503"...) -> injected
        self.by_endpoint: Counter[tuple[str, str]] = Counter()  # (kind, endpoint) -> injected

    def add(self, rule: FaultRule) -> FaultRule:
        """Apply `rule` from the next request on; earlier rules take precedence."""
        with self._lock:
            self._rules.append(rule)
        return rule

    def reseed(self, seed: int) -> None:
        """Restart the random sequence from `seed`."""
        with self._lock:
            self._random.seed(seed)

    def clear(self) -> None:
        """Drop every rule and any storm in progress; the counts are kept."""
        with self._lock:
            self._rules.clear()
            self._storms.clear()

    def snapshot(self) -> Counter[str]:
        """A copy of `counts`, safe to read while the twin serves."""
        with self._lock:
            return Counter(self.counts)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Inject nothing inside the block (storms resume after it), e.g. to check invariants."""
        with self._lock:
            before, self.enabled = self.enabled, False
        try:
            yield
        finally:
            with self._lock:
                self.enabled = before

    def draw(self, endpoint: str) -> Fault:
        """Decide the fate of one request to `endpoint`: every matching rule adds its latency,
        and the first one that picks a failure decides it."""
        with self._lock:
            if not self.enabled or not self._rules:
                return NO_FAULT
            latency = 0.0
            fault = NO_FAULT
            for index, rule in enumerate(self._rules):
                if not rule.matches(endpoint):
                    continue
                low, high = rule.latency_range
                latency += low if low == high else self._random.uniform(low, high)
                if fault.kind is None:
                    fault = self._pick(index, rule)
            if latency > 0:
                self._count("latency", endpoint)
            if fault.kind is not None:
                label = fault.kind if fault.kind != "answer" else str(fault.status)
                self._count(label, endpoint)
            return Fault(latency, fault.kind, fault.status, fault.retry_after)

    def _pick(self, index: int, rule: FaultRule) -> Fault:
        if self._storms.get(index, 0) > 0:
            self._storms[index] -= 1
            return Fault(kind="answer", status=429, retry_after=rule.retry_after)
        bands = _bands(rule)
        if not any(rate for _, rate in bands):
            return NO_FAULT  # a latency-only rule leaves the random sequence alone
        roll = self._random.random()
        for name, rate in bands:
            if roll < rate:
                if name == "429":
                    self._storms[index] = rule.storm_length
                    return Fault(kind="answer", status=429, retry_after=rule.retry_after)
                if name == "error":
                    return Fault(kind="answer", status=rule.error_status)
                return Fault(kind=_PLAIN_KINDS[name])
            roll -= rate
        return NO_FAULT

    def note(self, kind: str, endpoint: str) -> None:
        """Count a fault the twin injected itself (a ticket served malformed), not drawn here."""
        with self._lock:
            self._count(kind, endpoint)

    def _count(self, kind: str, endpoint: str) -> None:
        self.counts[kind] += 1
        self.by_endpoint[kind, endpoint] += 1


def abort(connection: socket.socket) -> None:
    """Close `connection` with a TCP RST: the client sees a reset, not a clean end of stream."""
    # Linger on with a zero timeout makes close() discard what is queued and send RST.
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    # detach(): the handler's rfile holds a reference that would keep close() from closing.
    socket.close(connection.detach())


# What a proxy or a maintenance page answers with 200 in front of an API.
NOT_JSON_BODY = (b"<!DOCTYPE html><html><head><title>Maintenance</title></head>"
                 b"<body><h1>We will be back soon.</h1></body></html>")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


_ZENDESK_ERRORS = {
    429: ("APIRateLimitExceeded", "Number of allowed API requests per minute exceeded"),
    503: ("ServiceUnavailable", "Zendesk is temporarily unavailable; try again shortly"),
}


def zendesk_error(status: int) -> Any:
    """Zendesk's error shape: {"error": ..., "description": ...}."""
    error, description = _ZENDESK_ERRORS.get(
        status, (_phrase(status).replace(" ", ""), _phrase(status)))
    return {"error": error, "description": description}


def jira_error(status: int) -> Any:
    """Jira's ErrorCollection: {"errorMessages": [...], "errors": {}}."""
    message = "Rate limit exceeded." if status == 429 else f"{_phrase(status)}."
    return {"errorMessages": [message], "errors": {}}


def slack_error(status: int) -> Any:
    """Slack's incoming webhooks answer errors with a bare code ("rate_limited")."""
    return "rate_limited" if status == 429 else _phrase(status).lower().replace(" ", "_")


# Twins whose errors are not shaped like Zendesk's, by TwinServer name.
_ERROR_BODIES: dict[str, ErrorBody] = {"jira": jira_error}


def error_body_for(twin: str) -> ErrorBody:
    """The error-body shape of the twin called `twin` (Zendesk's unless known otherwise)."""
    return _ERROR_BODIES.get(twin, zendesk_error)
