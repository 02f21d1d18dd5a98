"""Jira's HTTP seam: the jira client connected once, its session paced by the rate budget."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from jira import JIRA
from requests.adapters import HTTPAdapter

from afterhours.budget_gate import BudgetGate
from afterhours.ops.metrics import endpoint_template


class PacedTransport(HTTPAdapter):
    """The jira client's transport: each request waits its turn in the rate budget before it
    goes (RateBudgetError when it must not go now), and each answer's rate-limit headers
    (X-RateLimit-*, Retry-After) feed the budget."""

    def __init__(self, gate: BudgetGate) -> None:
        super().__init__(max_retries=0)  # retries belong to afterhours.retrying alone
        self._gate = gate

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        endpoint = endpoint_template(request.method, request.url)
        self._gate.admit(endpoint)
        response = super().send(request, **kwargs)
        self._gate.answered(endpoint, response.status_code, response.headers)
        return response


def connect(base_url: str, auth: tuple[str, str], *, timeout: float,
            gate: BudgetGate | None, hook: Callable[..., object]) -> JIRA:
    """The jira client for `base_url`, every request of it (serverInfo included) paced by
    `gate` and seen by the response `hook`. Called once per process: the client keeps the
    server's version and deployment type, and its fields, for its whole life."""
    jira = JIRA(
        server=base_url,
        basic_auth=auth,
        options={"check_update": False},
        # The client's session retries POSTs after a dropped connection, which files
        # duplicate issues; afterhours.retrying is the only retry loop.
        max_retries=0,
        timeout=timeout,
        # Read below instead, once the session is paced and counted.
        get_server_info=False,
    )
    try:
        if gate is not None:
            jira._session.mount(base_url, PacedTransport(gate))
        jira._session.hooks["response"].append(hook)
        # What the constructor does with get_server_info=True.
        info = jira.server_info()
        jira._version = tuple(info["versionNumbers"])
        jira.deploymentType = info.get("deploymentType")
    except BaseException:
        jira.close()  # type: ignore[no-untyped-call]  # jira leaves close() unannotated
        raise
    return jira
