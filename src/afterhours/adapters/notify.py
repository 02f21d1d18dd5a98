"""Chat notifications through Slack-compatible incoming webhooks, over httpx."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog
from pydantic import SecretStr

from afterhours.breaker import Breakers, guarded
from afterhours.domain import chat
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

_SERVICE = "chat"
_REASON_LIMIT = 200  # the receiver's own words, enough to act on; an HTML page is no reason
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
log = structlog.get_logger()
_ENDPOINT = "POST {webhook}"  # the URL is a secret, and one per channel


def payload(text: str, buttons: str | None = None) -> dict[str, Any]:
    """What a webhook is sent: the mrkdwn `text` (the fallback for notifications and for
    receivers without Block Kit), the same words as Block Kit `blocks`, and no unfurling (a
    preview would fetch and show a page the message does not even link). `buttons`: the
    message's ledger key, for its Acknowledge and Take it buttons."""
    shown = chat.blocks(text)
    if buttons is not None:
        shown.insert(1, chat.buttons(buttons))
    return {"text": text, "blocks": shown, "unfurl_links": False, "unfurl_media": False}


class WebhookNotifier:
    """Posts the message (text and Block Kit blocks) to the webhook URL of each channel."""

    def __init__(
        self,
        webhooks: Mapping[str, SecretStr],
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        client: httpx.Client | None = None,
        breakers: Breakers | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._webhooks = dict(webhooks)
        self._client = client or httpx.Client(timeout=timeout)
        self._metrics = metrics or Metrics()
        self._client.event_hooks["response"].append(self._count)
        self._retry = retry or RetryPolicy()
        # One breaker per channel ("chat:<channel>"): a dead hook must not hold up the others.
        self._breakers = breakers

    def notify(self, channel: str, text: str, *, key: str | None = None,
               buttons: bool = False) -> None:
        """Post `text` to `channel`; TransientError or PermanentError when it fails.
        `buttons`: with Acknowledge and Take it buttons, their value `key`.

        `key` (the action's ledger key) goes out hashed as an Idempotency-Key header, the same
        on every retry, so a receiver that honours it shows a message once even when an
        answer was lost. Slack ignores the header: there a lost answer can repeat a message.
        """
        secret = self._webhooks.get(channel)
        if secret is None:
            raise PermanentError(_SERVICE, f"no webhook URL configured for channel {channel!r}")
        url = secret.get_secret_value()
        headers = {}
        if key is not None:
            headers["Idempotency-Key"] = hashlib.sha256(key.encode()).hexdigest()

        def post() -> None:
            try:
                response = self._client.post(
                    url, json=payload(text, key if buttons else None), headers=headers)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
                # A malformed URL in settings fails the same way every time.
                raise PermanentError(_SERVICE, f"{channel}: bad webhook URL") from error
            except httpx.TransportError as error:
                self._metrics.api_request(_SERVICE, _ENDPOINT, None)
                # The URL is a secret: name the channel, never the URL.
                raise TransientError(_SERVICE, f"{channel}: {type(error).__name__}") from error
            failure = answer_error(channel, url, response, key=key)
            if failure is not None:
                raise failure

        breaker = None if self._breakers is None else self._breakers.get(f"chat:{channel}")
        call_with_retries(self._retry, "chat.notify", guarded(breaker, post))

    def respond(self, response_url: str, text: str) -> None:
        """Replace a clicked message with `text` through its `response_url` (Slack takes
        five uses within 30 minutes of the click); ServiceError when it is not taken."""

        def post() -> None:
            try:
                answer = self._client.post(response_url, json={
                    "replace_original": True, "text": text, "blocks": chat.blocks(text)})
            except httpx.TransportError as error:
                raise TransientError(_SERVICE, f"response_url: {type(error).__name__}"
                                     ) from error
            failure = answer_error("response_url", response_url, answer, key=None)
            if failure is not None:
                raise failure

        call_with_retries(self._retry, "chat.respond", post)

    def _count(self, response: httpx.Response) -> None:
        """httpx's response hook: one exchange for afterhours_api_requests_total."""
        self._metrics.api_request(_SERVICE, _ENDPOINT, response.status_code)

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._client.close()


def answer_error(
    channel: str, url: str, response: httpx.Response, *, key: str | None
) -> ServiceError | None:
    """What a webhook's answer means: None when the message is delivered, else the error.

    2xx is delivered. With an Idempotency-Key sent, a 409, or a 422 whose body names the key,
    means the receiver already holds this message (its text may differ now, re-planned
    after a crash): delivered once is the point. 401/403 are refused credentials (the action
    waits); 429 and 5xx are transient; any other answer (400, 404 and 410 for a mistyped or
    deleted hook, a redirect) is permanent, with the receiver's reason.
    """
    status = response.status_code
    if response.is_success:
        return None
    reason = answer_reason(response, url)
    if key is not None and (status == 409 or (status == 422 and "idempotency" in reason.lower())):
        log.info("chat.already_delivered", channel=channel, status=status, reason=reason)
        return None
    # The URL is a secret: name the channel, never the URL.
    message = f"{channel}: HTTP {status}" + (f": {reason}" if reason else "")
    if status == 429 or status >= 500:
        return TransientError(_SERVICE, message, status=status,
                              retry_after=parse_retry_after(response.headers.get("Retry-After")))
    if status in ACCESS_STATUSES:
        return AccessError(_SERVICE, message, status=status)
    return PermanentError(_SERVICE, message, status=status)


def answer_reason(response: httpx.Response, url: str) -> str:
    """The reason a webhook's answer gives, on one short line, without control characters and
    without the webhook's URL (a secret the receiver may echo)."""
    text = response.text
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, str):
        text = body
    elif isinstance(body, dict):
        said = [body[k] for k in ("error", "message", "description")
                if isinstance(body.get(k), str)]
        text = said[0] if said else text
    path = urlsplit(url).path
    for secret in (url, path if len(path) > 1 else None):
        if secret:
            text = text.replace(secret, "<webhook>")
    return one_line(_CONTROL.sub(" ", text), _REASON_LIMIT)
