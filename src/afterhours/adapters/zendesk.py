"""Zendesk through zenpy: the incremental export in, safe ticket updates out.

zenpy objects stay in this module; the rest of afterhours sees `Ticket` and `ExportPage`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import structlog
from requests.adapters import HTTPAdapter
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment
from zenpy.lib.api_objects import Ticket as ZenpyTicket
from zenpy.lib.exception import APIException, ZenpyException

from afterhours.adapters.ports import ExportPage
from afterhours.adapters.unsent import surely_unsent
from afterhours.domain.actions import (
    AddInternalNote,
    AddTags,
    AssignGroup,
    SetPriority,
    ZendeskAction,
)
from afterhours.domain.model import Ticket
from afterhours.errors import (
    OutcomeUnknownError,
    PermanentError,
    TransientError,
    error_for_status,
)
from afterhours.retrying import RetryPolicy, call_with_retries, parse_retry_after

T = TypeVar("T")
log = structlog.get_logger()
SIDELOADS = ["metric_sets", "users", "organizations", "groups"]
_SERVICE = "zendesk"


class _BaseUrlTransport(HTTPAdapter):
    """Sends zenpy's https://{subdomain}.zendesk.com requests to the configured base URL.

    zenpy can only build Zendesk-cloud URLs (or read a process-wide environment override);
    rewriting here keeps each client pointed at its own server. It also stops zenpy's
    sleep-forever loop on 429 by raising before zenpy sees the answer.
    """

    def __init__(self, origin: str, base_url: str, timeout: float) -> None:
        super().__init__(max_retries=0)  # retries belong to afterhours.retrying alone
        self._origin = origin
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        original = request.url or ""
        if original.startswith(self._origin):
            request.url = self._base_url + original[len(self._origin) :]
        kwargs["timeout"] = kwargs.get("timeout") or self._timeout
        response = super().send(request, **kwargs)
        # zenpy picks its response handler by finding its own host in the request URL.
        request.url = response.url = original
        if response.status_code == 429:
            raise TransientError(
                _SERVICE, "rate limited (429)", status=429,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        return response


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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        host = urlsplit(self.base_url).hostname or ""
        # A real account's URL names its subdomain; anything else (a twin) gets a stand-in.
        subdomain = host.split(".")[0] if host.endswith(".zendesk.com") else "afterhours"
        session = self._session = requests.Session()
        origin = f"https://{subdomain}.zendesk.com"
        session.mount(origin, _BaseUrlTransport(origin, self.base_url, timeout))
        self._origin = origin
        self._client = Zenpy(
            subdomain=subdomain, email=email, token=token, session=session, disable_cache=True
        )
        self._retry = retry or RetryPolicy()
        self._page_size = page_size
        self._groups: dict[str, int] = {}

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
                raise _classify(error.response, str(error), once=once) from error
            except requests.HTTPError as error:
                raise _classify(error.response, str(error), once=once) from error
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
        """Whether a comment on the ticket contains `marker`: did an earlier attempt land?"""

        def search() -> bool:
            comments = self._client.tickets.comments(ticket=ticket_id)
            return any(marker in (comment.body or "") for comment in comments)

        return self._call("has_note", search)

    def _to_tickets(self, page: Mapping[str, Any]) -> list[Ticket]:
        emails = {u["id"]: u.get("email") for u in page.get("users", [])}
        orgs = {o["id"]: o.get("name") for o in page.get("organizations", [])}
        groups = {g["id"]: g.get("name") for g in page.get("groups", [])}
        metrics = {m["ticket_id"]: m for m in page.get("metric_sets", [])}
        tickets = []
        for raw in page.get("tickets", []):
            try:
                tickets.append(self._to_ticket(raw, emails, orgs, groups, metrics))
            except (KeyError, TypeError, ValueError) as error:
                # One malformed ticket must not stop the export; it is reported and passed over.
                log.error("zendesk.ticket_malformed", ticket_id=raw.get("id"), error=str(error))
        return tickets

    def _to_ticket(
        self,
        raw: Mapping[str, Any],
        emails: Mapping[int, str | None],
        orgs: Mapping[int, str | None],
        groups: Mapping[int, str | None],
        metrics: Mapping[int, Mapping[str, Any]],
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
        )

    def group_id(self, name: str) -> int:
        """The id of the group called `name`; PermanentError when no such group exists."""
        if name not in self._groups:
            found = self._call("groups", lambda: [(g.name, g.id) for g in self._client.groups()])
            self._groups = dict(found)
        if name not in self._groups:
            raise PermanentError(_SERVICE, f"no group named {name!r}")
        return self._groups[name]

    def update_ticket(self, ticket: Ticket, changes: Sequence[ZendeskAction]) -> datetime:
        """Apply `changes` in one PUT with safe_update, so an agent's newer edit is never lost;
        return the ticket's new updated_at (the stamp for a following update)."""
        update = ZenpyTicket(id=ticket.id)
        tags: list[str] = []
        notes: list[str] = []
        for change in changes:
            if isinstance(change, SetPriority):
                update.priority = change.priority
            elif isinstance(change, AddTags):
                tags += [t for t in change.tags if t not in tags]
            elif isinstance(change, AssignGroup):
                # The later one wins: the planner orders escalations after routes, so a ladder's
                # group overrides the route's when both fall due in one plan.
                update.group_id = self.group_id(change.group)
            elif isinstance(change, AddInternalNote):
                notes.append(change.body)
        if tags:
            # additional_tags adds to what is there; `tags` would replace an agent's tags.
            update.additional_tags = tags
        if notes:
            # Zendesk takes one comment per update.
            update.comment = Comment(body="\n\n".join(notes), public=False)
        update.safe_update = True
        update.updated_stamp = ticket.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        # A note is the one change that is not idempotent: safe_update cannot refuse a retry
        # when the lost first write landed within the same second (updated_at has whole
        # seconds), so an update carrying one is sent once and reconciled by its marker.
        audit = self._call("update_ticket", lambda: self._client.tickets.update(update),
                           once=bool(notes))
        stamped = _parse_time(audit.ticket.to_dict()["updated_at"])
        if stamped is None:
            raise PermanentError(_SERVICE, "update answered without updated_at")
        return stamped


def _classify(response: requests.Response | None, message: str, *, once: bool) -> Exception:
    status = None if response is None else response.status_code
    error = error_for_status(
        _SERVICE, status, message,
        retry_after=None if response is None else parse_retry_after(
            response.headers.get("Retry-After")),
    )
    if once and isinstance(error, TransientError) and status != 429:
        # A 5xx may come after the write was stored; only a 429 surely was not.
        return OutcomeUnknownError(_SERVICE, message, status=status)
    return error
