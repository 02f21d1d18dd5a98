"""Chat notifications through Slack-compatible incoming webhooks, over httpx."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import httpx
from pydantic import SecretStr

from afterhours.errors import PermanentError, TransientError, error_for_status
from afterhours.ops.metrics import Metrics
from afterhours.retrying import RetryPolicy, call_with_retries, parse_retry_after

# Slack answers a revoked or archived webhook with 403, 404 or 410: an operator must
# replace the URL, and until then the message must not be given up.
REVOKED_HOOK_STATUSES = frozenset({401, 403, 404, 410})
_SERVICE = "chat"
_ENDPOINT = "POST {webhook}"  # the URL is a secret, and one per channel


class WebhookNotifier:
    """Posts `{"text": ...}` to the webhook URL configured for each channel."""

    def __init__(
        self,
        webhooks: Mapping[str, SecretStr],
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        client: httpx.Client | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._webhooks = dict(webhooks)
        self._client = client or httpx.Client(timeout=timeout)
        self._metrics = metrics or Metrics()
        self._client.event_hooks["response"].append(self._count)
        self._retry = retry or RetryPolicy()

    def notify(self, channel: str, text: str, *, key: str | None = None) -> None:
        """Post `text` to `channel`; TransientError or PermanentError when it fails.

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
                response = self._client.post(url, json={"text": text}, headers=headers)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
                # A malformed URL in settings fails the same way every time.
                raise PermanentError(_SERVICE, f"{channel}: bad webhook URL") from error
            except httpx.TransportError as error:
                self._metrics.api_request(_SERVICE, _ENDPOINT, None)
                # The URL is a secret: name the channel, never the URL.
                raise TransientError(_SERVICE, f"{channel}: {type(error).__name__}") from error
            if response.status_code == 422 and key is not None:
                # The receiver already holds a message under this key (its text may differ
                # now, re-planned after a crash): delivered once is the point.
                return
            if response.is_error:
                raise error_for_status(
                    _SERVICE, response.status_code, f"{channel}: HTTP {response.status_code}",
                    retry_after=parse_retry_after(response.headers.get("Retry-After")),
                    access=REVOKED_HOOK_STATUSES,
                )

        call_with_retries(self._retry, "chat.notify", post)

    def _count(self, response: httpx.Response) -> None:
        """httpx's response hook: one exchange for afterhours_api_requests_total."""
        self._metrics.api_request(_SERVICE, _ENDPOINT, response.status_code)

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._client.close()
