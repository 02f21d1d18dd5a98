"""JQL search on whichever Jira answers: Cloud's enhanced search (`search/jql`, paged by
nextPageToken) or Data Center's `search` (REST v2, paged by startAt against `total`).

Data Center has no search/jql, and Cloud has retired `search`, so the choice follows
serverInfo's deploymentType as issue creation does. The jira client's own search methods
will not do: in jira 3.10 both are Cloud-only and answer None, not an error, elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jira import JIRA

PAGE = 100  # Cloud's page of full issues; Data Center pages up to its own cap (1000)


def search_issues(jira: JIRA, jql: str, fields: str, *,
                  limit: int | None = None) -> list[dict[str, Any]]:
    """The issues `jql` matches, in its order, as Jira's JSON with `fields`: every page, or
    the first `limit` issues."""
    params: dict[str, Any] = {"jql": jql, "fields": fields,
                              "maxResults": PAGE if limit is None else min(PAGE, limit)}
    pages = _cloud_pages if jira.deploymentType == "Cloud" else _data_center_pages
    found: list[dict[str, Any]] = []
    for issues in pages(jira, params):
        found += issues
        if limit is not None and len(found) >= limit:
            return found[:limit]
    return found


def _cloud_pages(jira: JIRA, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
    token: str | None = None
    while True:
        page = jira._get_json("search/jql",
                              params=params | ({"nextPageToken": token} if token else {}))
        yield list(page.get("issues") or [])
        token = page.get("nextPageToken")
        if page.get("isLast", True) or not token:
            return


def _data_center_pages(jira: JIRA, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
    start = 0
    while True:
        page = jira._get_json("search", params=params | {"startAt": start})
        issues = list(page.get("issues") or [])
        yield issues
        # Counted from what was asked and received: Jira may cut maxResults to its own cap.
        start += len(issues)
        if not issues or start >= int(page.get("total") or 0):
            return
