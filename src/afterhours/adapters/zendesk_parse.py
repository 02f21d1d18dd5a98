"""Zendesk's ticket JSON read into plain values: lenient where Zendesk is, strict where a
decision needs the field.

Zendesk leaves optional fields out or null, and integrations write odd values (a tag 5):
those are defaulted or coerced. Without its id or its times a ticket cannot be planned (every
deadline counts from them): such a ticket is malformed, and says why in a short message that
never quotes the ticket's body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from afterhours.adapters.zendesk_lookup import TicketField, custom_field_pairs
from afterhours.domain.model import Ticket
from afterhours.domain.text import clean_text

# What a malformed ticket's reason may cost in the audit trail and the log.
MAX_ERROR = 200
# The exceptions reading one ticket raises on a shape it cannot take; anything else (a
# ServiceError from a lookup, a bug) is not the ticket's fault and passes up.
UNREADABLE = (KeyError, TypeError, ValueError, AttributeError, OverflowError)


def short_error(error: BaseException | str) -> str:
    """`error` as one short line for the audit trail: at most MAX_ERROR characters."""
    if isinstance(error, str) or type(error) is ValueError:  # ours say what is wrong already
        text = str(error)
    else:
        text = f"{type(error).__name__}: {error}"
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 3] + "..."


def ticket_id_of(raw: object) -> int | None:
    """The ticket's id when it has a usable one (a positive integer), else None."""
    value = raw.get("id") if isinstance(raw, Mapping) else None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def required_id(raw: Mapping[str, Any]) -> int:
    """The ticket's id; ValueError when it has none that can be used."""
    found = ticket_id_of(raw)
    if found is None:
        raise ValueError("id is missing or not a positive integer")
    return found


def optional_time(value: object, name: str) -> datetime | None:
    """An ISO 8601 time with its zone, or None when empty; ValueError naming `name` when it is
    something else (a time without a zone would be read hours off)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} is not a time (a {type(value).__name__})")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ValueError(f"{name} has no time zone")
    return moment


def required_time(raw: Mapping[str, Any], name: str) -> datetime:
    """The time in field `name`; ValueError when it is missing or unreadable."""
    moment = optional_time(raw.get(name), name)
    if moment is None:
        raise ValueError(f"{name} is missing")
    return moment


def tags_of(value: object) -> frozenset[str]:
    """Tags as clean strings: null is none, a single value is one tag, 5 is "5"."""
    if value is None:
        return frozenset()
    items = value if isinstance(value, list | tuple) else [value]
    tags = (clean_text(str(item)) for item in items if item is not None)
    return frozenset(tag for tag in tags if tag.strip())


def text_of(value: object, default: str = "") -> str:
    """A text field, clean (see domain.text: no lone surrogates, control or bidirectional
    characters); null or empty gives `default`."""
    return default if value is None or value == "" else clean_text(str(value))


def optional_text(value: object) -> str | None:
    """A text field that may be unset (priority), clean; null or empty gives None."""
    return None if value is None or value == "" else clean_text(str(value))


def mapping_of(value: object) -> Mapping[str, Any]:
    """An object field (via, a metric); anything else reads as empty."""
    return value if isinstance(value, Mapping) else {}


def items_of(value: object) -> list[Any]:
    """A list field (custom_fields, side-loads); anything else reads as empty."""
    return list(value) if isinstance(value, list | tuple) else []


def ref_of(value: object) -> int:
    """A reference to another record (requester_id...) as a lookup key; 0 when unusable."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def records_by_id(records: object, key: str = "id") -> dict[int, Mapping[str, Any]]:
    """Side-loaded records by their id (`key`); records without a usable one are left out."""
    return {ref_of(r.get(key)): r for r in items_of(records)
            if isinstance(r, Mapping) and ref_of(r.get(key))}


def read_ticket(
    raw: Mapping[str, Any],
    *,
    web_url: Callable[[int], str],
    emails: Mapping[int, str | None],
    orgs: Mapping[int, str | None],
    groups: Mapping[int, str | None],
    metrics: Mapping[int, Mapping[str, Any]],
    fields: Mapping[int, TicketField],
    organization_url: Callable[[int], str] | None = None,
) -> Ticket:
    """One ticket of a page, with the page's side-loads; one of UNREADABLE when malformed.
    Every text is clean; custom fields Zendesk does not list are left out."""
    # Strict: every deadline counts from these. Lenient: everything else has a default.
    ticket_id = required_id(raw)
    created = required_time(raw, "created_at")
    updated = required_time(raw, "updated_at")
    metric = metrics.get(ticket_id, {})
    reply_minutes = mapping_of(metric.get("reply_time_in_minutes")).get("calendar")
    organization_id = ref_of(raw.get("organization_id"))
    return Ticket(
        id=ticket_id,
        subject=text_of(raw.get("subject")),
        description=text_of(raw.get("description")),
        status=text_of(raw.get("status"), "new"),
        priority=optional_text(raw.get("priority")),
        tags=tags_of(raw.get("tags")),
        channel=text_of(mapping_of(raw.get("via")).get("channel"), "unknown"),
        requester_email=emails.get(ref_of(raw.get("requester_id"))),
        organization=orgs.get(organization_id),
        group=groups.get(ref_of(raw.get("group_id"))),
        created_at=created,
        updated_at=updated,
        web_url=web_url(ticket_id),
        first_reply_at=None
        if reply_minutes is None
        else created + timedelta(minutes=int(reply_minutes)),
        solved_at=optional_time(metric.get("solved_at"), "solved_at"),
        assignee=emails.get(ref_of(raw.get("assignee_id"))),
        custom_fields=tuple((clean_text(title), clean_text(value)) for title, value in
                            custom_field_pairs([item for item in items_of(raw.get("custom_fields"))
                                                if isinstance(item, Mapping)], fields)),
        last_customer_update_at=optional_time(
            metric.get("requester_updated_at"), "requester_updated_at"),
        replies=int(metric.get("replies") or 0),
        organization_url=organization_url(organization_id)
        if organization_url is not None and organization_id > 0 else None,
    )
