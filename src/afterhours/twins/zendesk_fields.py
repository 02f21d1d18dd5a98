"""Ticket fields of the Zendesk twin: the system fields every account has, and custom ones.

A ticket lists a value for every active custom field, null (false for a checkbox) until one
is set, as the live API does; custom values are kept in the forms Zendesk answers with: a
string, a boolean for a checkbox, a list of option values for a multi-select.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import datetime

from afterhours.twins.zendesk_shapes import (
    CUSTOM_FIELD_TYPES,
    OPTION_FIELD_TYPES,
    SYSTEM_FIELDS,
    Json,
    ticket_field_json,
)

# Zendesk's field and option ids are large and apart from other records' ids.
_FIRST_FIELD_ID = 360_000_100_001
_FIRST_OPTION_ID = 360_000_900_001


class TicketFields:
    """The account's ticket fields by id, in position order."""

    def __init__(self, api: str, clock: Callable[[], datetime]) -> None:
        self.api = api
        self.clock = clock
        self.records: dict[int, Json] = {}
        self._ids = itertools.count(_FIRST_FIELD_ID)
        self._option_ids = itertools.count(_FIRST_OPTION_ID)
        for field_type, title in SYSTEM_FIELDS.items():
            self._add(title, field_type, [])

    def add(self, title: str, field_type: str, options: Sequence[tuple[str, str]]) -> Json:
        """Declare a custom field; `options` are (name, value) pairs for a dropdown."""
        if field_type not in CUSTOM_FIELD_TYPES:
            raise ValueError(f"unknown custom field type {field_type!r}")
        if (field_type in OPTION_FIELD_TYPES) != bool(options):
            raise ValueError(f"options are required for, and only for, {OPTION_FIELD_TYPES}")
        if any(f["title"].casefold() == title.casefold() for f in self.records.values()):
            raise ValueError(f"a ticket field titled {title!r} exists")
        return self._add(title, field_type, [
            {"id": next(self._option_ids), "name": name, "raw_name": name, "value": value,
             "position": position, "default": False}
            for position, (name, value) in enumerate(options)])

    def _add(self, title: str, field_type: str, options: list[Json]) -> Json:
        field = ticket_field_json(self.api, next(self._ids), title, field_type=field_type,
                                  position=len(self.records) + 1, options=options,
                                  now=self.clock())
        self.records[field["id"]] = field
        return field

    def blank(self, field: Json) -> object:
        """The value a ticket shows for `field` before anyone sets it."""
        return False if field["type"] == "checkbox" else None

    def blank_values(self) -> dict[int, object]:
        """Every active custom field's unset value, by field id."""
        return {field_id: self.blank(field) for field_id, field in self.records.items()
                if field["removable"] and field["active"]}
