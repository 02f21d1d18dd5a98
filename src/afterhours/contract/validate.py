"""Validate one recorded exchange (a twin's request and its answer) against the vendor's spec."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.testing import MockRequest, MockResponse
from werkzeug.datastructures import ImmutableMultiDict

from afterhours.contract import allowances
from afterhours.contract.findings import Finding, request_findings, response_findings
from afterhours.contract.specs import Spec
from afterhours.twins._http import Exchange


@dataclass(frozen=True)
class Checked:
    """What the validator made of one exchange."""

    service: str
    endpoint: str  # the spec's operation, "GET /api/v2/tickets/{ticket_id}", or the path sent
    status: int
    in_spec: bool = True  # False for endpoints the spec lacks (allowances.MISSING_FROM_SPEC)
    violations: tuple[Finding, ...] = ()
    allowed: tuple[str, ...] = ()  # keys of the allowances this exchange needed
    request_validated: bool = False
    response_validated: bool = False
    injected: tuple[Finding, ...] = ()  # findings at spots a twin's fault broke on purpose

    @property
    def request_violations(self) -> tuple[Finding, ...]:
        """Violations found in the request."""
        return tuple(f for f in self.violations if f.side == "request")


@dataclass
class _Work:
    service: str
    method: str
    path: str
    allowed: list[str] = field(default_factory=list)


def _mime(headers: dict[str, str]) -> str:
    return headers.get("content-type", "application/json").split(";")[0].strip()


def _payload(body: Any) -> bytes:
    return b"" if body is None else json.dumps(body).encode()


def _endpoint(method: str, path: str) -> str:
    return f"{method.upper()} {path}"


def _undeclared_query(found: Any, query: dict[str, list[str]]) -> list[Finding]:
    # openapi-core ignores query parameters the operation does not declare; a misspelt or
    # unsupported parameter is exactly what a contract check should catch.
    declared = set()
    for owner in (found.operation, found.path):
        for param in owner.get("parameters", []):
            if (param / "in").read_str() == "query":
                declared.add((param / "name").read_str())
    return [Finding("request", f"query.{name}", f"not declared by the spec: {value!r}")
            for name, values in query.items() if name not in declared for value in values]


def check(spec: Spec, exchange: Exchange) -> Checked:
    """Validate `exchange`'s request and response; allowances absorb the listed differences."""
    sent = exchange.request
    work = _Work(spec.service, sent.method, sent.path)
    work.path = allowances.rewrite_path(work.service, work.path, work.allowed)
    missing = allowances.missing_from_spec(work.service, sent.method, work.path)
    if missing is not None:
        return Checked(work.service, _endpoint(sent.method, missing), exchange.response.status,
                       in_spec=False, allowed=tuple(work.allowed))
    url = spec.host_url + work.path
    try:
        found = APICallPathFinder(spec.openapi.spec).find(sent.method.lower(), url)
    except PathError as error:
        finding = Finding("request", "path", str(error))
        return Checked(work.service, _endpoint(sent.method, sent.path), exchange.response.status,
                       violations=(finding,), allowed=tuple(work.allowed))
    endpoint = _endpoint(sent.method, found.path_result.pattern)
    request = MockRequest(
        spec.host_url, sent.method, work.path,
        args=ImmutableMultiDict([(k, v) for k, vs in sent.query.items() for v in vs]),
        headers=sent.headers, data=_payload(sent.body), content_type=_mime(sent.headers),
    )
    findings = list(request_findings(spec.strict.iter_request_errors(request)))
    if "authorization" not in sent.headers:
        # Say plainly that nothing was sent (rather than "no scheme matched").
        findings = [Finding("request", "security", "no credentials sent")
                    if f.where == "security" else f for f in findings]
    findings += _undeclared_query(found, sent.query)
    if sent.body is not None and "requestBody" not in found.operation:
        # openapi-core silently skips a body the operation does not declare; say so.
        findings.append(Finding("request", "body", "the spec declares no request body"))
    answer = exchange.response
    response = MockResponse(
        _payload(answer.body), status_code=answer.status,
        headers=answer.headers, content_type="application/json",
    )
    findings += response_findings(spec.openapi.iter_response_errors(request, response))
    violations, injected = [], []
    for finding in findings:
        if finding.side == "response" and _at_injected_spot(finding, answer.injected):
            injected.append(finding)
            continue
        allowance = allowances.allowance_for(work.service, endpoint, answer.status, finding)
        if allowance is None:
            violations.append(finding)
        else:
            work.allowed.append(allowance.key)
    return Checked(
        work.service, endpoint, answer.status, violations=tuple(violations),
        allowed=tuple(dict.fromkeys(work.allowed)), request_validated=True, response_validated=True,
        injected=tuple(injected),
    )


def _at_injected_spot(finding: Finding, spots: tuple[str, ...]) -> bool:
    """Whether `finding` is about a spot a fault broke on purpose ("body.tickets.0.tags"): at
    it, inside it, or (a field left out) at its parent, naming it."""
    for spot in spots:
        parent, _, name = spot.rpartition(".")
        if finding.where == spot or finding.where.startswith(spot + "."):
            return True
        if finding.where == parent and f"'{name}'" in finding.message:
            return True
    return False
