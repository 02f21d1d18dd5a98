"""Zendesk's names for its ids, cached: groups, agents, users and ticket fields.

A policy names things as people see them (a group "Finance", an agent's email, a field's
title); Zendesk tickets and updates carry ids. Each lookup is read once and kept for
`LOOKUP_TTL` seconds (a renamed group, a deactivated agent are seen within that time, and no
pass pays for a read); a miss reads again at once, since an admin may have added the record.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import structlog
from zenpy import Zenpy

from afterhours.errors import PermanentError

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")
log = structlog.get_logger()
_SERVICE = "zendesk"
_AGENT_ROLES = frozenset({"agent", "admin"})
LOOKUP_TTL = 600.0  # seconds a looked-up name (group, agent, user, field) is kept


class Caller(Protocol):
    """Runs one read under the desk's retry policy and error mapping (ZenpyTicketDesk._call)."""

    def __call__(self, operation: str, fn: Callable[[], T], *, once: bool = False) -> T:
        """Run `fn`, named `operation` in logs."""
        ...


@dataclass(frozen=True)
class TicketField:
    """What a ticket field's id stands for: its title and, for a dropdown, its options."""

    title: str
    custom: bool
    options: Mapping[str, str] = field(default_factory=dict)  # option value -> display name


def _as_field(raw: Mapping[str, Any]) -> TicketField:
    options = {str(o["value"]): str(o.get("name") or o["value"])
               for o in raw.get("custom_field_options") or () if o.get("value") is not None}
    # System fields (subject, status...) cannot be removed; every custom field can.
    return TicketField(str(raw.get("title") or ""), bool(raw.get("removable", True)), options)


class Expiring(Generic[K, V]):
    """A dict whose entries are forgotten `ttl` seconds (on `clock`) after they were stored."""

    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}

    def __contains__(self, key: K) -> bool:
        entry = self._entries.get(key)
        if entry is not None and self._clock() - entry[0] >= self._ttl:
            del self._entries[key]
            return False
        return entry is not None

    def __getitem__(self, key: K) -> V:
        return self._entries[key][1]

    def __setitem__(self, key: K, value: V) -> None:
        self._entries[key] = (self._clock(), value)


class ZendeskLookups:
    """The caches behind ZenpyTicketDesk's names: each read through `call`, each kept
    `ttl` seconds on `clock`."""

    def __init__(self, client: Zenpy, call: Caller, clock: Callable[[], float] = time.monotonic,
                 *, ttl: float = LOOKUP_TTL) -> None:
        self._client = client
        self._call = call
        # Whole tables (groups, fields) are kept under the key None.
        self._groups: Expiring[None, dict[str, int]] = Expiring(ttl, clock)
        self._agents: Expiring[str, int] = Expiring(ttl, clock)  # casefolded email -> user id
        self._emails: Expiring[int, str | None] = Expiring(ttl, clock)
        self._fields: Expiring[None, dict[int, TicketField]] = Expiring(ttl, clock)
        self._absent: set[int] = set()  # ids still unknown after the fields' last read

    def group_id(self, name: str) -> int:
        """The id of the group called `name`; PermanentError when no such group exists."""
        if None not in self._groups or name not in self._groups[None]:
            found = self._call("groups", lambda: [(g.name, g.id) for g in self._client.groups()])
            self._groups[None] = dict(found)
        if name not in self._groups[None]:
            raise PermanentError(_SERVICE, f"no group named {name!r}")
        return self._groups[None][name]

    def agent_id(self, email: str) -> int:
        """The id of the agent or admin with `email` (any case); PermanentError when none has it."""
        wanted = email.strip().casefold()
        if wanted and wanted not in self._agents:  # an empty search is refused, not empty
            users = self._call("users_search", lambda: [
                u.to_dict() for u in self._client.users.search(query=wanted)])
            for user in users:
                # Search matches parts of names and emails too: only the exact email counts.
                if (str(user.get("email") or "").casefold() == wanted
                        and user.get("role") in _AGENT_ROLES and not user.get("suspended")):
                    self._agents[wanted] = int(user["id"])
        if wanted not in self._agents:
            raise PermanentError(_SERVICE, f"no agent or admin has the email {email!r}")
        return self._agents[wanted]

    def user_email(self, user_id: int) -> str | None:
        """The email of user `user_id`, for a user a page did not side-load; None if deleted."""
        if user_id not in self._emails:
            try:
                user = self._call("user", lambda: self._client.users(id=user_id).to_dict())
            except PermanentError:  # 404: deleted since; nobody to name
                user = {}
            self._emails[user_id] = user.get("email")
        return self._emails[user_id]

    def fields(self, wanted: Collection[int] = ()) -> Mapping[int, TicketField]:
        """Every ticket field by id, read again once when one of `wanted` is not known yet."""
        if None not in self._fields:
            self._absent = set()  # a fresh read may know them now
        if None not in self._fields or not set(wanted) <= self._fields[None].keys() | self._absent:
            self._fields[None] = self._read_fields()
            absent = set(wanted) - self._fields[None].keys()
            if absent:
                # Not reread for these before the table expires: one unknown field must not
                # cost a call per page.
                log.warning("zendesk.ticket_fields_unknown", field_ids=sorted(absent))
                self._absent |= absent
        return self._fields[None]

    def field_titles(self) -> frozenset[str]:
        """The titles of every custom ticket field, read fresh (the ones a ticket can carry)."""
        self._fields[None] = fields = self._read_fields()
        return frozenset(f.title for f in fields.values() if f.custom)

    def _read_fields(self) -> dict[int, TicketField]:
        raw = self._call("ticket_fields", lambda: [
            f.to_dict() for f in self._client.ticket_fields()])
        return {int(item["id"]): _as_field(item) for item in raw}


def _text(value: object) -> Iterator[str]:
    if value is None or value == "":
        return
    if isinstance(value, bool):  # before int: a bool is an int to Python
        yield "true" if value else "false"
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _text(item)
    else:
        yield str(value)


def _listed(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def valued_field_ids(tickets: Iterable[Mapping[str, Any]]) -> set[int]:
    """The ids of the custom fields with a value on raw `tickets`: the ones worth a title."""
    # A custom_fields that is not a list reads as none: the ticket is read without them.
    return {item["id"] for raw in tickets for item in _listed(raw.get("custom_fields"))
            if isinstance(item, Mapping) and isinstance(item.get("id"), int)
            and item.get("value") not in (None, "", [])}


def custom_field_pairs(
    values: Iterable[Mapping[str, Any]], fields: Mapping[int, TicketField]
) -> tuple[tuple[str, str], ...]:
    """A ticket's `custom_fields` as (title, value) pairs; unknown fields and unset values are
    skipped, a multi-select gives one pair per value, and a dropdown option gives its name and,
    when different, its value (the tag), so a policy may use either."""
    pairs: list[tuple[str, str]] = []
    for item in values:
        field_id = item.get("id")
        known = fields.get(field_id) if isinstance(field_id, int) else None
        if known is None:
            continue
        for text in _text(item.get("value")):
            name = known.options.get(text, text)
            pairs.append((known.title, name))
            if name != text:
                pairs.append((known.title, text))
    return tuple(dict.fromkeys(pairs))
