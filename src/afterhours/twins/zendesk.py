"""A stateful twin of the Zendesk Support REST API, for zenpy to talk to over real HTTP.

It serves the endpoints the daemon uses (users and their search, organizations, groups,
ticket fields, tickets one by one and in bulk (show_many, update_many and its job statuses),
tags, comments, the cursor-based incremental ticket export with side-loads, and ticket
search) from in-memory
state. Tests and demos seed it and act as people through the methods below; time comes
from an injected clock so nights can run accelerated.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from afterhours.twins._http import HttpError, Request, Response, Twin, TwinServer
from afterhours.twins.webhooks import ZendeskWebhook
from afterhours.twins.zendesk_bulk import (
    JOB_STATUS,
    JOB_STATUSES,
    SHOW_MANY,
    UPDATE_MANY,
    Jobs,
    show_many,
)
from afterhours.twins.zendesk_export import PATH as EXPORT_PATH
from afterhours.twins.zendesk_export import SIDELOADS, export_page, sideloads
from afterhours.twins.zendesk_help_center import ZendeskHelpCenter
from afterhours.twins.zendesk_schedules import ZendeskSchedules
from afterhours.twins.zendesk_search import PATH as SEARCH_PATH
from afterhours.twins.zendesk_search import search_page
from afterhours.twins.zendesk_shapes import Json, not_found, paginate, record_invalid
from afterhours.twins.zendesk_state import ZendeskState

Clock = Callable[[], datetime]
SHOW_TICKET = "/api/v2/tickets/{id}.json"

__all__ = ["Clock", "ZendeskTwin"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _id(request: Request) -> int:
    value = request.params["id"]
    if not value.isdigit():
        raise not_found()
    return int(value)


def _included(request: Request) -> list[str]:
    """The side-loads `include=` asks for that the twin serves."""
    names = [name.strip() for name in (request.arg("include") or "").split(",")]
    return [name for name in names if name in SIDELOADS]


def _body(request: Request, key: str) -> Any:
    if not isinstance(request.body, dict) or key not in request.body:
        raise record_invalid({key: "is required"})
    return request.body[key]


class ZendeskTwin(Twin):
    """Zendesk Support for one account ("acme" by default) on 127.0.0.1."""

    def __init__(self, clock: Clock | None = None, *, subdomain: str = "acme") -> None:
        self.state = ZendeskState(clock or _utc_now, subdomain)
        self.server = TwinServer("zendesk")
        # ticket id -> (values to serve instead, fields to leave out): see corrupt_ticket.
        self._corruptions: dict[int, tuple[dict[str, object], tuple[str, ...]]] = {}
        self._register()

    @property
    def me(self) -> Json:
        """The API user (an admin) every API call acts as."""
        with self.server.lock:
            return copy.deepcopy(self.state.users[self.state.me_id])

    # -- seeding and people ----------------------------------------------------------------

    def add_organization(self, name: str, *, tags: Sequence[str] = ()) -> Json:
        """Create an organization; return its JSON."""
        with self.server.lock:
            return copy.deepcopy(self.state.add_organization(name, tags))

    def add_group(self, name: str) -> Json:
        """Create a group; return its JSON."""
        with self.server.lock:
            return copy.deepcopy(self.state.add_group(name))

    def add_user(self, name: str, email: str, *, role: str = "end-user",
                 organization_id: int | None = None) -> Json:
        """Create a user ("end-user", "agent" or "admin"); return its JSON."""
        with self.server.lock:
            return copy.deepcopy(self.state.add_user(
                name, email, role=role, organization_id=organization_id))

    def add_ticket_field(self, title: str, *, field_type: str = "text",
                         options: Sequence[tuple[str, str]] = ()) -> Json:
        """Declare a custom ticket field ("text", "checkbox", "tagger" for a dropdown,
        "multiselect"...); `options` are a dropdown's (name, value) pairs. Return its JSON."""
        with self.server.lock:
            return copy.deepcopy(self.state.add_ticket_field(title, field_type, options))

    def create_ticket(self, *, subject: str, description: str, requester_id: int,
                      priority: str | None = None, tags: Sequence[str] = (),
                      channel: str = "email", group_id: int | None = None,
                      custom_fields: Mapping[int, object] | None = None,
                      created_at: datetime | None = None) -> Json:
        """Open a ticket as its requester would; `created_at` back-dates it (default: now)."""
        with self.server.lock:
            return self.state.create_ticket(
                subject=subject, description=description, requester_id=requester_id,
                priority=priority, tags=tags, channel=channel, group_id=group_id,
                custom_fields=custom_fields, created_at=created_at)

    def clone_tickets(self, source_ids: Sequence[int]) -> list[int]:
        """Copy each ticket (comments and metric set too) under a new id, at its source's place
        in the export; return the new ids. Seeds large accounts for benchmarks in bulk."""
        with self.server.lock:
            return [self.state.clone_ticket(source) for source in source_ids]

    def add_comment(self, ticket_id: int, body: str, *, author_id: int,
                    public: bool = True) -> Json:
        """Comment as `author_id`; a public agent comment is a reply in the metric set."""
        with self.server.lock:
            try:
                return self.state.add_comment(ticket_id, body, author_id=author_id,
                                              public=public)
            except HttpError as error:
                raise ValueError(error.response.body) from error

    def agent_update(self, ticket_id: int, **fields: object) -> Json:
        """Edit a ticket as an agent would, with the API's fields (status, tags, comment...).

        The author is `author_id` when given, else the ticket's assignee, else the API user.
        """
        with self.server.lock:
            try:
                ticket = self.state.ticket(ticket_id)
                author = fields.pop("author_id", None) or fields.get("assignee_id") or ticket[
                    "assignee_id"]
                updated, _ = self.state.update_ticket(
                    ticket_id, fields, author_id=author if isinstance(author, int) else None)
            except HttpError as error:
                raise ValueError(error.response.body) from error
            return updated

    def ticket(self, ticket_id: int) -> Json:
        """The ticket's current JSON (a copy)."""
        with self.server.lock:
            return copy.deepcopy(self.state.tickets[ticket_id])

    def comments(self, ticket_id: int) -> list[Json]:
        """The ticket's comments, oldest first (copies)."""
        with self.server.lock:
            return copy.deepcopy(self.state.comments[ticket_id])

    def metric_set(self, ticket_id: int) -> Json:
        """The ticket's metric set, as the export side-loads it."""
        with self.server.lock:
            return self.state.metrics[ticket_id].as_json()

    def webhook(self, url: str, secret: str, *, kind: str = "events") -> ZendeskWebhook:
        """A webhook of this account that delivers to `url`, signed with `secret`: `events`
        (subscribed to ticket events) or `trigger` (a trigger's {"ticket_id": ...} body)."""
        return ZendeskWebhook(self, url, secret, kind=kind)

    # -- injected faults -------------------------------------------------------------------

    def corrupt_ticket(self, ticket_id: int, *, remove: Sequence[str] = (),
                       **fields: object) -> None:
        """Serve the ticket malformed, in the export and on GET /tickets/{id}.json, until
        `repair_ticket`: `fields` replace values as sent (tags=5, created_at="soon"), `remove`
        leaves fields out (remove=("created_at",)). The ticket itself is unchanged: agents
        still edit it and the export still lists it when it changes."""
        with self.server.lock:
            if ticket_id not in self.state.tickets:
                raise ValueError(f"unknown ticket {ticket_id}")
            self._corruptions[ticket_id] = (copy.deepcopy(fields), tuple(remove))

    def repair_ticket(self, ticket_id: int) -> None:
        """Serve the ticket as it is again."""
        with self.server.lock:
            self._corruptions.pop(ticket_id, None)

    def _corrupted(self, response: Response, endpoint: str) -> Response:
        """Break the tickets `corrupt_ticket` named, saying where (`Response.injected`)."""
        body = response.body
        if not self._corruptions or not isinstance(body, dict):
            return response
        listed = ([("body.ticket", body["ticket"])] if "ticket" in body
                  else [(f"body.tickets.{n}", t) for n, t in enumerate(body.get("tickets", []))])
        injected: list[str] = []
        for where, ticket in listed:
            fault = self._corruptions.get(ticket.get("id"))
            if fault is None:
                continue
            fields, removed = fault
            for name in removed:
                ticket.pop(name, None)
            ticket.update(copy.deepcopy(fields))
            injected += [f"{where}.{name}" for name in (*removed, *fields)]
            self.server.faults.note("malformed", endpoint)
        response.injected = tuple(injected)
        return response

    # -- HTTP ------------------------------------------------------------------------------

    def _register(self) -> None:
        route, state = self.server.route, self.state

        def record(records: dict[int, Json], key: str) -> Callable[[Request], Response]:
            def show(request: Request) -> Response:
                found = records.get(_id(request))
                if found is None:
                    raise not_found()
                return Response(200, {key: copy.deepcopy(found)})

            return show

        # users/me and users/search first: "{id}" would match "me" and "search" too.
        route("GET", "/api/v2/users/me.json")(
            lambda request: Response(200, {"user": copy.deepcopy(state.users[state.me_id])}))
        route("GET", "/api/v2/users/search.json")(lambda request: Response(200, paginate(
            "users", copy.deepcopy(state.search_users(request.arg("query") or "")), request,
            self.base_url)))
        route("GET", "/api/v2/users/{id}.json")(record(state.users, "user"))
        route("GET", "/api/v2/organizations/{id}.json")(
            record(state.organizations, "organization"))
        route("GET", "/api/v2/groups/{id}.json")(record(state.groups, "group"))
        route("GET", "/api/v2/groups.json")(lambda request: Response(200, paginate(
            "groups", copy.deepcopy(list(state.groups.values())), request, self.base_url)))
        route("GET", "/api/v2/ticket_fields.json")(lambda request: Response(200, paginate(
            "ticket_fields", copy.deepcopy(list(state.fields.records.values())), request,
            self.base_url)))
        # show_many and update_many first: "{id}" would match them too.
        self.jobs = Jobs(state, lambda: self.base_url)
        route("GET", SHOW_MANY)(self._show_many)
        route("PUT", UPDATE_MANY)(self.jobs.update_many)
        route("GET", JOB_STATUSES)(self.jobs.show_many)  # before {id} would take it
        route("GET", JOB_STATUS)(self.jobs.show)
        route("GET", SHOW_TICKET)(self._show_ticket)
        route("PUT", "/api/v2/tickets/{id}.json")(self._update)
        route("GET", "/api/v2/tickets/{id}/comments.json")(lambda request: Response(
            200, paginate("comments", copy.deepcopy(state.comments[state.ticket(
                _id(request))["id"]]), request, self.base_url)))
        route("GET", "/api/v2/tickets/{id}/tags.json")(lambda request: Response(
            200, {"tags": list(state.ticket(_id(request))["tags"])}))
        route("PUT", "/api/v2/tickets/{id}/tags.json")(self._tags("additional_tags", 200))
        route("POST", "/api/v2/tickets/{id}/tags.json")(self._tags("tags", 201))
        route("DELETE", "/api/v2/tickets/{id}/tags.json")(self._tags("remove_tags", 204))
        route("GET", SEARCH_PATH)(
            lambda request: Response(200, search_page(state, request, self.base_url)))
        route("GET", EXPORT_PATH)(lambda request: self._corrupted(
            Response(200, export_page(state, request, self.base_url)), f"GET {EXPORT_PATH}"))
        self.schedules = ZendeskSchedules(self.server, state.clock)
        self.help_center = ZendeskHelpCenter(self.server, state.clock, lambda: self.base_url)

    def _show_ticket(self, request: Request) -> Response:
        ticket = copy.deepcopy(self.state.ticket(_id(request)))
        # Show Ticket side-loads like the list endpoints do (?include=metric_sets,users,...).
        loads = sideloads(self.state, [ticket], _included(request))
        return self._corrupted(Response(200, {"ticket": ticket, **loads}), f"GET {SHOW_TICKET}")

    def _show_many(self, request: Request) -> Response:
        tickets = show_many(self.state, request)["tickets"]
        loads = sideloads(self.state, tickets, _included(request))
        return self._corrupted(Response(200, {"tickets": tickets, **loads}), f"GET {SHOW_MANY}")

    def _update(self, request: Request) -> Response:
        changes = _body(request, "ticket")
        if not isinstance(changes, dict):
            raise record_invalid({"ticket": "must be an object"})
        ticket, audit = self.state.update_ticket(_id(request), changes)
        return Response(200, {"ticket": ticket, "audit": audit})

    def _tags(self, field: str, status: int) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            body = request.body if isinstance(request.body, dict) else {}
            changes = {field: _body(request, "tags"), **{
                key: body[key] for key in ("safe_update", "updated_stamp") if key in body}}
            ticket, _ = self.state.update_ticket(_id(request), changes)
            # The spec answers a removal with 204 and no body.
            return Response(status, None if status == 204 else {"tags": ticket["tags"]})

        return handle
