"""The rules of an API ticket update in the Zendesk twin: what Zendesk refuses, and how the
fields, tags and metric set change, with the audit's Change events.

Apart from ZendeskState, which holds the records, numbers them and keeps the export's order;
these rules take the records they need and hold none.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from afterhours.twins.zendesk_metrics import TicketMetrics
from afterhours.twins.zendesk_shapes import (
    AGENT_ROLES,
    CUSTOM_STATUS_IDS,
    PRIORITIES,
    STATUSES,
    TYPES,
    Json,
    record_invalid,
)


def dedupe(tags: Sequence[object]) -> list[str]:
    """The tags as text, each once, in their first order."""
    return list(dict.fromkeys(str(tag) for tag in tags))


def check_update(ticket: Json, changes: Mapping[str, Any], author: object, *,
                 groups: Mapping[int, Json], users: Mapping[int, Json]) -> None:
    """Refuse an update as Zendesk would (RecordInvalid, naming each field at fault)."""
    errors: dict[str, str] = {}
    if ticket["status"] == "closed":
        errors["status"] = "closed prevents ticket update"
    allowed = {"priority": PRIORITIES, "type": TYPES}
    for field, values in allowed.items():
        if field in changes and changes[field] is not None and changes[field] not in values:
            errors[field] = "is not valid"
    status = changes.get("status", ticket["status"])
    if status not in STATUSES or (status == "new" and ticket["status"] != "new"):
        errors["status"] = f"{status} is not valid"
    if changes.get("group_id") is not None and changes["group_id"] not in groups:
        errors["group"] = "is invalid"
    assignee = changes.get("assignee_id")
    if assignee is not None and users.get(assignee, {}).get("role") not in AGENT_ROLES:
        errors["assignee"] = "is invalid"
    for field in ("tags", "additional_tags", "remove_tags"):
        value = changes.get(field)
        if value is not None and not isinstance(value, list):
            errors[field] = "must be a list"
    fields = changes.get("custom_fields")
    if fields is not None and not (isinstance(fields, list) and all(
            isinstance(item, Mapping) and isinstance(item.get("id"), int) for item in fields)):
        errors["custom_fields"] = "must be a list of {id, value}"
    comment = changes.get("comment")
    if comment is not None and not (isinstance(comment, Mapping) and isinstance(
            comment.get("body") or comment.get("html_body"), str)):
        errors["comment"] = "needs a body"
    if comment is not None and author not in users:
        errors["author"] = "is invalid"
    if errors:
        raise record_invalid(errors)


def apply_fields(ticket: Json, changes: Mapping[str, Any], now: datetime,
                 metrics: TicketMetrics, ids: Iterator[int]) -> list[Json]:
    """Apply the update's fields to the ticket and its metric set; return the audit's Change
    events."""
    before = copy.deepcopy(ticket)
    for field in ("priority", "type", "subject", "group_id", "assignee_id", "status"):
        if field in changes:
            ticket[field] = changes[field]
    if "subject" in changes:
        ticket["raw_subject"] = changes["subject"]
    if changes.get("assignee_id") is not None and "status" not in changes and (
            ticket["status"] == "new"):
        ticket["status"] = "open"  # Zendesk opens a new ticket once someone owns it.
    tags = dedupe(changes["tags"]) if changes.get("tags") is not None else ticket["tags"]
    tags = dedupe([*tags, *(changes.get("additional_tags") or [])])
    removed = {str(tag) for tag in changes.get("remove_tags") or []}
    ticket["tags"] = [tag for tag in tags if tag not in removed]
    for item in changes.get("custom_fields") or []:
        current = [f for f in ticket["custom_fields"] if f["id"] == item["id"]]
        if current:
            current[0]["value"] = item.get("value")
        else:
            ticket["custom_fields"].append({"id": item["id"], "value": item.get("value")})
    ticket["fields"] = copy.deepcopy(ticket["custom_fields"])
    ticket["custom_status_id"] = CUSTOM_STATUS_IDS[ticket["status"]]
    if ticket["group_id"] not in (None, before["group_id"]):
        metrics.on_group(now)
    if ticket["assignee_id"] not in (None, before["assignee_id"]):
        metrics.on_assignee(now)
    metrics.on_status(now, ticket["status"])
    shown = ("priority", "type", "subject", "group_id", "assignee_id", "status", "tags")
    changed = [(field, ticket[field], before[field]) for field in shown
               if ticket[field] != before[field]]
    # A custom field's change is named by the field's id, as in the live API's audits.
    previous = {item["id"]: item["value"] for item in before["custom_fields"]}
    changed += [(str(item["id"]), item["value"], previous.get(item["id"]))
                for item in ticket["custom_fields"]
                if item["id"] not in previous or previous[item["id"]] != item["value"]]
    return [{"id": next(ids), "type": "Change", "field_name": field, "value": value,
             "previous_value": was} for field, value, was in changed]
