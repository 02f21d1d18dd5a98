"""The Zendesk twin's ticket search, as the benchmark's naive baseline polls it (httpx)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from afterhours.clock import ManualClock
from afterhours.twins.zendesk import ZendeskTwin

pytestmark = pytest.mark.integration


def _file(zendesk: ZendeskTwin, clock: ManualClock, count: int, **fields: Any) -> list[int]:
    requester = zendesk.add_user("Homer", "homer@example.com")["id"]
    ids = []
    for n in range(count):
        clock.advance(timedelta(seconds=1))
        ids.append(zendesk.create_ticket(subject=f"t{n}", description="d",
                                         requester_id=requester, **fields)["id"])
    return ids


def _search(http: httpx.Client, **params: Any) -> httpx.Response:
    return http.get("/api/v2/search.json", params=params)


def test_pages_of_tickets_updated_since_oldest_first(
    zendesk: ZendeskTwin, clock: ManualClock, zendesk_http: httpx.Client
) -> None:
    ids = _file(zendesk, clock, 250)
    since = zendesk.ticket(ids[49])["updated_at"]

    first = _search(zendesk_http, query=f"type:ticket updated>{since}", sort_by="updated_at",
                    sort_order="asc", per_page=100)
    body = first.json()
    found = [r["id"] for r in body["results"]]
    while body["next_page"]:
        body = zendesk_http.get(body["next_page"]).json()
        found += [r["id"] for r in body["results"]]

    assert first.status_code == 200
    assert first.json()["count"] == 200
    assert {r["result_type"] for r in first.json()["results"]} == {"ticket"}
    assert found == ids[50:]
    assert body["previous_page"] is not None
    assert zendesk.server.requests["GET /api/v2/search.json"] == 2


def test_status_priority_and_dates_narrow_the_search(
    zendesk: ZendeskTwin, clock: ManualClock, zendesk_http: httpx.Client
) -> None:
    urgent = _file(zendesk, clock, 2, priority="urgent")
    normal = _file(zendesk, clock, 2, priority="normal")
    zendesk.agent_update(urgent[0], status="solved")

    def ids(query: str) -> list[int]:
        return sorted(r["id"] for r in _search(zendesk_http, query=query).json()["results"])

    assert ids("type:ticket status<solved priority:urgent") == [urgent[1]]
    assert ids("type:ticket priority>=high") == urgent
    assert ids("type:ticket priority<high") == normal
    assert ids("type:ticket created:2026-11-20") == urgent + normal
    assert ids("type:ticket created>2026-11-20") == []


def test_no_result_past_the_thousandth(
    zendesk: ZendeskTwin, clock: ManualClock, zendesk_http: httpx.Client
) -> None:
    _file(zendesk, clock, 1005)

    tenth = _search(zendesk_http, query="type:ticket", page=10, per_page=100)
    eleventh = _search(zendesk_http, query="type:ticket", page=11, per_page=100)

    assert tenth.json()["count"] == 1005  # every match is counted, only 1,000 are served
    assert tenth.json()["next_page"] is None
    assert eleventh.status_code == 422
    assert "Search Response Limits" in eleventh.json()["description"]


@pytest.mark.parametrize(("query", "named"), [
    ("type:ticket subject:alarm", "subject"),
    ("type:user", "type:ticket"),
    ("alarm", "alarm"),
    ("type:ticket updated>yesterday", "yesterday"),
    ("type:ticket status<done", "done"),
])
def test_what_the_twin_cannot_search_is_refused_by_name(
    zendesk_http: httpx.Client, query: str, named: str
) -> None:
    answer = _search(zendesk_http, query=query)

    assert answer.status_code == 400
    assert named in answer.json()["description"]
