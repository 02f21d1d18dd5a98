"""Business-hours schedules and their holidays on the Zendesk twin: the three GET endpoints.

The shapes are those of Zendesk's Schedules API reference
(https://developer.zendesk.com/api-reference/ticketing/ticket-management/schedules/):
a schedule is {id, name, time_zone (a Rails name), intervals, created_at, updated_at}, each
interval {start_time, end_time} in minutes from Sunday 00:00, and a holiday {id, name,
start_date, end_date}. Zendesk's OpenAPI file lacks these endpoints, so the contract layer
lists their exchanges without validating them (contract/allowances.py, MISSING_FROM_SPEC).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Sequence
from datetime import date, datetime

from afterhours.twins._http import Request, Response, TwinServer
from afterhours.twins.zendesk_shapes import Json, iso, not_found

PATH = "/api/v2/business_hours/schedules"
WEEK_MINUTES = 7 * 24 * 60


def _schedule_id(request: Request) -> int:
    value = request.params["id"]
    if not value.isdigit():
        raise not_found()
    return int(value)


class ZendeskSchedules:
    """The account's schedules and holidays, seeded by tests, served over `server`."""

    def __init__(self, server: TwinServer, clock: Callable[[], datetime]) -> None:
        self._server = server
        self._clock = clock
        self._ids = itertools.count(360000000101)
        self.schedules: dict[int, Json] = {}
        self.holidays: dict[int, list[Json]] = {}
        route = server.route
        route("GET", f"{PATH}.json")(self._list)
        route("GET", f"{PATH}/{{id}}.json")(self._show)
        route("GET", f"{PATH}/{{id}}/holidays.json")(self._list_holidays)

    def add_schedule(self, name: str, time_zone: str,
                     intervals: Sequence[tuple[int, int]]) -> Json:
        """Create a schedule; `intervals` are (start_time, end_time) minutes from Sunday 00:00."""
        for start, end in intervals:
            if not 0 <= start < end <= WEEK_MINUTES:
                raise ValueError(f"interval {start}-{end} is not within the week")
        with self._server.lock:
            stamp = iso(self._clock())
            schedule: Json = {
                "id": next(self._ids), "name": name, "time_zone": time_zone,
                "intervals": [{"start_time": start, "end_time": end}
                              for start, end in intervals],
                "created_at": stamp, "updated_at": stamp,
            }
            self.schedules[schedule["id"]] = schedule
            self.holidays[schedule["id"]] = []
            return copy.deepcopy(schedule)

    def add_holiday(self, schedule_id: int, name: str, start_date: date,
                    end_date: date | None = None) -> Json:
        """Add a holiday to a schedule, one day or `start_date` to `end_date` included."""
        end = end_date or start_date
        if end < start_date:
            raise ValueError("a holiday cannot end before it starts")
        with self._server.lock:
            if schedule_id not in self.schedules:
                raise ValueError(f"no schedule {schedule_id}")
            holiday: Json = {"id": next(self._ids), "name": name,
                             "start_date": start_date.isoformat(), "end_date": end.isoformat()}
            self.holidays[schedule_id].append(holiday)
            return copy.deepcopy(holiday)

    def _list(self, request: Request) -> Response:
        return Response(200, {"schedules": copy.deepcopy(list(self.schedules.values()))})

    def _show(self, request: Request) -> Response:
        found = self.schedules.get(_schedule_id(request))
        if found is None:
            raise not_found()
        return Response(200, {"schedule": copy.deepcopy(found)})

    def _list_holidays(self, request: Request) -> Response:
        schedule_id = _schedule_id(request)
        if schedule_id not in self.schedules:
            raise not_found()
        return Response(200, {"holidays": copy.deepcopy(self.holidays[schedule_id])})
