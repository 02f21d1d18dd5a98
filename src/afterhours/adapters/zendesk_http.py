"""Zendesk's HTTP seam: zenpy's requests sent to the configured URL, failures classified."""

from __future__ import annotations

import json
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from afterhours.budget_gate import BudgetGate
from afterhours.errors import OutcomeUnknownError, TransientError, error_for_status
from afterhours.ops.metrics import Metrics, endpoint_template
from afterhours.retrying import parse_retry_after

_SERVICE = "zendesk"
_NOT_JSON = "Zendesk answered HTTP {status} with a body that is not JSON"


class BaseUrlTransport(HTTPAdapter):
    """Sends zenpy's https://{subdomain}.zendesk.com requests to the configured base URL.

    zenpy can only build Zendesk-cloud URLs (or read a process-wide environment override);
    rewriting here keeps each client pointed at its own server. It also stops zenpy's
    sleep-forever loop on 429 by raising before zenpy sees the answer, puts the configured
    timeout in place of zenpy's own (60 s) on every request, and turns a 2xx answer whose
    body is not JSON (a proxy's HTML page) into an error instead of zenpy's "Could not
    handle response", which would read as permanent. With a `gate`, every request waits its
    turn in the rate budget before it goes, and every answer's rate-limit headers feed it.
    """

    def __init__(
        self, origin: str, base_url: str, timeout: float, metrics: Metrics | None = None,
        gate: BudgetGate | None = None,
    ) -> None:
        super().__init__(max_retries=0)  # retries belong to afterhours.retrying alone
        self._origin = origin
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._metrics = metrics or Metrics()
        self._gate = gate

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        original = request.url or ""
        if original.startswith(self._origin):
            request.url = self._base_url + original[len(self._origin) :]
        kwargs["timeout"] = self._timeout
        endpoint = endpoint_template(request.method, original)
        if self._gate is not None:
            self._gate.admit(endpoint)  # RateBudgetError: not sent, as a 429 would refuse it
        try:
            response = super().send(request, **kwargs)
        except requests.RequestException:
            self._metrics.api_request(_SERVICE, endpoint, None)
            raise
        self._metrics.api_request(_SERVICE, endpoint, response.status_code)
        if self._gate is not None:
            self._gate.answered(endpoint, response.status_code, response.headers)
        # zenpy picks its response handler by finding its own host in the request URL.
        request.url = response.url = original
        if response.status_code == 429:
            response.close()  # nobody reads this answer: give its connection back
            raise TransientError(
                _SERVICE, "rate limited (429)", status=429,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        status = response.status_code
        if 200 <= status < 300 and not _is_json(response.content):
            if request.method not in ("GET", "HEAD"):
                # The write may have been stored before the answer was garbled on its way.
                raise OutcomeUnknownError(
                    _SERVICE, _NOT_JSON.format(status=status), status=status)
            raise not_json(status)
        return response


def _is_json(content: bytes) -> bool:
    if not content.strip():
        return True  # no body at all (a 204) is no broken one
    try:
        json.loads(content)
    except ValueError:  # UnicodeDecodeError included
        return False
    return True


def not_json(status: int) -> TransientError:
    """The error for an answer whose body is not JSON: a proxy or a half-served page, likely
    gone on the next try."""
    return TransientError(_SERVICE, _NOT_JSON.format(status=status), status=status)


def json_object(response: requests.Response) -> dict[str, Any]:
    """The JSON object a 2xx answer carries; TransientError when it carries anything else."""
    try:
        body = response.json()
    except ValueError:
        raise not_json(response.status_code) from None
    if not isinstance(body, dict):
        raise TransientError(
            _SERVICE, f"Zendesk answered HTTP {response.status_code} with JSON that is not an"
            " object", status=response.status_code)
    return body


def export_body(response: requests.Response) -> dict[str, Any]:
    """An export page's JSON; TransientError when it lacks what paging needs."""
    page = json_object(response)
    if not isinstance(page.get("tickets"), list) or not isinstance(
            page.get("end_of_stream"), bool):
        raise TransientError(
            _SERVICE, "Zendesk answered an export page without its tickets or end_of_stream",
            status=response.status_code)
    return page


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
