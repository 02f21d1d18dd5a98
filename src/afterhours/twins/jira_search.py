"""Search for the Jira twin: validation, ordering, paging, field selection. Cloud's enhanced
search (`search/jql`) pages by token; Data Center's `search` by startAt against a total.

Jira Cloud answers from an eventually consistent index; the twin's caller
passes in, per issue, the version search can see (see `JiraTwin`), and this
module only decides which of those match and how they are paged.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from afterhours.twins import jira_jql
from afterhours.twins import jira_jql_eval as jql_eval
from afterhours.twins.jira_shapes import STATUSES, error

DEFAULT_MAX_RESULTS = 50
# Cloud pages up to 5000 bare ids but shrinks pages when full issues are asked for;
# the twin settles on 100 for those so clients cannot rely on big pages.
MAX_PAGE_IDS, MAX_PAGE_FIELDS = 5000, 100
MAX_RECONCILE = 50
# Data Center's cap on a page (jira.search.views.default.max), full issues or not.
MAX_PAGE_DATA_CENTER = 1000
DATA_CENTER_EXPAND = "schema,names"
ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


@dataclass(frozen=True)
class Known:
    """What exists, so the query can be refused the way Jira refuses unknown values."""

    projects: set[str]  # keys, ids and names, case-folded
    keys: set[str]  # issue keys and ids, case-folded
    issue_types: set[str]  # names and ids, case-folded
    priorities: set[str]  # names and ids, case-folded


def select_fields(issue: dict[str, Any], requested: Sequence[str] | None,
                  *, default_all: bool) -> dict[str, Any]:
    """Apply Jira's `fields` parameter ("*all", "*navigable", names, "-name") to an issue."""
    names = [n.strip() for item in (requested or []) for n in item.split(",") if n.strip()]
    if not names:
        names = ["*all"] if default_all else ["id"]
    every = set(issue["fields"])
    chosen: set[str] = set()
    for name in names:
        if name in ("*all", "*navigable"):
            chosen |= every
        elif not name.startswith("-"):
            chosen.add(name)
    chosen -= {n[1:] for n in names if n.startswith("-")}
    chosen &= every
    if names == ["id"]:
        # Cloud's search answers bare ids when no fields are asked for.
        return {"id": issue["id"]}
    out = {k: v for k, v in issue.items() if k != "fields"}
    out["expand"] = ISSUE_EXPAND
    out["fields"] = {k: v for k, v in issue["fields"].items() if k in chosen}
    return out


def _check_values(query: jira_jql.Query, known: Known) -> None:
    for clause in jql_eval.clauses(query.where):
        jql_eval.check_field(clause)
        if clause.value is None:
            continue
        name = jql_eval.canonical(clause.field)
        values = clause.value if isinstance(clause.value, tuple) else (clause.value,)
        for value in values:
            folded = value.casefold()
            if name in ("created", "updated"):
                jql_eval.parse_date(value, datetime.now(UTC), clause.field)
            if name == "key" and folded not in known.keys:
                raise error(400, [f"An issue with key '{value}' does not exist for field 'key'."])
            pools: dict[str, Iterable[str]] = {
                "project": known.projects, "issuetype": known.issue_types,
                "status": [n.casefold() for n in STATUSES] + [s[0] for s in STATUSES.values()],
                "statuscategory": [v for s in STATUSES.values() for v in (s[2], s[3].casefold(),
                                                                           str(s[1]))],
                "priority": known.priorities,
            }
            if name in pools and folded not in pools[name]:
                raise error(400, [f"The value '{value}' does not exist for the field "
                                  f"'{clause.field}'."])


def _sort_key(field: str) -> Callable[[dict[str, Any]], Any]:
    name = jql_eval.canonical(field)
    readers: dict[str, Callable[[dict[str, Any]], Any]] = {
        "created": lambda i: i["fields"]["created"],
        "updated": lambda i: i["fields"]["updated"],
        "key": lambda i: (i["key"].rsplit("-", 1)[0], int(i["key"].rsplit("-", 1)[1])),
        "summary": lambda i: (i["fields"].get("summary") or "").casefold(),
        # Jira ranks priorities by their scheme order: Highest sorts last ascending.
        "priority": lambda i: -int(i["fields"]["priority"]["id"]),
        "status": lambda i: i["fields"]["status"]["name"],
    }
    if name not in readers:
        raise error(400, [f"Not able to sort using field '{field}'."])
    return readers[name]


def _token(offset: int, query_text: str) -> str:
    raw = f"{offset}:{zlib.crc32(query_text.encode())}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _offset(token: str | None, query_text: str) -> int:
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        offset, crc = raw.split(":")
        if int(crc) == zlib.crc32(query_text.encode()) and int(offset) >= 0:
            return int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        pass
    raise error(400, ["The provided next page token is invalid or expired."])


def parse_query(text: str | None, known: Known, *, bounded: bool = True) -> jira_jql.Query:
    """Parse and validate `text`, refusing what Cloud's search/jql refuses (with `bounded`
    False, as Data Center's search, a query without restriction too is fine)."""
    try:
        query = jira_jql.parse(text or "")
    except jira_jql.JqlError as exc:
        raise error(400, [str(exc)]) from None
    if bounded and query.where is None:
        # Cloud's enhanced search refuses queries that would scan every issue.
        raise error(400, ["Unbounded JQL queries are not allowed here. Please add a search "
                          "restriction to your query."])
    try:
        _check_values(query, known)
    except jira_jql.JqlError as exc:
        raise error(400, [str(exc)]) from None
    return query


def ordered(query: jira_jql.Query, views: list[dict[str, Any]],
            now: datetime) -> list[dict[str, Any]]:
    """The `views` the query matches, in its ORDER BY (creation order otherwise)."""
    try:
        hits = [v for v in views if query.where is None or jql_eval.matches(query.where, v, now)]
    except jira_jql.JqlError as exc:
        raise error(400, [str(exc)]) from None
    for field, descending in reversed(query.order):
        hits.sort(key=_sort_key(field), reverse=descending)
    return hits


def run(query_text: str, query: jira_jql.Query, views: list[dict[str, Any]], now: datetime, *,
        max_results: int, fields: Sequence[str] | None, token: str | None) -> dict[str, Any]:
    """Filter `views` (one per issue, oldest first), order them and cut one page."""
    hits = ordered(query, views, now)
    names = [n for item in (fields or []) for n in item.split(",")]
    cap = MAX_PAGE_IDS if set(names) <= {"id", "key", ""} else MAX_PAGE_FIELDS
    size = max(1, min(max_results, cap))
    start = _offset(token, query_text)
    page = hits[start:start + size]
    body: dict[str, Any] = {
        "issues": [select_fields(i, fields, default_all=False) for i in page],
        "isLast": start + size >= len(hits),
    }
    if not body["isLast"]:
        body["nextPageToken"] = _token(start + size, query_text)
    return body


def run_from(query: jira_jql.Query, views: list[dict[str, Any]], now: datetime, *,
             start_at: int, max_results: int, fields: Sequence[str] | None) -> dict[str, Any]:
    """Data Center's page: `max_results` (up to its cap; 0 counts only) of the matches from
    `start_at`, with their total; navigable fields unless others are asked for."""
    hits = ordered(query, views, now)
    start = max(0, start_at)
    size = max(0, min(max_results, MAX_PAGE_DATA_CENTER))
    return {
        "expand": DATA_CENTER_EXPAND, "startAt": start, "maxResults": size,
        "total": len(hits),
        "issues": [select_fields(i, fields, default_all=True) for i in hits[start:start + size]],
    }
