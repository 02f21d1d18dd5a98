"""JSON shapes, errors and list pagination of the Zendesk twin, shaped like the Support API's."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from afterhours.twins._http import HttpError, Request

Json = dict[str, Any]

PRIORITIES = ("urgent", "high", "normal", "low")
STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
TYPES = ("problem", "incident", "question", "task")
AGENT_ROLES = ("agent", "admin")
# Zendesk gives every account one system custom status per status category.
CUSTOM_STATUS_IDS = {status: 1000 + index for index, status in enumerate(STATUSES)}


def iso(moment: datetime) -> str:
    """Format an aware datetime the way Zendesk does: "2026-11-23T04:42:00Z"."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: object) -> datetime | None:
    """Parse an ISO 8601 timestamp (a "Z" or an offset); None when it is not one."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def not_found() -> HttpError:
    """Zendesk's answer for an unknown record."""
    return HttpError(404, {"error": "RecordNotFound", "description": "Not found"})


def record_invalid(details: dict[str, str]) -> HttpError:
    """Zendesk's 422 for validation errors; `details` maps a field to its message."""
    return HttpError(422, {
        "error": "RecordInvalid",
        "description": "Record validation errors",
        "details": {
            field: [{"description": f"{field.replace('_', ' ').capitalize()}: {message}",
                     "error": "InvalidValue"}]
            for field, message in details.items()
        },
    })


def update_conflict() -> HttpError:
    """Zendesk's 409 when a safe update carries a stale `updated_stamp`."""
    return HttpError(409, {
        "error": "UpdateConflict",
        "description": "Safe Update prevented the update due to outdated ticket data. "
        "Please fetch the latest ticket data and try again.",
    })


def via(channel: str) -> Json:
    """A via object; the twin keeps no sender details."""
    return {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}}


def user_json(api: str, user_id: int, name: str, *, email: str, role: str,
              organization_id: int | None, now: datetime) -> Json:
    """A user as `GET /users/{id}` answers it."""
    stamp = iso(now)
    return {
        "id": user_id, "url": f"{api}/users/{user_id}.json", "name": name, "email": email,
        "created_at": stamp, "updated_at": stamp, "time_zone": "UTC",
        "iana_time_zone": "Etc/UTC", "phone": None, "shared_phone_number": None, "photo": None,
        "locale_id": 1, "locale": "en-US", "organization_id": organization_id, "role": role,
        "verified": True, "external_id": None, "tags": [], "alias": "", "active": True,
        "shared": False, "shared_agent": False, "last_login_at": None,
        "two_factor_auth_enabled": None, "signature": "", "details": "", "notes": "",
        "role_type": None, "custom_role_id": None, "moderator": role in AGENT_ROLES,
        "ticket_restriction": None if role in AGENT_ROLES else "requested",
        "only_private_comments": False, "restricted_agent": False, "suspended": False,
        "default_group_id": None, "report_csv": role == "admin", "user_fields": {},
    }


def organization_json(api: str, org_id: int, name: str, tags: Sequence[str],
                      now: datetime) -> Json:
    """An organization as `GET /organizations/{id}` answers it."""
    stamp = iso(now)
    return {
        "id": org_id, "url": f"{api}/organizations/{org_id}.json", "name": name,
        "shared_tickets": False, "shared_comments": False, "external_id": None,
        "created_at": stamp, "updated_at": stamp, "domain_names": [], "details": None,
        "notes": None, "group_id": None, "tags": list(tags), "organization_fields": {},
    }


def group_json(api: str, group_id: int, name: str, now: datetime) -> Json:
    """A group as `GET /groups/{id}` answers it."""
    stamp = iso(now)
    return {
        "id": group_id, "url": f"{api}/groups/{group_id}.json", "name": name,
        "description": "", "default": False, "deleted": False, "is_public": True,
        "created_at": stamp, "updated_at": stamp,
    }


# Dropdowns ("tagger") and multi-selects carry options; the rest of the custom types do not.
CUSTOM_FIELD_TYPES = ("text", "textarea", "checkbox", "date", "integer", "decimal", "regexp",
                      "partialcreditcard", "multiselect", "tagger", "lookup")
OPTION_FIELD_TYPES = ("tagger", "multiselect")
# The system fields every account has, by type, as the live API titles them.
SYSTEM_FIELDS = {"subject": "Subject", "description": "Description", "status": "Status",
                 "tickettype": "Type", "priority": "Priority", "group": "Group",
                 "assignee": "Assignee"}
_SYSTEM_OPTIONS = {"status": STATUSES, "priority": PRIORITIES, "tickettype": TYPES}


def ticket_field_json(api: str, field_id: int, title: str, *, field_type: str,
                      position: int, options: list[Json], now: datetime) -> Json:
    """A ticket field as `GET /ticket_fields` answers it; `options` are dropdown options."""
    stamp, system = iso(now), field_type in SYSTEM_FIELDS
    field: Json = {
        "id": field_id, "url": f"{api}/ticket_fields/{field_id}.json", "type": field_type,
        "title": title, "raw_title": title, "description": "", "raw_description": "",
        "agent_description": "", "position": position, "active": True, "required": False,
        "collapsed_for_agents": False, "regexp_for_validation": None, "title_in_portal": title,
        "raw_title_in_portal": title, "visible_in_portal": system, "editable_in_portal": system,
        "required_in_portal": False, "tag": None, "removable": not system,
        "agent_can_edit": True, "created_at": stamp, "updated_at": stamp,
    }
    if field_type in OPTION_FIELD_TYPES:
        field["custom_field_options"] = options
    if field_type in _SYSTEM_OPTIONS:
        field["system_field_options"] = [
            {"name": "On-hold" if value == "hold" else value.capitalize(), "value": value}
            for value in _SYSTEM_OPTIONS[field_type]]
    return field


def comment_json(comment_id: int, body: str, *, author_id: int, public: bool,
                 audit_id: int, channel: str, now: datetime) -> Json:
    """A ticket comment as `GET /tickets/{id}/comments` answers it."""
    return {
        "id": comment_id, "type": "Comment", "author_id": author_id, "body": body,
        "html_body": f'<div class="zd-comment" dir="auto"><p>{body}</p></div>',
        "plain_body": body, "public": public, "attachments": [], "audit_id": audit_id,
        "via": via(channel), "created_at": iso(now),
        "metadata": {"system": {}, "custom": {}},
    }


def audit_json(audit_id: int, ticket_id: int, author_id: int, events: list[Json],
               now: datetime) -> Json:
    """The audit an update answers with, next to the ticket."""
    return {
        "id": audit_id, "ticket_id": ticket_id, "author_id": author_id,
        "created_at": iso(now), "metadata": {"system": {}, "custom": {}},
        "via": via("api"), "events": events,
    }


def _encode(value: str) -> str:
    # URL-safe and unpadded: zenpy pastes cursors into query strings without encoding them.
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def _decode(value: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def encode_cursor(*numbers: int) -> str:
    """An opaque cursor holding `numbers`."""
    return _encode(":".join(str(n) for n in numbers))


def decode_cursor(cursor: str, arity: int) -> tuple[int, ...] | None:
    """The numbers inside a cursor from `encode_cursor`, or None when it is not one."""
    text = _decode(cursor)
    if text is None:
        return None
    parts = text.split(":")
    if len(parts) != arity:
        return None
    try:
        return tuple(int(part) for part in parts)
    except ValueError:
        return None


def invalid_pagination(description: str) -> HttpError:
    """Zendesk's 400 for a bad cursor or page size."""
    return HttpError(400, {"error": "InvalidPaginationParameter", "description": description})


def paginate(key: str, items: list[Json], request: Request, base_url: str) -> Json:
    """Answer a list endpoint: cursor pagination when `page[size]` is sent, else one page."""
    size_arg = request.arg("page[size]")
    if size_arg is None:
        return {key: items, "next_page": None, "previous_page": None, "count": len(items)}
    if not size_arg.isdigit() or not 1 <= int(size_arg) <= 100:
        raise invalid_pagination("page[size] must be an integer from 1 to 100")
    start = 0
    after = request.arg("page[after]")
    if after is not None:
        decoded = decode_cursor(after, 1)
        if decoded is None:
            raise invalid_pagination("page[after] is not a valid cursor")
        start = decoded[0]
    end = start + int(size_arg)
    page = items[start:end]
    has_more = end < len(items)
    after_cursor = encode_cursor(end) if page else None
    before_cursor = encode_cursor(start) if page else None
    query = {k: v[0] for k, v in request.query.items() if k != "page[after]" and v}
    next_link = None
    if has_more and after_cursor is not None:
        next_link = f"{base_url}{request.path}?{urlencode({**query, 'page[after]': after_cursor})}"
    return {
        key: page,
        "meta": {"has_more": has_more, "after_cursor": after_cursor,
                 "before_cursor": before_cursor},
        "links": {"next": next_link, "prev": None},
    }
