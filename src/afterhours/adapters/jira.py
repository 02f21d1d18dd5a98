"""Jira through the jira client: issues created once, linked back to their ticket.

jira objects stay in this module; the rest of afterhours sees `JiraIssueRef` and
`ProjectFacts`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

import requests
import structlog
from jira import JIRA, JIRAError

from afterhours.adapters import jira_bulk
from afterhours.adapters.jira_fields import issue_fields
from afterhours.adapters.jira_http import connect
from afterhours.adapters.jira_search import search_issues
from afterhours.adapters.jira_sync import JiraSync
from afterhours.adapters.ports import ChangedIssue, JoinedIssue, ProjectFacts
from afterhours.adapters.unsent import surely_unsent
from afterhours.breaker import CircuitBreaker, guarded
from afterhours.budget_gate import BudgetGate
from afterhours.domain.actions import (
    CommentOnIssue,
    CreateJiraIssue,
    JoinJiraIssue,
    LabelIssue,
    LinkJiraIssue,
)
from afterhours.domain.model import JiraIssueRef
from afterhours.domain.planner import jira_label
from afterhours.domain.sync_model import IssueActivity
from afterhours.errors import (
    OutcomeUnknownError,
    ServiceError,
    TransientError,
    error_for_status,
)
from afterhours.ops.metrics import Metrics, endpoint_template
from afterhours.retrying import RetryPolicy, call_with_retries, parse_retry_after

T = TypeVar("T")
log = structlog.get_logger()
_SERVICE = "jira"

__all__ = ["JiraIssueTracker", "issue_fields"]


class JiraIssueTracker:
    """The Jira side of afterhours, on the real jira client."""

    def __init__(
        self,
        base_url: str,
        email: str,
        token: str,
        *,
        ticket_namespace: str,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        metrics: Metrics | None = None,
        gate: BudgetGate | None = None,
    ) -> None:
        """`gate`: the rate budget every request to Jira passes."""
        self.base_url = base_url.rstrip("/")
        self._auth = (email, token)
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._breaker = breaker
        # globalId must be unique per ticket across Zendesk accounts sharing one Jira.
        self._namespace = ticket_namespace
        self._jira: JIRA | None = None
        self._metrics = metrics or Metrics()
        self._gate = gate
        self._priorities: frozenset[str] | None = None  # read once per process

    def _client(self) -> JIRA:
        # Connect lazily, once per process: connecting reads serverInfo, and a Jira outage at
        # start-up must not stop triage that does not need Jira.
        if self._jira is None:
            self._jira = connect(self.base_url, self._auth, timeout=self._timeout,
                                 gate=self._gate, hook=self._count)
        return self._jira

    def _count(self, response: requests.Response, *_: Any, **__: Any) -> None:
        """requests' response hook: one exchange for afterhours_api_requests_total."""
        request = response.request
        self._metrics.api_request(_SERVICE, endpoint_template(request.method, request.url),
                                  response.status_code)

    def close(self) -> None:
        """Close the client's HTTP session, if it was ever opened."""
        if self._jira is not None:
            self._jira.close()  # type: ignore[no-untyped-call]  # jira leaves close() unannotated
            self._jira = None

    def _call(self, operation: str, fn: Callable[[JIRA], T], *, once: bool = False) -> T:
        """Run `fn` on the client under the retry policy and Jira's breaker. With `once` (a write
        that must not repeat), one attempt, and a failure that may have reached Jira is
        OutcomeUnknownError."""

        def attempt() -> T:
            try:
                return fn(self._client())
            except JIRAError as error:
                headers = error.response.headers if error.response is not None else {}
                mapped = error_for_status(
                    _SERVICE, error.status_code, str(error.text),
                    retry_after=parse_retry_after(headers.get("Retry-After")),
                )
                if once and isinstance(mapped, TransientError) and error.status_code != 429:
                    # A 5xx may come after the issue was stored; only a 429 surely was not.
                    raise OutcomeUnknownError(_SERVICE, str(mapped),
                                              status=error.status_code) from error
                raise mapped from error
            except requests.RequestException as error:
                # Connection, timeout, a body cut short, HTML where JSON was due (a proxy's
                # error page): worth another try, unless the write may have been acted on.
                message = f"{type(error).__name__}: {error}"
                if isinstance(error, requests.ConnectionError | requests.Timeout):  # no answer
                    self._metrics.api_request(_SERVICE, endpoint_template(
                        getattr(error.request, "method", None),
                        getattr(error.request, "url", None)), None)
                if once and not surely_unsent(error):
                    raise OutcomeUnknownError(_SERVICE, message) from error
                raise TransientError(_SERVICE, message) from error

        # Every attempt goes through Jira's breaker: once open, none reaches the network.
        through_breaker = guarded(self._breaker, attempt)
        if once:
            return through_breaker()
        return call_with_retries(self._retry, f"jira.{operation}", through_breaker)

    def issue_url(self, key: str) -> str:
        """Where an engineer opens the issue."""
        return f"{self.base_url}/browse/{key}"

    def find_issue(self, ticket_id: int) -> JiraIssueRef | None:
        """The issue already filed for a ticket, found by its label (as far as search sees)."""

        def find(jira: JIRA) -> JiraIssueRef | None:
            jql = f'labels = "{jira_label(ticket_id)}" ORDER BY created ASC'
            found = search_issues(jira, jql, "summary", limit=1)
            key = str(found[0]["key"]) if found else None
            return None if key is None else JiraIssueRef(key, self.issue_url(key))

        return self._call("find_issue", find)

    def create_issue(self, action: CreateJiraIssue) -> JiraIssueRef:
        """File the issue: one attempt, never retried here.

        A failure that may have reached Jira (a lost answer, a 5xx) raises OutcomeUnknownError:
        the issue may exist, and search may not show it for a while, so the service looks it up
        before filing again (see afterhours.reconcile). Others raise as usual.
        """
        def create(jira: JIRA) -> JiraIssueRef:
            version, fields = issue_fields(action, cloud=jira.deploymentType == "Cloud")
            # Posted on the client's session rather than with jira.create_issue, which speaks
            # v2 only and puts the whole request, the customer's text with it, into the
            # message of the error it raises when an answer has no key.
            url = f"{jira.server_url}/rest/api/{version}/issue"
            answer = jira._session.post(url, data=json.dumps({"fields": fields}))
            body = answer.json() if answer.content else None
            key = body.get("key") if isinstance(body, dict) else None
            if not isinstance(key, str) or not key:
                raise OutcomeUnknownError(
                    _SERVICE, f"the create answer (HTTP {answer.status_code}) names no issue key")
            return JiraIssueRef(key, self.issue_url(key))

        # Once: the caller stamps the attempt just before this call, and Jira's search lag is
        # counted from that stamp; a retry landing later would slip past the wait.
        return self._call("create_issue", create, once=True)

    def find_issues(self, ticket_ids: Sequence[int]) -> dict[int, JiraIssueRef]:
        """The issues filed for these tickets that search shows yet, by one search per 50
        tickets (`labels in (...)`), the oldest for each ticket as with find_issue."""
        return jira_bulk.find_issues(self._call, self.issue_url, ticket_ids)

    def create_issues(
        self, actions: Sequence[CreateJiraIssue]
    ) -> list[JiraIssueRef | ServiceError]:
        """File each issue once, by bulk create (50 a request): per element the issue or Jira's
        refusal of it; a lost answer or a 5xx leaves every element of its request unknown."""
        return jira_bulk.create_issues(self._call, self.issue_url, actions)

    def link_issue(self, action: LinkJiraIssue) -> None:
        """Upsert the remote link to the ticket; the stable globalId makes repeats harmless."""
        payload = {
            "globalId": f"zendesk:{self._namespace}:ticket:{action.ticket_id}",
            "application": {"type": "com.zendesk", "name": "Zendesk"},
            "relationship": "Zendesk ticket",
            "object": {"url": action.ticket_url, "title": action.title},
        }

        def post(j: JIRA) -> None:
            # add_remote_link first lists application links (admin-only: a bot gets 401, a
            # warning and a wasted request); add_simple_link cannot carry the globalId that
            # makes the link an upsert. So: the client's own session, one POST.
            url = j._get_url(f"issue/{action.issue_key}/remotelink")
            j._session.post(url, data=json.dumps(payload))

        self._call("link_issue", post)

    def project_facts(self, key: str) -> ProjectFacts | None:
        """The project's name, issue types and components; None when Jira knows no such
        project (or does not let the bot see it: Jira answers both with 404)."""

        def read(jira: JIRA) -> ProjectFacts | None:
            try:
                raw: dict[str, Any] = jira.project(key).raw
            except JIRAError as error:
                if error.status_code == 404:
                    return None
                raise
            return ProjectFacts(
                key=str(raw["key"]),
                name=str(raw.get("name", "")),
                issue_types=frozenset(str(t["name"]) for t in raw.get("issueTypes") or ()),
                components=frozenset(str(c["name"]) for c in raw.get("components") or ()),
            )

        return self._call("project_facts", read)

    def priority_names(self) -> frozenset[str]:
        """The names of the priorities defined on the site (read once per process)."""
        if self._priorities is None:
            self._priorities = self._call(
                "priority_names", lambda jira: frozenset(str(p.name) for p in jira.priorities()))
        return self._priorities

    # -- sync-back (adapters/jira_sync.py) ---------------------------------------------------

    _sync_calls: JiraSync | None = None

    def _sync(self) -> JiraSync:
        if self._sync_calls is None:
            self._sync_calls = JiraSync(self._call, self.issue_url)
        return self._sync_calls

    def changed_issues(self, projects: Sequence[str], window: timedelta) -> list[ChangedIssue]:
        """The issues of `projects` updated within `window` (see the port)."""
        return self._sync().changed_issues(projects, window)

    def issue_activity(self, issue_key: str) -> IssueActivity | None:
        """The issue now, with its changelog and comments (see the port)."""
        return self._sync().issue_activity(issue_key)

    def comment_on_issue(self, action: CommentOnIssue) -> None:
        """Leave the comment, once (see the port)."""
        self._sync().comment_on_issue(action)

    def has_issue_comment(self, issue_key: str, marker: str) -> bool:
        """Whether a comment on the issue contains `marker` (see the port)."""
        return self._sync().has_issue_comment(issue_key, marker)

    def label_issue(self, action: LabelIssue) -> None:
        """Add the labels (see the port)."""
        self._sync().label_issue(action)

    def join_issue(self, action: JoinJiraIssue) -> JoinedIssue:
        """Label the issue for the ticket and count its customers (see the port)."""
        return self._sync().join_issue(action)

    def leave_issue(self, action: JoinJiraIssue) -> JoinedIssue:
        """Take the ticket's label off the issue and count again (see the port)."""
        return self._sync().join_issue(action, leave=True)
