"""The twin's cursor-based incremental ticket export (`/api/v2/incremental/tickets/cursor.json`).

A cursor names a position in the export's order (updated_at in unix seconds, then the order
in which tickets changed); a page holds the tickets after it. Every ticket sits at the
position of its latest change, so it appears once at its latest state, and a cursor saved
from the last page later yields exactly the tickets changed since.
"""

from __future__ import annotations

import bisect
import copy
import math
from typing import Any
from urllib.parse import urlencode

from afterhours.twins._http import Request
from afterhours.twins.zendesk_shapes import (
    Json,
    decode_cursor,
    encode_cursor,
    invalid_pagination,
)
from afterhours.twins.zendesk_state import ZendeskState

PATH = "/api/v2/incremental/tickets/cursor.json"
MAX_PER_PAGE = 1000
SIDELOADS = ("metric_sets", "users", "organizations", "groups")


def _start(request: Request) -> tuple[int, int]:
    cursor, start_time = request.arg("cursor"), request.arg("start_time")
    if (cursor is None) == (start_time is None):
        raise invalid_pagination("Send either start_time or cursor")
    if cursor is not None:
        decoded = decode_cursor(cursor, 2)
        if decoded is None:
            raise invalid_pagination("Invalid cursor")
        return decoded[0], decoded[1]
    if start_time is None or not start_time.isdigit():
        raise invalid_pagination("start_time must be a unix timestamp")
    # Change numbers start at 1, so this sits just before everything updated at start_time.
    return int(start_time), -1


def _per_page(request: Request) -> int:
    value = request.arg("per_page", str(MAX_PER_PAGE)) or str(MAX_PER_PAGE)
    if not value.isdigit() or int(value) < 1:
        raise invalid_pagination("per_page must be a positive integer")
    return min(int(value), MAX_PER_PAGE)


def sideloads(state: ZendeskState, tickets: list[Json], include: list[str]) -> Json:
    """The records `include` asks for that `tickets` reference (metric sets, users, ...)."""
    loads: Json = {}
    if "metric_sets" in include:
        loads["metric_sets"] = [state.metrics[t["id"]].as_json() for t in tickets]
    referenced: dict[str, tuple[dict[int, Json], tuple[str, ...]]] = {
        "users": (state.users, ("requester_id", "submitter_id", "assignee_id")),
        "organizations": (state.organizations, ("organization_id",)),
        "groups": (state.groups, ("group_id",)),
    }
    for name, (records, fields) in referenced.items():
        if name in include:
            ids = dict.fromkeys(t[f] for t in tickets for f in fields if t[f] is not None)
            loads[name] = [copy.deepcopy(records[i]) for i in ids if i in records]
    return loads


def export_page(state: ZendeskState, request: Request, base_url: str) -> Json:
    """Answer one page of the export for `request`."""
    start = _start(request)
    per_page = _per_page(request)
    include = [name.strip() for name in (request.arg("include") or "").split(",")]
    # The first ticket whose position is after `start` (whatever its id).
    first = bisect.bisect_right(state.in_order, (start, math.inf))
    page = state.in_order[first:first + per_page]
    left = len(state.in_order) - first
    # Deep copies: the server serialises the answer after releasing the lock.
    tickets = [copy.deepcopy(state.tickets[ticket_id]) for _, ticket_id in page]
    after = page[-1][0] if page else start
    after_cursor = encode_cursor(*after)
    # Keep the page size and side-loads on the next page: zenpy just follows after_url.
    query: dict[str, Any] = {"cursor": after_cursor}
    if request.arg("per_page"):
        query["per_page"] = per_page
    if request.arg("include"):
        query["include"] = request.arg("include")
    return {
        "tickets": tickets,
        "after_cursor": after_cursor,
        "after_url": f"{base_url}{PATH}?{urlencode(query, safe=',')}",
        # The twin pages forwards only.
        "before_cursor": None,
        "before_url": None,
        "end_of_stream": left <= per_page,
        **sideloads(state, tickets, [name for name in include if name in SIDELOADS]),
    }
