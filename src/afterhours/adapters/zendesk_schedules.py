"""Zendesk's business-hours schedules and holidays, read over the ticket desk's zenpy session.

The Schedules API answers plain JSON, which is what `policy.import_schedule` takes, so it is
read raw through the HTTP session zenpy uses (as `ZenpyTicketDesk.fetch_ticket` does), under
the same retry policy and error classification as every other Zendesk call. Shapes:
https://developer.zendesk.com/api-reference/ticketing/ticket-management/schedules/
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from afterhours.adapters.zendesk import ZenpyTicketDesk
from afterhours.errors import ConfigError, PermanentError

log = structlog.get_logger()
Json = dict[str, Any]
_PATH = "/api/v2/business_hours/schedules"
_SERVICE = "zendesk"


class ScheduleChoiceError(ConfigError):
    """No schedule to read: none in the account, several and none chosen, or no such id."""


@dataclass(frozen=True)
class ZendeskSchedule:
    """One schedule and its holidays, as the API answered them."""

    schedule: Json
    holidays: list[Json]


class ZenpyScheduleReader(ZenpyTicketDesk):
    """Reads business-hours schedules; built like the ticket desk, from the same settings."""

    def schedules(self) -> list[Json]:
        """Every schedule of the account."""
        return self._records("list_schedules", f"{_PATH}.json", "schedules")

    def schedule(self, schedule_id: int) -> Json | None:
        """The schedule with this id; None when the account has none such."""
        found = self._get("show_schedule", f"{_PATH}/{schedule_id}.json")
        if found is None:
            return None
        record = found.get("schedule")
        if not isinstance(record, dict):
            raise PermanentError(_SERVICE, f"schedule {schedule_id} answered without a schedule")
        return record

    def holidays(self, schedule_id: int) -> list[Json]:
        """The holidays of a schedule (ranges of dates)."""
        return self._records(
            "list_holidays", f"{_PATH}/{schedule_id}/holidays.json", "holidays")

    def read_schedule(self, schedule_id: int | None = None) -> ZendeskSchedule:
        """The schedule `schedule_id` (default: the account's only one) and its holidays;
        ScheduleChoiceError listing the schedules when that is not one schedule."""
        if schedule_id is None:
            found = self.schedules()
            if len(found) != 1:
                raise ScheduleChoiceError(_choose(found, None))
            schedule = found[0]
        else:
            maybe = self.schedule(schedule_id)
            if maybe is None:
                raise ScheduleChoiceError(_choose(self.schedules(), schedule_id))
            schedule = maybe
        holidays = self.holidays(int(schedule["id"]))
        log.info("zendesk.schedule_read", schedule_id=schedule["id"],
                 intervals=len(schedule.get("intervals") or []), holidays=len(holidays))
        return ZendeskSchedule(schedule, holidays)

    def _records(self, operation: str, path: str, key: str) -> list[Json]:
        found = self._get(operation, path)
        records = None if found is None else found.get(key)
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise PermanentError(_SERVICE, f"{path} answered without a list of {key}")
        return records

    def _get(self, operation: str, path: str) -> Json | None:
        def fetch() -> Json | None:
            response = self._session.get(f"{self._origin}{path}")
            if response.status_code == 404:
                return None
            response.raise_for_status()
            body = response.json()
            return body if isinstance(body, dict) else {}

        return self._call(operation, fetch)


def _choose(schedules: list[Json], wanted: int | None) -> str:
    listed = "\n".join(
        f"  {s.get('id')}: {s.get('name')} ({s.get('time_zone')})" for s in schedules)
    if wanted is not None:
        head = f"Zendesk has no business-hours schedule {wanted}"
    elif not schedules:
        return "Zendesk has no business-hours schedule to import"
    else:
        head = (f"Zendesk has {len(schedules)} business-hours schedules; choose one by its id"
                " (afterhours import-schedule --id ID)")
    return f"{head}; the account's schedules:\n{listed}" if schedules else head
