"""Zendesk through zenpy: the incremental export in, safe ticket updates out.

zenpy objects stay in this module and its helpers (zendesk_http: the HTTP seam,
zendesk_lookup: names and their ids, zendesk_update: changes as updates); the rest of
afterhours sees `Ticket` and `ExportPage`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import structlog
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment
from zenpy.lib.api_objects import Ticket as ZenpyTicket
from zenpy.lib.exception import APIException, ZenpyException

from afterhours.adapters.comments import contains_text
from afterhours.adapters.ports import ExportPage
from afterhours.adapters.unsent import surely_unsent
from afterhours.adapters.zendesk_http import BaseUrlTransport, classify
from afterhours.adapters.zendesk_lookup import (
    TicketField,
    ZendeskLookups,
    custom_field_pairs,
    valued_field_ids,
)
from afterhours.adapters.zendesk_update import TicketUpdate, build_updates
from afterhours.domain.actions import ZendeskAction
from afterhours.domain.model import Ticket
from afterhours.errors import OutcomeUnknownError, PermanentError, ServiceError, TransientError
from afterhours.ops.metrics import Metrics
from afterhours.retrying import RetryPolicy, call_with_retries

T = TypeVar("T")
log = structlog.get_logger()
SIDELOADS = ["metric_sets", "users", "organizations", "groups"]
_SERVICE = "zendesk"


def _parse_time(value: str | None) -> datetime | None:
    return None if not value else datetime.fromisoformat(value.replace("Z", "+00:00"))


class ZenpyTicketDesk:
    """The Zendesk side of afterhours, on the real zenpy client."""

    def __init__(
        self,
        base_url: str,
        email: str,
        token: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        page_size: int = 1000,
        metrics: Metrics | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        host = urlsplit(self.base_url).hostname or ""
        # A real account's URL names its subdomain; anything else (a twin) gets a stand-in.
        subdomain = host.split(".")[0] if host.endswith(".zendesk.com") else "afterhours"
        session = self._session = requests.Session()
        origin = f"https://{subdomain}.zendesk.com"
        session.mount(origin, BaseUrlTransport(origin, self.base_url, timeout, metrics))
        self._origin = origin
        self._client = Zenpy(
            subdomain=subdomain, email=email, token=token, session=session, disable_cache=True
        )
        self._retry = retry or RetryPolicy()
        self._page_size = page_size
        self._lookups = ZendeskLookups(self._client, self._call)

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()

    def _call(self, operation: str, fn: Callable[[], T], *, once: bool = False) -> T:
        """Run `fn` under the retry policy. With `once` (a write that must not repeat), one
        attempt, and a failure that may have reached Zendesk is OutcomeUnknownError."""

        def attempt() -> T:
            try:
                return fn()
            except APIException as error:
                raise classify(error.response, str(error), once=once) from error
            except requests.HTTPError as error:
                raise classify(error.response, str(error), once=once) from error
            except requests.RequestException as error:
                # Connection, timeout, a body cut short or undecodable: the request may succeed
                # if sent again, unless it may already have been acted on.
                message = f"{type(error).__name__}: {error}"
                if once and not surely_unsent(error):
                    raise OutcomeUnknownError(_SERVICE, message) from error
                raise TransientError(_SERVICE, message) from error
            except ZenpyException as error:
                raise PermanentError(_SERVICE, str(error)) from error

        if once:
            return attempt()
        return call_with_retries(self._retry, f"zendesk.{operation}", attempt)

    def ticket_url(self, ticket_id: int) -> str:
        """Where an agent opens the ticket."""
        return f"{self.base_url}/agent/tickets/{ticket_id}"

    def export_page(self, cursor: str | None, start_time: datetime) -> ExportPage:
        """One page of the cursor-based incremental export, with metric sets side-loaded."""

        def fetch() -> dict[str, Any]:
            kwargs: dict[str, Any] = {"include": SIDELOADS, "per_page": self._page_size}
            if cursor:
                kwargs["cursor"] = cursor
            else:
                kwargs["start_time"] = int(start_time.timestamp())
            pages = self._client.tickets.incremental(paginate_by_time=False, **kwargs)
            # zenpy turns a page into objects and hides the cursor; the raw page has both the
            # cursor and the side-loads, which zenpy's objects would fetch one call at a time.
            return dict(pages._response_json)

        page = self._call("export_page", fetch)
        tickets = tuple(self._to_tickets(page))
        log.debug("zendesk.page_read", tickets=len(tickets), end_of_stream=page["end_of_stream"])
        return ExportPage(tickets, str(page["after_cursor"] or cursor or ""), bool(
            page["end_of_stream"]))

    def fetch_ticket(self, ticket_id: int) -> Ticket | None:
        """The ticket as Zendesk has it now, metric set included; None once it is deleted."""

        def fetch() -> dict[str, Any] | None:
            response = self._session.get(
                f"{self._origin}/api/v2/tickets/{ticket_id}.json",
                params={"include": ",".join(SIDELOADS)},
            )
            if response.status_code == 404:
                return None
            response.raise_for_status()
            return dict(response.json())

        found = self._call("fetch_ticket", fetch)
        if found is None:
            return None
        tickets = self._to_tickets({**found, "tickets": [found["ticket"]]})
        if not tickets:
            raise PermanentError(_SERVICE, f"ticket {ticket_id} could not be read")
        return tickets[0]

    def has_note(self, ticket_id: int, marker: str) -> bool:
        """Whether a comment on the ticket contains `marker` (a note's marker or a reply's whole
        text, whitespace aside): did an earlier attempt land?"""

        def search() -> bool:
            comments = self._client.tickets.comments(ticket=ticket_id)
            # plain_body is Zendesk's rendering of the comment; zenpy sets it only when sent.
            return any(contains_text(text, marker) for comment in comments
                       for text in (comment.body, getattr(comment, "plain_body", None)))

        return self._call("has_note", search)

    def _to_tickets(self, page: Mapping[str, Any]) -> list[Ticket]:
        raws = [raw for raw in page.get("tickets", []) if isinstance(raw, Mapping)]
        emails = {u["id"]: u.get("email") for u in page.get("users", [])}
        for raw in raws:
            assignee = raw.get("assignee_id")
            if isinstance(assignee, int) and assignee not in emails:
                # Side-loads name every user a ticket refers to; should one be missing, an
                # assigned ticket must still not read as unassigned.
                emails[assignee] = self._lookups.user_email(assignee)
        orgs = {o["id"]: o.get("name") for o in page.get("organizations", [])}
        groups = {g["id"]: g.get("name") for g in page.get("groups", [])}
        metrics = {m["ticket_id"]: m for m in page.get("metric_sets", [])}
        valued = valued_field_ids(raws)
        fields = self._lookups.fields(valued) if valued else {}
        tickets = []
        for raw in raws:
            try:
                tickets.append(self._to_ticket(
                    raw, emails=emails, orgs=orgs, groups=groups, metrics=metrics, fields=fields))
            except (KeyError, TypeError, ValueError) as error:
                # One malformed ticket must not stop the export; it is reported and passed over.
                log.error("zendesk.ticket_malformed", ticket_id=raw.get("id"), error=str(error))
        return tickets

    def _to_ticket(
        self,
        raw: Mapping[str, Any],
        *,
        emails: Mapping[int, str | None],
        orgs: Mapping[int, str | None],
        groups: Mapping[int, str | None],
        metrics: Mapping[int, Mapping[str, Any]],
        fields: Mapping[int, TicketField],
    ) -> Ticket:
        created = _parse_time(raw["created_at"])
        updated = _parse_time(raw["updated_at"])
        if created is None or updated is None:
            raise ValueError("ticket without created_at/updated_at")
        metric = metrics.get(raw["id"], {})
        reply_minutes = (metric.get("reply_time_in_minutes") or {}).get("calendar")
        return Ticket(
            id=int(raw["id"]),
            subject=str(raw.get("subject") or ""),
            description=str(raw.get("description") or ""),
            status=str(raw.get("status") or "new"),
            priority=raw.get("priority"),
            tags=frozenset(raw.get("tags") or ()),
            channel=str((raw.get("via") or {}).get("channel") or "unknown"),
            requester_email=emails.get(raw.get("requester_id") or 0),
            organization=orgs.get(raw.get("organization_id") or 0),
            group=groups.get(raw.get("group_id") or 0),
            created_at=created,
            updated_at=updated,
            web_url=self.ticket_url(int(raw["id"])),
            first_reply_at=None
            if reply_minutes is None
            else created + timedelta(minutes=int(reply_minutes)),
            solved_at=_parse_time(metric.get("solved_at")),
            assignee=emails.get(raw.get("assignee_id") or 0),
            custom_fields=custom_field_pairs(raw.get("custom_fields") or (), fields),
            last_customer_update_at=_parse_time(metric.get("requester_updated_at")),
            replies=int(metric.get("replies") or 0),
        )

    def group_id(self, name: str) -> int:
        """The id of the group called `name`; PermanentError when no such group exists."""
        return self._lookups.group_id(name)

    def agent_id(self, email: str) -> int:
        """The id of the agent or admin with `email`; PermanentError when none has it."""
        return self._lookups.agent_id(email)

    def field_titles(self) -> frozenset[str]:
        """The titles of every custom ticket field: the names a policy may match on."""
        return self._lookups.field_titles()

    def update_ticket(self, ticket: Ticket, changes: Sequence[ZendeskAction]) -> datetime:
        """Apply `changes` with safe_update, so an agent's newer edit is never lost; return the
        ticket's new updated_at (the stamp for a following update). One update, or two when a
        public reply and internal notes go together (Zendesk takes one comment per update)."""
        updates = build_updates(changes, group_id=self.group_id, agent_id=self.agent_id)
        stamp = ticket.updated_at
        for sent, update in enumerate(updates):
            try:
                stamp = self._send(ticket.id, update, stamp)
            except ServiceError as error:
                if not sent or isinstance(error, OutcomeUnknownError):
                    raise
                # The reply is on the ticket, the notes may not be: the next pass must look
                # (reconcile) before sending anything again, never repeat the reply.
                log.warning("zendesk.update_partly_applied", ticket_id=ticket.id,
                            error=str(error))
                raise OutcomeUnknownError(
                    _SERVICE, f"the public reply was added; the notes after it failed: {error}",
                    status=error.status) from error
        return stamp

    def _send(self, ticket_id: int, update: TicketUpdate, stamp: datetime) -> datetime:
        """One safe update; return the ticket's new updated_at."""
        put = ZenpyTicket(id=ticket_id)
        for name, value in update.fields.items():
            setattr(put, name, value)
        if update.comment is not None:
            put.comment = Comment(body=update.comment.body, public=update.comment.public)
        put.safe_update = True
        put.updated_stamp = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
        # A comment is the one change that is not idempotent: safe_update cannot refuse a
        # retry when the lost first write landed within the same second (updated_at has whole
        # seconds), so an update carrying one is sent once and reconciled by its text.
        audit = self._call("update_ticket", lambda: self._client.tickets.update(put),
                           once=update.comment is not None)
        stamped = _parse_time(audit.ticket.to_dict()["updated_at"])
        if stamped is None:
            raise PermanentError(_SERVICE, "update answered without updated_at")
        return stamped
