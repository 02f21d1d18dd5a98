"""Jira's batched calls behind `IssueTracker.find_issues` and `create_issues`: one JQL search
for many tickets' labels, and bulk create (50 issues a request, one result per element),
each through the tracker's call (its retries, breaker and error mapping).

jira objects stay here and in jira.py; the rest of afterhours sees `JiraIssueRef`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from jira import JIRA, JIRAError

from afterhours.adapters.jira_fields import issue_fields
from afterhours.adapters.jira_search import search_issues
from afterhours.domain.actions import CreateJiraIssue
from afterhours.domain.model import JiraIssueRef
from afterhours.domain.planner import jira_label
from afterhours.errors import OutcomeUnknownError, PermanentError, ServiceError

T = TypeVar("T")
Call = Callable[..., Any]  # JiraIssueTracker._call: (operation, fn, *, once=False) -> T
# Labels per search: "zendesk-<id>" quoted is about 20 characters, so a query stays near 1 KB
# in the URL, and its matches (one issue a ticket, as a rule) fit one page of 100.
MAX_LABELS = 50
MAX_CREATES = 50  # Jira's limit for one bulk create
_SERVICE = "jira"


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """`items` in slices of at most `size`, in order."""
    return [items[start:start + size] for start in range(0, len(items), size)]


def labels_query(ticket_ids: Iterable[int]) -> str:
    """The JQL finding the issues filed for these tickets, oldest first (as find_issue)."""
    labels = ", ".join(f'"{jira_label(ticket_id)}"' for ticket_id in ticket_ids)
    return f"labels in ({labels}) ORDER BY created ASC"


def first_by_ticket(found: Iterable[tuple[str, Sequence[object]]],
                    ticket_ids: Iterable[int]) -> dict[int, str]:
    """The key of the first issue (`found`: key and labels, oldest first) carrying each
    ticket's label: the one that counts when a lost answer left a duplicate."""
    wanted = {jira_label(ticket_id): ticket_id for ticket_id in ticket_ids}
    keys: dict[int, str] = {}
    for key, labels in found:
        for label in labels:
            if isinstance(label, str) and label in wanted:
                keys.setdefault(wanted[label], key)
    return keys


def post_bulk(jira: JIRA, version: str, updates: list[dict[str, Any]]) -> tuple[int, Any]:
    """POST the issue updates to bulk create on REST `version`; the status and body of the
    answer. A 400 is an answer too: none was created, and its body says why for each."""
    url = f"{jira.server_url}/rest/api/{version}/issue/bulk"
    try:
        # The client's session, not jira.create_issues: that one speaks v2 only, and reads
        # every created issue again (a request each).
        answer = jira._session.post(url, data=json.dumps({"issueUpdates": updates}))
    except JIRAError as error:
        body = _json(error.response.text) if error.response is not None else None
        if error.status_code == 400 and isinstance(body, dict) and isinstance(
                body.get("errors"), list):
            return 400, body
        raise
    return answer.status_code, answer.json()


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def element_error(error: Mapping[str, Any]) -> PermanentError:
    """Jira's refusal of one element, in its words."""
    collection = error.get("elementErrors")
    said: list[str] = []
    if isinstance(collection, Mapping):
        said += [str(m) for m in collection.get("errorMessages") or () if m]
        fields = collection.get("errors")
        if isinstance(fields, Mapping):
            said += [str(m) for m in fields.values() if m]
    status = error.get("status")
    return PermanentError(_SERVICE, (", ".join(said) or "refused without a reason")[:500],
                          status=status if isinstance(status, int) else 400)


def bulk_results(status: int, body: Any, count: int,
                 issue_url: Callable[[str], str]) -> list[JiraIssueRef | ServiceError]:
    """One result per element of a bulk create answer: the issue filed, or why not. The
    issues come in the order of the elements that were not refused; an answer that does not
    add up leaves those elements' outcomes unknown (reconcile finds them by label)."""
    issues = body.get("issues") if isinstance(body, Mapping) else None
    errors = body.get("errors") if isinstance(body, Mapping) else None
    if not isinstance(issues, list) or not isinstance(errors, list):
        unknown = OutcomeUnknownError(
            _SERVICE, f"the bulk create answer (HTTP {status}) lists no issues and errors")
        return [unknown] * count
    refused: dict[int, PermanentError] = {}
    general: PermanentError | None = None
    for error in errors:
        if not isinstance(error, Mapping):
            continue
        number = error.get("failedElementNumber")
        if isinstance(number, int) and 0 <= number < count:
            refused.setdefault(number, element_error(error))
        else:
            general = element_error(error)  # the request refused as a whole
    keys = [issue.get("key") if isinstance(issue, Mapping) else None for issue in issues]
    filed = [n for n in range(count) if n not in refused]
    if status == 400 and not issues:  # none was filed
        reason = general or PermanentError(_SERVICE, "refused with the others (HTTP 400)",
                                           status=400)
        return [refused.get(n, reason) for n in range(count)]
    if len(keys) != len(filed) or not all(isinstance(k, str) and k for k in keys):
        unknown = OutcomeUnknownError(_SERVICE, (
            f"the bulk create answer (HTTP {status}) names {len(keys)} issue(s) for"
            f" {len(filed)} element(s) not refused"))
        return [refused.get(n, unknown) for n in range(count)]
    created = iter(keys)
    results: list[JiraIssueRef | ServiceError] = []
    for number in range(count):
        if number in refused:
            results.append(refused[number])
        else:
            key = str(next(created))
            results.append(JiraIssueRef(key, issue_url(key)))
    return results


def find_issues(call: Call, issue_url: Callable[[str], str],
                ticket_ids: Sequence[int]) -> dict[int, JiraIssueRef]:
    """JiraIssueTracker.find_issues through its `call`: one search per 50 tickets, the
    oldest issue for each ticket."""
    found: dict[int, JiraIssueRef] = {}
    for chunk in chunks(list(dict.fromkeys(ticket_ids)), MAX_LABELS):
        keys = first_by_ticket(call("find_issues", _labelled(chunk)), chunk)
        found |= {ticket: JiraIssueRef(key, issue_url(key))
                  for ticket, key in keys.items()}
    return found


def _labelled(ticket_ids: Sequence[int]) -> Callable[[JIRA], list[tuple[str, Any]]]:
    def search(jira: JIRA) -> list[tuple[str, Any]]:
        # Every page, should duplicates fill more than one.
        found = search_issues(jira, labels_query(ticket_ids), "labels,summary")
        return [(str(i["key"]), (i.get("fields") or {}).get("labels") or ())
                for i in found]

    return search


def create_issues(call: Call, issue_url: Callable[[str], str],
                  actions: Sequence[CreateJiraIssue]) -> list[JiraIssueRef | ServiceError]:
    """JiraIssueTracker.create_issues through its `call`: 50 issues a request, one result
    per element."""
    results: list[JiraIssueRef | ServiceError] = []
    for chunk in chunks(actions, MAX_CREATES):
        results += _create_in_bulk(call, issue_url, chunk)
    return results


def _create_in_bulk(call: Call, issue_url: Callable[[str], str],
                    actions: Sequence[CreateJiraIssue]) -> list[JiraIssueRef | ServiceError]:
    def create(jira: JIRA) -> tuple[int, Any]:
        filed = [issue_fields(action, cloud=jira.deploymentType == "Cloud")
                 for action in actions]
        return post_bulk(jira, filed[0][0], [{"fields": fields} for _, fields in filed])

    try:
        # Once, as create_issue: a retry after a lost answer would file them all again.
        status, body = call("create_issues", create, once=True)
    except ServiceError as error:
        return [error] * len(actions)
    return bulk_results(status, body, len(actions), issue_url)
