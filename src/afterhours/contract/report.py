"""Tally what the validator checked over a test session, and print it as the contract report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from afterhours.contract import allowances
from afterhours.contract.validate import Checked

# What the daemon itself calls (adapters/zendesk*.py, adapters/jira.py and the jira client's
# connect), in the specs' spelling: the report says whether the session validated each.
AFTERHOURS_ENDPOINTS = (
    ("zendesk", "GET /api/v2/incremental/tickets/cursor"),
    ("zendesk", "GET /api/v2/groups"),
    ("zendesk", "GET /api/v2/tickets/{ticket_id}"),
    ("zendesk", "PUT /api/v2/tickets/{ticket_id}"),
    ("zendesk", "GET /api/v2/tickets/{ticket_id}/comments"),
    ("zendesk", "GET /api/v2/ticket_fields"),
    ("zendesk", "GET /api/v2/users/search"),
    ("zendesk", "GET /api/v2/users/{user_id}"),
    # The batched reads and writes (adapters/zendesk_batch.py, jira_bulk.py).
    ("zendesk", "GET /api/v2/tickets/show_many"),
    ("zendesk", "PUT /api/v2/tickets/update_many"),
    ("zendesk", "GET /api/v2/job_statuses/{job_status_id}"),
    ("zendesk", "GET /api/v2/job_statuses/show_many"),
    ("jira", "GET /rest/api/3/serverInfo"),
    ("jira", "GET /rest/api/3/search/jql"),
    ("jira", "GET /rest/api/3/search"),  # on Data Center, spelt /rest/api/2/search
    ("jira", "POST /rest/api/3/issue"),
    ("jira", "POST /rest/api/3/issue/bulk"),
    ("jira", "POST /rest/api/3/issue/{issueIdOrKey}/remotelink"),
    # Sync-back (adapters/jira_sync.py): an issue's activity, afterhours' own account, the
    # comments and labels it leaves.
    ("jira", "GET /rest/api/3/myself"),
    ("jira", "GET /rest/api/3/issue/{issueIdOrKey}"),
    ("jira", "POST /rest/api/3/issue/{issueIdOrKey}/comment"),
    ("jira", "PUT /rest/api/3/issue/{issueIdOrKey}"),
    # check --live (afterhours.inspect.live) reads these to check the policy's Jira names.
    ("jira", "GET /rest/api/3/project/{projectIdOrKey}"),
    ("jira", "GET /rest/api/3/priority"),
)
# Allowances whose every use the report lists, with the test that needed it.
LISTED = frozenset({"invalid-request-refused", "test-probe-without-credentials"})


@dataclass(frozen=True)
class Violation:
    """A finding no allowance covers, with the test that produced it."""

    test: str
    service: str
    endpoint: str
    status: int
    text: str

    def __str__(self) -> str:
        return f"{self.service} {self.endpoint} -> {self.status}: {self.text}"


@dataclass
class Tally:
    """Counts per endpoint of validated requests and responses, allowances and violations."""

    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    responses: Counter[tuple[str, str]] = field(default_factory=Counter)
    not_in_spec: Counter[tuple[str, str]] = field(default_factory=Counter)
    allowances: Counter[str] = field(default_factory=Counter)
    violations: list[Violation] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)
    injected: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, test: str, checked: Checked) -> list[Violation]:
        """Count `checked`; return its violations (also kept in `violations`)."""
        key = (checked.service, checked.endpoint)
        if not checked.in_spec:
            self.not_in_spec[key] += 1
        if checked.request_validated:
            self.requests[key] += 1
        if checked.response_validated:
            self.responses[key] += 1
        self.allowances.update(checked.allowed)
        self.injected[key] += len(checked.injected)
        self.listed += [f"{key}: {test}: {checked.service} {checked.endpoint} -> {checked.status}"
                        for key in checked.allowed if key in LISTED]
        found = [Violation(test, checked.service, checked.endpoint, checked.status, str(f))
                 for f in checked.violations]
        self.violations += found
        return found

    def lines(self) -> list[str]:
        """The report, one line each."""
        out = ["requests / responses validated per endpoint:"]
        endpoints = sorted(set(self.requests) | set(self.responses))
        width = max((len(f"{s} {e}") for s, e in endpoints), default=20)
        for service, endpoint in endpoints:
            label = f"{service} {endpoint}"
            out.append(f"  {label:<{width}}  {self.requests[service, endpoint]:>5} "
                       f"{self.responses[service, endpoint]:>5}")
        unchecked = [f"{s} {e}" for s, e in AFTERHOURS_ENDPOINTS if not self.requests[s, e]]
        out.append(f"endpoints afterhours uses: {len(AFTERHOURS_ENDPOINTS)}, validated: "
                   f"{len(AFTERHOURS_ENDPOINTS) - len(unchecked)}"
                   + (f"; NOT exercised this session: {', '.join(unchecked)}" if unchecked else ""))
        if self.not_in_spec:
            out.append("endpoints missing from the spec (listed, not validated):")
            for (service, endpoint), count in sorted(self.not_in_spec.items()):
                reason = allowances.MISSING_FROM_SPEC[
                    (service, *endpoint.split(" ", 1))]  # type: ignore[index]
                out.append(f"  {service} {endpoint}: {count} ({reason})")
        out.append("allowances used:")
        for key in allowances.allowance_keys():
            out.append(f"  {key:<40} {self.allowances[key]:>6}")
        out += [f"  - {line}" for line in self.listed]
        injected = {key: n for key, n in self.injected.items() if n}
        if injected:
            # A ticket served malformed on purpose (ZendeskTwin.corrupt_ticket): only the
            # broken fields are let through; the rest of the answer is validated as ever.
            out.append("findings at faults injected on purpose (not violations):")
            out += [f"  {service} {endpoint}: {n}"
                    for (service, endpoint), n in sorted(injected.items())]
        out.append(f"violations: {len(self.violations)}")
        out += [f"  {v.test}: {v}" for v in self.violations]
        return out
