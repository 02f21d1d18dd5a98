"""The twin's ticket search (`GET /api/v2/search.json`), as a poller that does not use the
incremental export would call it.

The live API's rules that shape such a poller's cost are kept: offset pagination (`page`,
`per_page` up to 100), at most 1,000 results per query (a page past them is a 422), and a
`count` of every match. The query language is the subset a poller needs: `type:ticket` and
conditions on status, priority, created and updated (`:`, `<`, `>`, `<=`, `>=`), values as
dates or ISO 8601 times. Anything else is refused with a 400 naming the term, rather than
matched loosely: the twin has no relevance ranking and no search-index lag.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from afterhours.twins._http import HttpError, Request
from afterhours.twins.zendesk_shapes import PRIORITIES, STATUSES, Json, parse_iso
from afterhours.twins.zendesk_state import ZendeskState

PATH = "/api/v2/search.json"
MAX_PER_PAGE = 100
MAX_RESULTS = 1000
SORTS = {"updated_at": "updated_at", "created_at": "created_at", "priority": "priority",
         "status": "status", "ticket_type": "type"}
# Status and priority compare in Zendesk's order ("status<solved" is every unsolved ticket).
_ORDERS = {"status": STATUSES, "priority": tuple(reversed(PRIORITIES))}
_TIMES = {"created": "created_at", "updated": "updated_at"}
_TERM = re.compile(r"(?P<key>[a-z_]+)(?P<op><=|>=|:|<|>)(?P<value>\S+)")
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ":": lambda a, b: a == b, "<": lambda a, b: a < b, ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
}

Predicate = Callable[[Json], bool]


def _invalid(description: str, status: int = 400) -> HttpError:
    return HttpError(status, {"error": "invalid", "description": description})


def _moment(text: str) -> tuple[datetime, datetime] | None:
    """The span a search value names: a whole day for a date, an instant for a time."""
    if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        day = datetime.combine(datetime.fromisoformat(text).date(), time(), tzinfo=UTC)
        return day, day + timedelta(days=1)
    moment = parse_iso(text)
    return None if moment is None else (moment, moment + timedelta(seconds=1))


def _time_predicate(field: str, op: str, text: str) -> Predicate:
    span = _moment(text)
    if span is None:
        raise _invalid(f"{text!r} is neither a date (2026-11-20) nor a time "
                       "(2026-11-20T18:00:00Z)")
    start, end = span

    def test(ticket: Json) -> bool:
        value = parse_iso(ticket[field])
        if value is None:
            return False
        return {":": start <= value < end, "<": value < start, "<=": value < end,
                ">": value >= end, ">=": value >= start}[op]

    return test


def _ranked_predicate(field: str, op: str, text: str) -> Predicate:
    order = _ORDERS[field]
    if text not in order:
        raise _invalid(f"{field} takes one of {', '.join(order)}, not {text!r}")
    wanted = order.index(text)
    compare = _COMPARE[op]
    return lambda ticket: ticket[field] in order and compare(order.index(ticket[field]), wanted)


def _predicate(term: str) -> Predicate | None:
    """What one query term asks of a ticket; None for `type:ticket`, which every one passes."""
    found = _TERM.fullmatch(term)
    if found is None:
        raise _invalid(f"the twin's search takes key:value terms only, not {term!r}")
    key, op, value = found["key"], found["op"], found["value"].strip('"')
    if key == "type":
        if (op, value) != (":", "ticket"):
            raise _invalid("the twin searches tickets only: type:ticket")
        return None
    if key in _TIMES:
        return _time_predicate(_TIMES[key], op, value)
    if key in _ORDERS:
        return _ranked_predicate(key, op, value)
    raise _invalid(f"the twin's search does not know {key!r} (it knows type, status, "
                   "priority, created and updated)")


def _positive(request: Request, name: str, default: int) -> int:
    text = request.arg(name, str(default)) or str(default)
    if not text.isdigit() or int(text) < 1:
        raise _invalid(f"{name} must be a positive integer")
    return int(text)


def _sort_key(field: str) -> Callable[[Json], tuple[int, Any, int]]:
    order = _ORDERS.get(field)

    def key(ticket: Json) -> tuple[int, Any, int]:
        value = ticket[field]
        if order is not None:
            value = order.index(value) if value in order else -1
        # Tickets without a value sort first, as they would in either direction of a tie.
        return (value is not None, value if value is not None else 0, ticket["id"])

    return key


def search_page(state: ZendeskState, request: Request, base_url: str) -> Json:
    """Answer one page of `GET /api/v2/search.json` for `request`."""
    query = (request.arg("query") or "").strip()
    if not query:
        raise _invalid("query is required")
    tests = [test for term in query.split() if (test := _predicate(term)) is not None]
    sort_by, sort_order = request.arg("sort_by"), request.arg("sort_order") or "desc"
    if sort_by is not None and sort_by not in SORTS:
        raise _invalid(f"sort_by takes one of {', '.join(SORTS)}")
    if sort_order not in ("asc", "desc"):
        raise _invalid("sort_order takes asc or desc")
    page, per_page = _positive(request, "page", 1), min(_positive(request, "per_page", 100),
                                                        MAX_PER_PAGE)
    if (page - 1) * per_page >= MAX_RESULTS:
        raise _invalid("Invalid search: Requested response size was greater than Search "
                       "Response Limits", 422)
    found = [t for t in state.tickets.values() if all(test(t) for test in tests)]
    # Without sort_by the live API ranks by relevance; the twin has none and keeps id order.
    if sort_by is None:
        found.sort(key=lambda ticket: int(ticket["id"]))
    else:
        found.sort(key=_sort_key(SORTS[sort_by]), reverse=sort_order == "desc")
    reachable = min(len(found), MAX_RESULTS)
    start = (page - 1) * per_page
    # Deep copies: the server serialises the answer after releasing the lock.
    results = [{**copy.deepcopy(ticket), "result_type": "ticket"}
               for ticket in found[start:start + per_page]]

    def link(number: int) -> str:
        sent = {k: v[0] for k, v in request.query.items() if v and k != "page"}
        return f"{base_url}{PATH}?{urlencode({**sent, 'page': number})}"

    return {
        "results": results,
        "facets": None,
        "next_page": link(page + 1) if start + per_page < reachable else None,
        "previous_page": link(page - 1) if page > 1 else None,
        "count": len(found),
    }
