"""Slack through its Web API with a bot token (AFTERHOURS_SLACK_BOT_TOKEN), over httpx.

An incoming webhook cannot tell a repeat: a kill between its POST and the ledger write posts
twice. A message posted with `chat.postMessage` carries its ledger key in its `metadata`
(event type `afterhours_message`), and before a message is posted the channel's recent
history (`conversations.history`, metadata included) is looked up for that key: a message
whose answer was lost is found there, not posted again, as a Jira issue is found by its
label. When its level stops, the message is replaced in place (`chat.update`) to say so.
Slack answers most errors with HTTP 200 and `"ok": false`: the error code says what
kind (refused credentials wait for an operator; `ratelimited` and 5xx are transient, a
429's Retry-After honoured; the rest, such as channel_not_found, fail for good). The token
is a secret: no log line or error names it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import structlog

from afterhours.breaker import Breakers, guarded
from afterhours.clock import Clock, utc_now
from afterhours.domain import chat
from afterhours.errors import AccessError, PermanentError, ServiceError, TransientError
from afterhours.ops.metrics import Metrics
from afterhours.retrying import RetryPolicy, call_with_retries, parse_retry_after

SERVICE = "slack"
API_URL = "https://slack.com/api"
EVENT_TYPE = "afterhours_message"
LOOKBACK = timedelta(days=2)  # how far back a lost message is looked for
_ACCESS = frozenset({"not_authed", "invalid_auth", "account_inactive", "token_revoked",
                     "token_expired", "no_permission", "missing_scope", "not_allowed_token_type",
                     "ekm_access_denied"})
_TRANSIENT = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                        "request_timeout"})
log = structlog.get_logger()


def message_body(conversation: str, text: str, key: str, *, buttons: bool = False
                 ) -> dict[str, Any]:
    """What chat.postMessage is sent: the text, the same as Block Kit (with the Acknowledge
    and Take it buttons when asked), no unfurling, and the ledger key in the metadata."""
    blocks = chat.blocks(text)
    if buttons:
        blocks.insert(1, chat.buttons(key))
    return {"channel": conversation, "text": text, "blocks": blocks, "unfurl_links": False,
            "unfurl_media": False,
            "metadata": {"event_type": EVENT_TYPE, "event_payload": {"key": key}}}


class SlackWebApi:
    """Posts messages as the bot, each once (see the module)."""

    def __init__(self, token: str, *, api_url: str = API_URL, timeout: float = 10.0,
                 retry: RetryPolicy | None = None, client: httpx.Client | None = None,
                 breakers: Breakers | None = None, metrics: Metrics | None = None,
                 clock: Clock = utc_now) -> None:
        self._api = api_url.rstrip("/")
        self._client = client or httpx.Client(timeout=timeout)
        self._client.headers["Authorization"] = f"Bearer {token}"
        self._retry = retry or RetryPolicy()
        self._breakers = breakers
        self._metrics = metrics or Metrics()
        self._clock = clock

    def post(self, conversation: str, text: str, *, key: str, buttons: bool = False) -> str:
        """Post `text` to `conversation` once: the ts of the message posted, or of the one an
        earlier attempt posted (found by `key` in the channel's history)."""
        def attempt() -> str:
            found = self.find(conversation, key)
            if found is not None:
                log.info("slack.already_posted", conversation=conversation, ts=found)
                return found
            answer = self._call("POST", "chat.postMessage",
                                json=message_body(conversation, text, key, buttons=buttons))
            return str(answer.get("ts", ""))

        return str(self._retried("slack.post", attempt))

    def update(self, conversation: str, ts: str, text: str, *, key: str) -> None:
        """Replace the message `ts` in `conversation` with `text` (its buttons gone, its
        key kept in the metadata); the same update again changes nothing."""
        body = message_body(conversation, text, key) | {"ts": ts}
        for unsent in ("unfurl_links", "unfurl_media"):  # chat.postMessage's only
            body.pop(unsent)
        self._retried("slack.update", lambda: self._call("POST", "chat.update", json=body))

    def find(self, conversation: str, key: str) -> str | None:
        """The ts of the recent message in `conversation` whose metadata holds `key`."""
        oldest = (self._clock() - LOOKBACK).timestamp()
        answer = self._call("GET", "conversations.history", params={
            "channel": conversation, "limit": 200, "include_all_metadata": "true",
            "oldest": f"{oldest:.6f}"})
        for message in answer.get("messages") or []:
            meta = message.get("metadata") if isinstance(message, dict) else None
            if not isinstance(meta, dict) or meta.get("event_type") != EVENT_TYPE:
                continue
            payload = meta.get("event_payload")
            if isinstance(payload, dict) and payload.get("key") == key:
                return str(message.get("ts", ""))
        return None

    def probe(self) -> str:
        """Who the token is (auth.test): the bot's name and workspace."""
        answer = self._retried("slack.probe", lambda: self._call("POST", "auth.test"))
        return f"bot {answer.get('user', '?')} in {answer.get('team', '?')}"

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._client.close()

    def _retried(self, operation: str, attempt: Any) -> Any:
        breaker = None if self._breakers is None else self._breakers.get(SERVICE)
        return call_with_retries(self._retry, operation, guarded(breaker, attempt))

    def _call(self, method: str, name: str, **kwargs: Any) -> dict[str, Any]:
        endpoint = f"{method} /api/{name}"
        try:
            response = self._client.request(method, f"{self._api}/{name}", **kwargs)
        except httpx.TransportError as error:
            self._metrics.api_request(SERVICE, endpoint, None)
            raise TransientError(SERVICE, f"{name}: {type(error).__name__}") from error
        self._metrics.api_request(SERVICE, endpoint, response.status_code)
        failure = answer_error(name, response)
        if failure is not None:
            raise failure
        return response.json()  # type: ignore[no-any-return]  # checked by answer_error


def answer_error(name: str, response: httpx.Response) -> ServiceError | None:
    """What a Web API answer means: None when `ok`, else the error its code names."""
    status = response.status_code
    if status == 429 or status >= 500:
        return TransientError(SERVICE, f"{name}: HTTP {status}", status=status,
                              retry_after=parse_retry_after(response.headers.get("Retry-After")))
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return PermanentError(SERVICE, f"{name}: HTTP {status}, not Slack's answer",
                              status=status)
    if body.get("ok") is True:
        return None
    code = str(body.get("error") or "unknown_error")[:80]
    message = f"{name}: {code}"
    if code in _ACCESS:
        return AccessError(SERVICE, message, status=status)
    if code in _TRANSIENT:
        return TransientError(SERVICE, message, status=status)
    return PermanentError(SERVICE, message, status=status)
