"""Zendesk through zenpy: the incremental export in, safe ticket updates out.

zenpy objects stay in this module and its helpers (zendesk_http: the HTTP seam,
zendesk_lookup: names and their ids, zendesk_update: changes as updates,
zendesk_safe_update: one ticket's update sent); the rest of afterhours sees `Ticket` and
`ExportPage`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import structlog
from zenpy import Zenpy
from zenpy.lib.exception import APIException, ZenpyException

from afterhours.adapters.comments import contains_text
from afterhours.adapters.ports import ExportPage, MalformedTicket, TicketWrite, WriteResult
from afterhours.adapters.unsent import surely_unsent
from afterhours.adapters.zendesk_articles import search_articles
from afterhours.adapters.zendesk_batch import ZendeskBatch
from afterhours.adapters.zendesk_http import BaseUrlTransport, classify, export_body, json_object
from afterhours.adapters.zendesk_jobs import JobPolling
from afterhours.adapters.zendesk_lookup import ZendeskLookups, valued_field_ids
from afterhours.adapters.zendesk_parse import (
    UNREADABLE,
    items_of,
    optional_text,
    read_ticket,
    records_by_id,
    ref_of,
    short_error,
    ticket_id_of,
)
from afterhours.adapters.zendesk_safe_update import update_ticket
from afterhours.adapters.zendesk_sync import customer_comments
from afterhours.breaker import CircuitBreaker, guarded
from afterhours.budget_gate import BudgetGate
from afterhours.domain.actions import ZendeskAction
from afterhours.domain.model import Article, Ticket
from afterhours.domain.sync_model import CustomerComment
from afterhours.errors import (
    MalformedTicketError,
    OutcomeUnknownError,
    PermanentError,
    TransientError,
)
from afterhours.ops.metrics import Metrics
from afterhours.retrying import RetryPolicy, call_with_retries

T = TypeVar("T")
log = structlog.get_logger()
SIDELOADS = ["metric_sets", "users", "organizations", "groups"]
EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
_SERVICE = "zendesk"


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
        breaker: CircuitBreaker | None = None,
        metrics: Metrics | None = None,
        gate: BudgetGate | None = None,
        clock: Callable[[], float] = time.monotonic,
        job_polling: JobPolling | None = None,
    ) -> None:
        """`gate`: the rate budget every request passes; `clock`: seconds, for how long
        looked-up names are kept; `job_polling`: how update_many jobs are followed."""
        self.base_url = base_url.rstrip("/")
        host = urlsplit(self.base_url).hostname or ""
        # A real account's URL names its subdomain; anything else (a twin) gets a stand-in.
        subdomain = host.split(".")[0] if host.endswith(".zendesk.com") else "afterhours"
        session = self._session = requests.Session()
        origin = f"https://{subdomain}.zendesk.com"
        session.mount(origin, BaseUrlTransport(origin, self.base_url, timeout, metrics, gate))
        self._origin = origin
        # zenpy sends its own timeout (60 s) with every request; BaseUrlTransport puts ours
        # in its place whatever it says, and zenpy is told ours too.
        self._client = Zenpy(
            subdomain=subdomain, email=email, token=token, session=session, disable_cache=True,
            timeout=timeout,
        )
        self._retry = retry or RetryPolicy()
        self._breaker = breaker
        self._page_size = page_size
        self._lookups = ZendeskLookups(self._client, self._call, clock)
        self._batch = ZendeskBatch(
            session, origin, ",".join(SIDELOADS), self._call, self._to_tickets, self.fetch_ticket,
            self.group_id, self.agent_id, self._retry, job_polling or JobPolling())

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()

    def _call(self, operation: str, fn: Callable[[], T], *, once: bool = False) -> T:
        """Run `fn` under the retry policy and Zendesk's breaker. With `once` (a write that must
        not repeat), one attempt, and a failure that may have reached Zendesk is
        OutcomeUnknownError."""

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

        # Every attempt goes through Zendesk's breaker: once open, none reaches the network.
        through_breaker = guarded(self._breaker, attempt)
        if once:
            return through_breaker()
        return call_with_retries(self._retry, f"zendesk.{operation}", through_breaker)

    def ticket_url(self, ticket_id: int) -> str:
        """Where an agent opens the ticket."""
        return f"{self.base_url}/agent/tickets/{ticket_id}"

    def organization_url(self, organization_id: int) -> str:
        """Where an agent opens an organization."""
        return f"{self.base_url}/agent/organizations/{organization_id}"

    def export_page(self, cursor: str | None, start_time: datetime) -> ExportPage:
        """One page of the cursor-based incremental export, with metric sets side-loaded; the
        tickets on it that cannot be read are listed beside the others, never dropped."""

        def fetch() -> dict[str, Any]:
            params: dict[str, Any] = {"include": ",".join(SIDELOADS), "per_page": self._page_size}
            if cursor:
                params["cursor"] = cursor
            else:
                params["start_time"] = int(start_time.timestamp())
            # Read raw: zenpy would turn the page into objects and hide the cursor, and fetch
            # the side-loads one call at a time; the raw page has both.
            response = self._session.get(f"{self._origin}{EXPORT_PATH}", params=params)
            response.raise_for_status()
            return export_body(response)

        page = self._call("export_page", fetch)
        tickets, malformed = self._to_tickets(page)
        log.debug("zendesk.page_read", tickets=len(tickets), malformed=len(malformed),
                  end_of_stream=page["end_of_stream"])
        return ExportPage(tuple(tickets), str(page.get("after_cursor") or cursor or ""),
                          page["end_of_stream"], tuple(malformed))

    def fetch_ticket(self, ticket_id: int) -> Ticket | None:
        """The ticket as Zendesk has it now, metric set included; None once it is deleted;
        MalformedTicketError when it cannot be read."""

        def fetch() -> dict[str, Any] | None:
            response = self._session.get(
                f"{self._origin}/api/v2/tickets/{ticket_id}.json",
                params={"include": ",".join(SIDELOADS)},
            )
            if response.status_code == 404:
                return None
            response.raise_for_status()
            return json_object(response)

        found = self._call("fetch_ticket", fetch)
        if found is None:
            return None
        tickets, malformed = self._to_tickets({**found, "tickets": [found.get("ticket")]})
        if not tickets:
            reason = malformed[0].error if malformed else "the answer holds no ticket"
            raise MalformedTicketError(_SERVICE, f"ticket {ticket_id} cannot be read: {reason}")
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

    def _to_tickets(
        self, page: Mapping[str, Any]
    ) -> tuple[list[Ticket], list[MalformedTicket]]:
        """The page's tickets, and those that could not be read (see zendesk_parse)."""
        listed = items_of(page.get("tickets"))
        raws = [raw for raw in listed if isinstance(raw, Mapping)]
        malformed = [MalformedTicket(None, "a ticket on the page is not a JSON object")
                     for raw in listed if not isinstance(raw, Mapping)]
        emails = {i: optional_text(u.get("email"))
                  for i, u in records_by_id(page.get("users")).items()}
        for raw in raws:
            assignee = ref_of(raw.get("assignee_id"))
            if assignee and assignee not in emails:
                # Side-loads name every user a ticket refers to; should one be missing, an
                # assigned ticket must still not read as unassigned.
                emails[assignee] = self._lookups.user_email(assignee)
        orgs = {i: optional_text(o.get("name"))
                for i, o in records_by_id(page.get("organizations")).items()}
        groups = {i: optional_text(g.get("name"))
                  for i, g in records_by_id(page.get("groups")).items()}
        metrics = records_by_id(page.get("metric_sets"), "ticket_id")
        valued = valued_field_ids(raws)
        fields = self._lookups.fields(valued) if valued else {}
        tickets = []
        for raw in raws:
            try:
                tickets.append(read_ticket(
                    raw, web_url=self.ticket_url, emails=emails, orgs=orgs, groups=groups,
                    metrics=metrics, fields=fields, organization_url=self.organization_url))
            except UNREADABLE as error:
                # Listed, never dropped: the service re-reads it and quarantines it if need be
                # (its ticket.quarantined is the error line; this says what was seen).
                bad = MalformedTicket(ticket_id_of(raw), short_error(error))
                log.warning("zendesk.ticket_malformed", ticket_id=bad.ticket_id,
                            error=bad.error)
                malformed.append(bad)
        return tickets, malformed

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
        ticket's new updated_at (see the port and zendesk_safe_update)."""
        return update_ticket(self._client, self._call, ticket, changes,
                             group_id=self.group_id, agent_id=self.agent_id)

    def fetch_tickets(self, ticket_ids: Sequence[int]) -> dict[int, Ticket | None]:
        """Several tickets as they are now, by show_many (see the port and zendesk_batch)."""
        return self._batch.fetch_tickets(ticket_ids)

    def update_tickets(self, writes: Sequence[TicketWrite]) -> list[WriteResult]:
        """Apply each write with safe_update, by update_many jobs (see zendesk_batch)."""
        return self._batch.update_tickets(writes)

    def customer_comments(self, ticket_id: int, since: datetime | None) -> list[CustomerComment]:
        """The requester's public comments after `since` (see the port; zendesk_sync)."""
        return customer_comments(self._client, self._call, ticket_id, since)

    def search_articles(self, query: str, locale: str | None) -> list[Article]:
        """Help-center articles for `query` (see the port; zendesk_articles)."""
        return search_articles(self._session, self._origin, query, locale)
