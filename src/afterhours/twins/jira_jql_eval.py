"""Evaluating parsed JQL (see jira_jql) against Jira issue JSON, with Jira's value rules.

Absolute dates are read in UTC, the time zone the twin gives its users.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from afterhours.twins.jira_jql import BoolOp, Clause, JqlError, Node, Not

JIRA_TIME = "%Y-%m-%dT%H:%M:%S.%f%z"

_RELATIVE = re.compile(r"([+-]?)((?:\d+[wdhm]\s*)+)")
_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}


def parse_date(value: str, now: datetime, field: str = "updated") -> datetime:
    """Read a JQL date: absolute (UTC, the bot's time zone), relative ("-5m") or epoch ms."""
    text = value.strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    if match := _RELATIVE.fullmatch(text):
        delta = sum(
            (timedelta(**{_UNITS[unit]: int(n)}) for n, unit in
             re.findall(r"(\d+)([wdhm])", match.group(2))),
            timedelta(0),
        )
        return now - delta if match.group(1) == "-" else now + delta
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise JqlError(
        f"Date value '{value}' for field '{field}' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
        "format e.g. '-5d', '4w 2d'."
    )


def _fold(value: Any) -> str:
    return str(value).casefold()


def _status_category(issue: dict[str, Any]) -> list[str]:
    category = issue["fields"]["status"]["statusCategory"]
    return [category["key"], category["name"], str(category["id"])]


def _named(field: str) -> Callable[[dict[str, Any]], list[str]]:
    def values(issue: dict[str, Any]) -> list[str]:
        obj = issue["fields"].get(field)
        return [] if obj is None else [v for v in (obj.get("name"), obj.get("id"),
                                                   obj.get("key")) if v is not None]

    return values


# Each searchable field: how to read its values off an issue and whether matching is exact.
_FIELDS: dict[str, tuple[Callable[[dict[str, Any]], list[str]], bool]] = {
    "labels": (lambda issue: list(issue["fields"].get("labels") or []), True),
    "project": (_named("project"), False),
    "key": (lambda issue: [issue["key"], issue["id"]], False),
    "status": (_named("status"), False),
    "statuscategory": (_status_category, False),
    "issuetype": (_named("issuetype"), False),
    "priority": (_named("priority"), False),
    "resolution": (_named("resolution"), False),
    "summary": (lambda issue: [issue["fields"].get("summary") or ""], False),
    "description": (lambda issue: [issue["fields"].get("description") or ""], False),
}
_ALIASES = {"issuekey": "key", "id": "key", "type": "issuetype", "createddate": "created",
            "updateddate": "updated", "category": "statuscategory"}
_DATES = {"created", "updated"}
_TEXT = {"summary", "description"}


def canonical(field: str) -> str:
    """Map a JQL field name (any case, aliases) to the twin's name for it."""
    name = field.casefold()
    return _ALIASES.get(name, name)


def check_field(clause: Clause) -> None:
    """Reject fields and operators the twin does not model, in Jira's words."""
    name = canonical(clause.field)
    if name not in _FIELDS and name not in _DATES:
        raise JqlError(
            f"Field '{clause.field}' does not exist or you do not have permission to view it."
        )
    allowed = {"=", "!=", "IN", "NOT IN", "IS", "IS NOT"}
    if name in _DATES:
        allowed = {"=", "!=", ">", ">=", "<", "<=", "IS", "IS NOT"}
    elif name in _TEXT:
        allowed = {"~", "!~", "IS", "IS NOT"}
    if clause.op not in allowed:
        raise JqlError(
            f"The operator '{clause.op.lower()}' is not supported by the '{clause.field}' field."
        )


def clauses(node: Node | None) -> list[Clause]:
    """Every clause in the tree, for validation."""
    if node is None:
        return []
    if isinstance(node, Clause):
        return [node]
    if isinstance(node, Not):
        return clauses(node.item)
    return [c for item in node.items for c in clauses(item)]


def matches(node: Node, issue: dict[str, Any], now: datetime) -> bool:
    """Whether `issue` (Jira issue JSON) satisfies the parsed filter."""
    if isinstance(node, BoolOp):
        results = (matches(item, issue, now) for item in node.items)
        return all(results) if node.op == "AND" else any(results)
    if isinstance(node, Not):
        return not matches(node.item, issue, now)
    name = canonical(node.field)
    if name in _DATES:
        return _match_date(node, issue["fields"].get(name), now)
    reader, exact = _FIELDS[name]
    have = reader(issue)
    if node.value is None:
        return (not have or have == [""]) == (node.op == "IS")
    if name in _TEXT:
        found = any(_fold(node.value) in _fold(v) for v in have)
        return found == (node.op == "~")
    wanted: Sequence[str] = node.value if isinstance(node.value, tuple) else (node.value,)
    norm = (lambda v: v) if exact else _fold
    hit = bool({norm(v) for v in have} & {norm(w) for w in wanted})
    return hit if node.op in ("=", "IN") else not hit


def _match_date(node: Clause, stamp: str | None, now: datetime) -> bool:
    if node.value is None:
        return (stamp is None) == (node.op == "IS")
    if stamp is None or isinstance(node.value, tuple):
        return False
    have = _stamp(stamp)
    bound = parse_date(node.value, now, node.field)
    return {
        "=": have == bound, "!=": have != bound, ">": have > bound,
        ">=": have >= bound, "<": have < bound, "<=": have <= bound,
    }[node.op]


@lru_cache(maxsize=1 << 16)
def _stamp(stamp: str) -> datetime:
    # Every page of a search matches every issue again; reading each stamp once keeps a
    # poll's pages in proportion to what they return (strptime is most of a date match).
    return datetime.strptime(stamp, JIRA_TIME)
