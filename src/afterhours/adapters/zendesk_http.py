"""Zendesk's HTTP seam: zenpy's requests sent to the configured URL, failures classified."""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

from afterhours.errors import OutcomeUnknownError, TransientError, error_for_status
from afterhours.ops.metrics import Metrics, endpoint_template
from afterhours.retrying import parse_retry_after

_SERVICE = "zendesk"


class BaseUrlTransport(HTTPAdapter):
    """Sends zenpy's https://{subdomain}.zendesk.com requests to the configured base URL.

    zenpy can only build Zendesk-cloud URLs (or read a process-wide environment override);
    rewriting here keeps each client pointed at its own server. It also stops zenpy's
    sleep-forever loop on 429 by raising before zenpy sees the answer.
    """

    def __init__(
        self, origin: str, base_url: str, timeout: float, metrics: Metrics | None = None
    ) -> None:
        super().__init__(max_retries=0)  # retries belong to afterhours.retrying alone
        self._origin = origin
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._metrics = metrics or Metrics()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        original = request.url or ""
        if original.startswith(self._origin):
            request.url = self._base_url + original[len(self._origin) :]
        kwargs["timeout"] = kwargs.get("timeout") or self._timeout
        endpoint = endpoint_template(request.method, original)
        try:
            response = super().send(request, **kwargs)
        except requests.RequestException:
            self._metrics.api_request(_SERVICE, endpoint, None)
            raise
        self._metrics.api_request(_SERVICE, endpoint, response.status_code)
        # zenpy picks its response handler by finding its own host in the request URL.
        request.url = response.url = original
        if response.status_code == 429:
            raise TransientError(
                _SERVICE, "rate limited (429)", status=429,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        return response


def classify(response: requests.Response | None, message: str, *, once: bool) -> Exception:
    """The error a failed call means; with `once`, one that may have landed is unknown."""
    status = None if response is None else response.status_code
    error = error_for_status(
        _SERVICE, status, message,
        retry_after=None if response is None else parse_retry_after(
            response.headers.get("Retry-After")),
    )
    if once and isinstance(error, TransientError) and status != 429:
        # A 5xx may come after the write was stored; only a 429 surely was not.
        return OutcomeUnknownError(_SERVICE, message, status=status)
    return error
