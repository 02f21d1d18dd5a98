"""What search sees in the Jira twin: every write's version kept for the search index, and
Cloud's search/jql and Data Center's search answered from the versions `search_lag` lets
through (a mixin of `JiraTwin`, as `JiraActivity` is; twins/jira_search.py does the
matching and paging, twins/jira_index.py the narrowing)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from afterhours.twins import jira_search as search
from afterhours.twins import jira_shapes as shapes
from afterhours.twins.jira_index import SearchIndex
from afterhours.twins.jira_jql import Query
from afterhours.twins.jira_search import Known

if TYPE_CHECKING:
    from afterhours.twins.jira_issues import Project

GONE = ("The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
        "A full migration guideline is available at "
        "https://developer.atlassian.com/changelog/#CHANGE-2046")


class JiraSearchView:
    """The twin's kept versions and its two searches over them."""

    clock: Callable[[], datetime]
    search_lag: timedelta
    deployment_type: str  # "Cloud" searches on search/jql, Data Center on search
    use_index: bool
    examined: int
    _index: SearchIndex
    _issues: dict[str, dict[str, Any]]
    _indexed: dict[str, list[tuple[datetime, dict[str, Any]]]]
    _projects: list[Project]
    _priorities: list[tuple[str, str]]

    def touch(self, issue: dict[str, Any]) -> None:
        """Record a write: bump `updated` and queue the new version for the search index."""
        now = self.clock()
        issue["fields"]["updated"] = shapes.jira_time(now)
        versions = self._indexed.setdefault(issue["id"], [])
        versions.append((now, copy.deepcopy(issue)))
        self._index.add_version(issue["id"], versions[-1][1])
        cutoff = now - self.search_lag
        # Versions superseded by one the index already shows can never be seen again.
        while len(versions) > 1 and versions[1][0] <= cutoff:
            self._index.drop_version(issue["id"], versions.pop(0)[1])

    def search(self, jql: str | None, *, max_results: int, fields: Sequence[str] | None,
               token: str | None, reconcile: Sequence[Any]) -> dict[str, Any]:
        """Run enhanced search against the index as it stands on the injected clock."""
        if self.deployment_type != "Cloud":
            raise shapes.error(404, ["Data Center has no enhanced search (search/jql)."])
        query = search.parse_query(jql, self._known())
        if len(reconcile) > search.MAX_RECONCILE:
            raise shapes.error(400, ["reconcileIssues accepts at most 50 issue ids."])
        try:
            fresh = {str(int(i)) for i in reconcile}
        except (TypeError, ValueError):
            raise shapes.error(400, ["reconcileIssues must be a list of issue ids."]) from None
        now = self.clock()
        return search.run(jql or "", query, self._views(query, now, fresh), now,
                          max_results=max_results, fields=fields, token=token)

    def search_from(self, jql: str | None, *, start_at: int, max_results: int,
                    fields: Sequence[str] | None) -> dict[str, Any]:
        """Run Data Center's search (paged by startAt, with a total) against the same index."""
        if self.deployment_type == "Cloud":
            raise shapes.error(410, [GONE])
        query = search.parse_query(jql, self._known(), bounded=False)
        now = self.clock()
        return search.run_from(query, self._views(query, now, set()), now, start_at=start_at,
                               max_results=max_results, fields=fields)

    def _known(self) -> Known:
        return Known(
            projects={v.casefold() for p in self._projects for v in (p.key, p.id, p.name)},
            keys=self._index.keys,
            issue_types={v.casefold() for p in self._projects for t in p.issue_types for v in t},
            priorities={v.casefold() for p in self._priorities for v in p},
        )

    def _views(self, query: Query, now: datetime, fresh: set[str]) -> list[dict[str, Any]]:
        """As search sees them at `now` (`search_lag` behind; `fresh` ids live), oldest
        first: the issues the query may match, every issue when the index cannot tell."""
        narrowed = self._index.candidates(query.where, now) if self.use_index else None
        if narrowed is None:
            chosen: Collection[str] = self._issues
        else:  # reconciled issues show their live version; every write touches, so the
            # index has it already, but a reconciled issue is never to be missed
            chosen = self._index.in_creation_order(narrowed | (fresh & self._issues.keys()))
        cutoff = now - self.search_lag
        views = []
        for issue_id in chosen:
            if issue_id in fresh:
                views.append(self._issues[issue_id])
                continue
            seen = [v for t, v in self._indexed.get(issue_id, []) if t <= cutoff]
            if seen:
                views.append(seen[-1])
        self.examined = len(chosen)
        return views
