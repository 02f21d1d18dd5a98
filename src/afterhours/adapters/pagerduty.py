"""PagerDuty through its Events API v2 (`POST /v2/enqueue`), over httpx.

Each channel of type pagerduty has a routing key (AFTERHOURS_PAGERDUTY_ROUTING_KEYS): the
integration key of an Events API v2 integration on the service to page. A trigger carries
the ledger key of the level's first page as `dedup_key`, so PagerDuty keeps one incident
however often it is sent; a resolve with the same key (and routing key) closes it.

Answers: 202 is accepted; 400 is permanent, with PagerDuty's own message and errors; 429
and 5xx are transient (Retry-After honoured when sent, else the retry policy's backoff),
and a rate budget keeps well under PagerDuty's 120 events a minute per integration key.
The routing keys are secrets: no log line, error or metric names one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog
from pydantic import SecretStr

from afterhours.breaker import Breakers, guarded
from afterhours.budget_gate import BudgetGate
from afterhours.domain.actions import ResolvePage, TriggerPage
from afterhours.domain.render import one_line
from afterhours.errors import (
    ACCESS_STATUSES,
    AccessError,
    PermanentError,
    ServiceError,
    TransientError,
)
from afterhours.ops.metrics import Metrics
from afterhours.retrying import RetryPolicy, call_with_retries, parse_retry_after
from afterhours.settings import PAGERDUTY_EVENTS_URL, routing_key_problem

SERVICE = "pagerduty"
ENDPOINT = "POST /v2/enqueue"
RATE_LIMIT = 120  # events a minute PagerDuty takes per integration key
CLIENT = "afterhours"
_REASON_LIMIT = 300
log = structlog.get_logger()


def trigger_event(action: TriggerPage, routing_key: str) -> dict[str, Any]:
    """The Events API v2 body of a trigger: one line of summary, afterhours' own details."""
    source = urlsplit(action.link).hostname if action.link else None
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": action.dedup_key,
        "client": CLIENT,
        "payload": {
            "summary": action.summary,
            "source": source or CLIENT,
            "severity": action.severity,
            "component": "zendesk",
            "group": action.channel,
            "class": "escalation",
            "custom_details": dict(action.details),
        },
    }
    if action.link:
        event["links"] = [{"href": action.link, "text": f"Zendesk ticket #{action.ticket_id}"}]
    return event


def resolve_event(action: ResolvePage, routing_key: str) -> dict[str, Any]:
    """The Events API v2 body that resolves the incident of `action.dedup_key`."""
    return {"routing_key": routing_key, "event_action": "resolve",
            "dedup_key": action.dedup_key}


class PagerDutyPager:
    """Sends trigger and resolve events to the Events API v2, one routing key per channel."""

    def __init__(
        self,
        routing_keys: Mapping[str, SecretStr],
        *,
        events_url: str = PAGERDUTY_EVENTS_URL,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        client: httpx.Client | None = None,
        breakers: Breakers | None = None,
        metrics: Metrics | None = None,
        gate: BudgetGate | None = None,
    ) -> None:
        self._keys = dict(routing_keys)
        self._url = events_url.rstrip("/") + "/v2/enqueue"
        self._client = client or httpx.Client(timeout=timeout)
        self._metrics = metrics or Metrics()
        self._retry = retry or RetryPolicy()
        self._breakers = breakers
        self._gate = gate

    def trigger(self, action: TriggerPage) -> None:
        """Open (or keep open) the incident of `action.dedup_key`; TransientError or
        PermanentError when PagerDuty does not take the event."""
        self._send(action.channel, lambda key: trigger_event(action, key), "pagerduty.trigger")

    def resolve(self, action: ResolvePage) -> None:
        """Resolve the incident of `action.dedup_key` (PagerDuty drops the event when none
        is open: resolved already, or never opened)."""
        self._send(action.channel, lambda key: resolve_event(action, key), "pagerduty.resolve")

    def key_problem(self, channel: str) -> str | None:
        """What is wrong with the channel's routing key, or None (never the key itself)."""
        secret = self._keys.get(channel)
        if secret is None:
            return "is not configured (AFTERHOURS_PAGERDUTY_ROUTING_KEYS)"
        return routing_key_problem(secret.get_secret_value())

    def reachable(self) -> None:
        """Whether the events endpoint answers, sending no event: an empty body is refused
        (400) by PagerDuty without paging anyone. ServiceError when it cannot be reached."""
        try:
            response = self._client.post(self._url, json={})
        except httpx.TransportError as error:
            raise TransientError(SERVICE, f"events endpoint: {type(error).__name__}") from error
        failure = answer_error("check", response)
        if failure is not None and response.status_code != 400:  # 400: the event refused
            raise failure

    def _send(self, channel: str, event: Any, operation: str) -> None:
        secret = self._keys.get(channel)
        if secret is None:
            raise PermanentError(SERVICE, f"no routing key configured for channel {channel!r}")
        body = event(secret.get_secret_value())

        def post() -> None:
            if self._gate is not None:
                self._gate.admit(ENDPOINT)  # RateBudgetError: not sent, as after a 429
            try:
                response = self._client.post(self._url, json=body)
            except httpx.TransportError as error:
                self._metrics.api_request(SERVICE, ENDPOINT, None)
                raise TransientError(SERVICE, f"{channel}: {type(error).__name__}") from error
            self._metrics.api_request(SERVICE, ENDPOINT, response.status_code)
            if self._gate is not None:
                self._gate.answered(ENDPOINT, response.status_code, response.headers)
            failure = answer_error(channel, response)
            if failure is not None:
                raise failure
            log.info("pagerduty.accepted", channel=channel, event_action=body["event_action"],
                     dedup_key=body["dedup_key"])

        breaker = None if self._breakers is None else self._breakers.get(SERVICE)
        call_with_retries(self._retry, operation, guarded(breaker, post))

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._client.close()


def answer_error(channel: str, response: httpx.Response) -> ServiceError | None:
    """What an Events API answer means: None for 202 (any 2xx), else the error, with
    PagerDuty's own message and errors (a 400 says what is wrong with the event)."""
    status = response.status_code
    if response.is_success:
        return None
    reason = answer_reason(response)
    message = f"{channel}: HTTP {status}" + (f": {reason}" if reason else "")
    if status == 429 or status >= 500:
        return TransientError(SERVICE, message, status=status,
                              retry_after=parse_retry_after(response.headers.get("Retry-After")))
    if status in ACCESS_STATUSES:
        return AccessError(SERVICE, message, status=status)
    return PermanentError(SERVICE, message, status=status)


def answer_reason(response: httpx.Response) -> str:
    """PagerDuty's message and errors, on one short line (`Event object is invalid: Length of
    'routing_key' is incorrect`); a page of HTML is cut short."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        said = [body["message"]] if isinstance(body.get("message"), str) else []
        errors = body.get("errors")
        if isinstance(errors, list):
            said += [e for e in errors if isinstance(e, str)]
        if said:
            return one_line(": ".join(said), _REASON_LIMIT)
    return one_line(re.sub(r"[\x00-\x1f\x7f-\x9f]+", " ", response.text), _REASON_LIMIT)
