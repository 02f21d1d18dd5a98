"""The Jira twin's search index: which issues a query can match, without looking at all of them.

Search sees, per issue, one of the versions `JiraTwin.touch` keeps (the newest its lag lets
through). The index holds every kept version by label and by `updated`, so the JQL the
daemon sends (`labels = x`, `labels in (...)`, `updated >= "-5m"`, and ANDs of them with
anything) narrows to the issues that have a version carrying the label or updated since
then. Those candidates are then matched in full, as every issue would be, so the answers are
the same as a scan's; any other query (OR with something unindexed, NOT, no filter) is
answered by the scan (`candidates` returns None).
"""

from __future__ import annotations

import bisect
from datetime import datetime
from typing import Any

from afterhours.twins.jira_jql import BoolOp, Clause, JqlError, Node
from afterhours.twins.jira_jql_eval import JIRA_TIME, canonical, parse_date

# `updated` bounds answered from the sorted versions: `=` and `>` are within `>=`.
_FROM_BOUND = {">=", ">", "="}


class SearchIndex:
    """Kept versions by label and by `updated`, and issue keys for validating `key` values."""

    def __init__(self) -> None:
        """An empty index."""
        self._labelled: dict[str, dict[str, int]] = {}  # label -> issue id -> versions with it
        self._updated: list[tuple[datetime, str]] = []  # (updated, issue id), one per version
        self._created: dict[str, int] = {}  # issue id -> creation order
        self.keys: set[str] = set()  # issue keys and ids, case-folded (JQL's key values)

    def add_issue(self, issue: dict[str, Any]) -> None:
        """Know a newly created issue (its versions come through `add_version`)."""
        self._created[issue["id"]] = len(self._created)
        self.keys |= {issue["key"].casefold(), issue["id"].casefold()}

    def add_version(self, issue_id: str, version: dict[str, Any]) -> None:
        """A version of the issue search may show (from now, or once the lag has passed)."""
        for label in set(version["fields"].get("labels") or ()):
            holders = self._labelled.setdefault(label, {})
            holders[issue_id] = holders.get(issue_id, 0) + 1
        bisect.insort(self._updated, (_updated(version), issue_id))

    def drop_version(self, issue_id: str, version: dict[str, Any]) -> None:
        """Forget a version search can no longer show (a newer one is visible)."""
        for label in set(version["fields"].get("labels") or ()):
            holders = self._labelled[label]
            holders[issue_id] -= 1
            if not holders[issue_id]:
                del holders[issue_id]
                if not holders:
                    del self._labelled[label]
        entry = (_updated(version), issue_id)
        del self._updated[bisect.bisect_left(self._updated, entry)]

    def in_creation_order(self, issue_ids: set[str]) -> list[str]:
        """The ids (of issues the twin holds) oldest first, the order search starts from."""
        return sorted(issue_ids, key=self._created.__getitem__)

    def candidates(self, where: Node | None, now: datetime) -> set[str] | None:
        """Ids of every issue a version of which may match `where` at `now` (a superset of
        the matches), or None when the index cannot narrow the query."""
        if isinstance(where, Clause):
            return self._clause(where, now)
        if isinstance(where, BoolOp):
            parts = [self.candidates(item, now) for item in where.items]
            narrowed = [p for p in parts if p is not None]
            if where.op == "AND":
                return set.intersection(*narrowed) if narrowed else None
            return set().union(*narrowed) if len(narrowed) == len(parts) else None
        return None  # NOT (its complement is most issues) or no filter

    def _clause(self, clause: Clause, now: datetime) -> set[str] | None:
        name = canonical(clause.field)
        if name == "labels" and clause.op in ("=", "IN") and clause.value is not None:
            values = clause.value if isinstance(clause.value, tuple) else (clause.value,)
            # Labels match exactly (case and all), as jira_jql_eval compares them.
            return {i for v in values for i in self._labelled.get(v, ())}
        if name == "updated" and clause.op in _FROM_BOUND and isinstance(clause.value, str):
            try:
                bound = parse_date(clause.value, now, clause.field)
            except JqlError:
                return None  # the scan refuses it, in Jira's words
            # Jira times keep milliseconds: compare as the matcher does, on the parsed stamp.
            start = bisect.bisect_left(self._updated, (bound, ""))
            return {issue_id for _, issue_id in self._updated[start:]}
        return None


def _updated(version: dict[str, Any]) -> datetime:
    return datetime.strptime(version["fields"]["updated"], JIRA_TIME)
