"""Jira for sync-back, through the jira client's session: the poll, an issue's activity, and
the comments and labels afterhours leaves. jira objects and JSON stay here; the rest sees
`ChangedIssue` and `IssueActivity`.

Jira Cloud takes comments in ADF on REST v3; Data Center in wiki markup on v2 (see
domain.comment_text). Everything is read on v2, where a comment's body is text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import structlog
from jira import JIRA, JIRAError

from afterhours.adapters.comments import contains_text
from afterhours.adapters.jira_search import search_issues
from afterhours.adapters.jira_users import author_id, is_cloud, own_author_id
from afterhours.adapters.ports import ChangedIssue, JoinedIssue
from afterhours.domain.actions import CommentOnIssue, JoinJiraIssue, LabelIssue
from afterhours.domain.comment_text import as_adf, as_wiki, plain_marker
from afterhours.domain.jira_names import CUSTOMERS_PREFIX, is_ticket_label
from afterhours.domain.join_refusals import join_refusal
from afterhours.domain.model import JiraIssueRef
from afterhours.domain.sync_model import (
    ChangedField,
    IssueActivity,
    IssueChange,
    IssueComment,
    IssueState,
)
from afterhours.errors import JoinRefusedError

T = TypeVar("T")
log = structlog.get_logger()
Call = Callable[..., Any]  # JiraIssueTracker._call: (operation, fn, *, once=False) -> T
PAGE = 100  # a page of changelog histories, of comments
ACTIVITY_FIELDS = "status,resolution,fixVersions,assignee,labels,updated,comment"
JIRA_TIME = "%Y-%m-%dT%H:%M:%S.%f%z"


def _created(value: object) -> datetime | None:
    """An issue's creation time, or None when Jira's answer has none readable: it only
    spares a read (an issue untouched since it was filed), so a bad one costs a read."""
    if not isinstance(value, str):
        return None
    try:
        return jira_time(value)
    except ValueError:
        return None


def jira_time(value: object) -> datetime:
    """A Jira timestamp (2026-11-20T18:00:00.000+0000) as an aware datetime."""
    return datetime.strptime(str(value), JIRA_TIME)


def poll_query(projects: Sequence[str], window: timedelta) -> str:
    """The bounded JQL of a poll: the projects, updated within `window` (whole minutes, at
    least one: JQL's relative dates count on Jira's own clock), oldest change first."""
    minutes = max(1, math.ceil(window.total_seconds() / 60))
    quoted = ", ".join(json.dumps(p) for p in projects)
    return f'project in ({quoted}) AND updated >= "-{minutes}m" ORDER BY updated ASC, key ASC'


def _name(value: Any, field: str = "name") -> str | None:
    return str(value[field]) if isinstance(value, dict) and value.get(field) else None


class JiraSync:
    """The sync-back calls of one JiraIssueTracker (its `_call`, so its retries, breaker and
    budget), knowing afterhours' own account once it has asked."""

    def __init__(self, call: Call, issue_url: Callable[[str], str]) -> None:
        self._call = call
        self._issue_url = issue_url
        self._me: str | None = None  # afterhours' author id (see jira_users), read once

    def _own_account(self, jira: JIRA) -> str:
        if self._me is None:
            self._me = own_author_id(jira)
        return self._me

    def changed_issues(self, projects: Sequence[str], window: timedelta) -> list[ChangedIssue]:
        """See the port: every page of the poll."""
        jql = poll_query(projects, window)

        def search(jira: JIRA) -> list[ChangedIssue]:
            found: list[ChangedIssue] = []
            for raw in search_issues(jira, jql, "labels,updated,created"):
                fields = raw.get("fields") or {}
                try:
                    updated = jira_time(fields["updated"])
                except (KeyError, ValueError):
                    # Nothing to tell its news from: loud, and the next poll looks again.
                    log.warning("sync.issue_unreadable", issue_key=str(raw.get("key")),
                                reason="no readable updated time")
                    continue
                found.append(ChangedIssue(
                    str(raw["key"]), updated,
                    tuple(str(x) for x in fields.get("labels") or ()),
                    _created(fields.get("created"))))
            return found

        result: list[ChangedIssue] = self._call("changed_issues", search)
        return result

    def issue_activity(self, issue_key: str) -> IssueActivity | None:
        """See the port."""

        def read(jira: JIRA) -> IssueActivity | None:
            try:
                raw = jira._get_json(f"issue/{issue_key}", params={
                    "fields": ACTIVITY_FIELDS, "expand": "changelog"})
            except JIRAError as error:
                if error.status_code == 404:
                    return None
                raise
            me, cloud = self._own_account(jira), is_cloud(jira)
            histories = _all_histories(jira, issue_key, raw.get("changelog") or {})
            comments = _all_comments(jira, issue_key, raw["fields"].get("comment") or {})
            return IssueActivity(
                self._state(raw),
                tuple(sorted((_change(h, me, cloud) for h in histories),
                             key=lambda c: (c.at, int(c.history_id)))),
                tuple(sorted((_comment(c, me, cloud) for c in comments),
                             key=lambda c: (c.at, int(c.comment_id)))))

        result: IssueActivity | None = self._call("issue_activity", read)
        return result

    def _state(self, raw: dict[str, Any]) -> IssueState:
        fields = raw["fields"]
        key = str(raw["key"])
        return IssueState(
            key=key, url=self._issue_url(key), status=_name(fields.get("status")) or "",
            resolution=_name(fields.get("resolution")),
            fix_versions=tuple(v["name"] for v in fields.get("fixVersions") or ()),
            assignee=_name(fields.get("assignee"), "displayName"),
            labels=tuple(str(x) for x in fields.get("labels") or ()),
            updated=jira_time(fields["updated"]))

    def comment_on_issue(self, action: CommentOnIssue) -> None:
        """See the port: v3 with ADF on Cloud, v2 with wiki markup elsewhere; one attempt."""

        def post(jira: JIRA) -> None:
            cloud = jira.deploymentType == "Cloud"
            body = as_adf(action.body) if cloud else as_wiki(action.body)
            url = f"{jira.server_url}/rest/api/{'3' if cloud else '2'}/issue/" \
                  f"{action.issue_key}/comment"
            jira._session.post(url, data=json.dumps({"body": body}))

        self._call("comment_on_issue", post, once=True)

    def has_issue_comment(self, issue_key: str, marker: str) -> bool:
        """See the port."""

        def search(jira: JIRA) -> bool:
            comments = _fetch_comments(jira, issue_key)
            return any(contains_text(plain_marker(c.get("body")), marker) for c in comments)

        found: bool = self._call("has_issue_comment", search)
        return found

    def label_issue(self, action: LabelIssue) -> None:
        """See the port: an edit that adds the labels, which Jira keeps once each."""
        update = {"labels": [{"add": label} for label in action.labels]}

        def put(jira: JIRA) -> None:
            jira._session.put(jira._get_url(f"issue/{action.issue_key}"),
                              data=json.dumps({"update": update}))

        self._call("label_issue", put)

    def join_issue(self, action: JoinJiraIssue, *, leave: bool = False) -> JoinedIssue:
        """See the port (`leave`: its leave_issue): read the labels, then one edit adding
        (or taking off) the ticket's label and setting the new count, taking off the old
        one, so a repeat converges on the same labels. A join the issue no longer takes
        (Done, moved out of `action.projects`) is JoinRefusedError, unless the ticket's
        label is on it already (an earlier attempt landed: it joined)."""
        key = action.issue_key

        def join(jira: JIRA) -> int:
            nonlocal key
            raw = jira._get_json(f"issue/{action.issue_key}",
                                 params={"fields": "labels,status,project"})
            labels = {str(x) for x in raw["fields"].get("labels") or ()}
            key = str(raw.get("key") or action.issue_key)  # a moved issue's new key
            if not leave and action.label not in labels:
                _refuse_unjoinable(action, key, raw["fields"])
            labels = labels - {action.label} if leave else labels | {action.label}
            count = sum(1 for label in labels if is_ticket_label(label))
            wanted = f"{CUSTOMERS_PREFIX}{count}" if count else None
            update = [{"remove" if leave else "add": action.label}]
            update += [{"add": wanted}] if wanted else []
            update += [{"remove": label} for label in sorted(labels)
                       if label.startswith(CUSTOMERS_PREFIX) and label != wanted]
            jira._session.put(jira._get_url(f"issue/{action.issue_key}"),
                              data=json.dumps({"update": {"labels": update}}))
            return count

        count: int = self._call("leave_issue" if leave else "join_issue", join)
        return JoinedIssue(JiraIssueRef(key, self._issue_url(key)), count)


def _refuse_unjoinable(action: JoinJiraIssue, key: str, fields: dict[str, Any]) -> None:
    """Raise JoinRefusedError when the issue, as `fields` show it, takes no join now."""
    category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key")
    project = str((fields.get("project") or {}).get("key") or key.rpartition("-")[0])
    refusal = join_refusal(action, key, project, done=category == "done")
    if refusal is not None:
        raise JoinRefusedError("jira", refusal)


def _all_histories(jira: JIRA, key: str, page: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's whole changelog: the expanded page, or (when Jira cut it) every page of
    GET .../changelog."""
    histories = list(page.get("histories") or [])
    if int(page.get("total") or 0) <= len(histories):
        return histories
    found: list[dict[str, Any]] = []
    while True:
        more = jira._get_json(f"issue/{key}/changelog",
                              params={"startAt": len(found), "maxResults": PAGE})
        found += more.get("values") or []
        if more.get("isLast", True) or not more.get("values"):
            return found


def _all_comments(jira: JIRA, key: str, page: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's comments: the page the issue carried, or (when Jira cut it) all."""
    comments = list(page.get("comments") or [])
    if int(page.get("total") or 0) <= len(comments):
        return comments
    return _fetch_comments(jira, key)


def _fetch_comments(jira: JIRA, key: str) -> list[dict[str, Any]]:
    """Every page of GET .../comment."""
    found: list[dict[str, Any]] = []
    while True:
        more = jira._get_json(f"issue/{key}/comment",
                              params={"startAt": len(found), "maxResults": PAGE})
        batch = more.get("comments") or []
        found += batch
        if not batch or len(found) >= int(more.get("total") or 0):
            return found


def _change(history: dict[str, Any], me: str, cloud: bool) -> IssueChange:
    author = history.get("author") or {}
    return IssueChange(
        history_id=str(history["id"]), at=jira_time(history["created"]),
        author=str(author.get("displayName") or "someone"),
        by_afterhours=author_id(author, cloud=cloud) == me,
        fields=tuple(ChangedField(str(i.get("fieldId") or i.get("field")), i.get("fromString"),
                                  i.get("toString")) for i in history.get("items") or ()))


def _comment(comment: dict[str, Any], me: str, cloud: bool) -> IssueComment:
    author = comment.get("author") or {}
    shown = comment.get("visibility")
    body = comment.get("body")
    return IssueComment(
        comment_id=str(comment["id"]), at=jira_time(comment["created"]),
        author=str(author.get("displayName") or "someone"),
        by_afterhours=author_id(author, cloud=cloud) == me,
        body=body if isinstance(body, str) else json.dumps(body, ensure_ascii=False),
        visibility=f"{shown['type']}:{shown['value']}" if isinstance(shown, dict) and
        shown.get("type") and shown.get("value") else None)
