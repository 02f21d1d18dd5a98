"""The Zendesk twin's records and the rules that change them, shared by seeding and the API
(an API update's checks and field rules: zendesk_update_rules)."""

from __future__ import annotations

import bisect
import copy
import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from afterhours.twins.zendesk_fields import TicketFields
from afterhours.twins.zendesk_metrics import TicketMetrics
from afterhours.twins.zendesk_shapes import (
    AGENT_ROLES,
    CUSTOM_STATUS_IDS,
    PRIORITIES,
    Json,
    audit_json,
    comment_json,
    group_json,
    iso,
    not_found,
    organization_json,
    parse_iso,
    record_invalid,
    update_conflict,
    user_json,
    via,
)
from afterhours.twins.zendesk_update_rules import apply_fields, check_update, dedupe

Clock = Callable[[], datetime]
# Every Zendesk account has a default brand, and every ticket belongs to a brand: the live API
# never answers brand_id null (the spec declares it a non-nullable integer).
DEFAULT_BRAND_ID = 360000000001


class ZendeskState:
    """Users, organizations, groups, ticket fields, tickets, comments and metric sets."""

    def __init__(self, clock: Clock, subdomain: str) -> None:
        self.clock = clock
        self.api = f"https://{subdomain}.zendesk.com/api/v2"
        self._ids = itertools.count(90001)
        self._ticket_ids = itertools.count(1)
        self._changes = itertools.count(1)
        self.users: dict[int, Json] = {}
        self.organizations: dict[int, Json] = {}
        self.groups: dict[int, Json] = {}
        self.fields = TicketFields(self.api, clock)
        self.tickets: dict[int, Json] = {}
        self.comments: dict[int, list[Json]] = {}
        self.metrics: dict[int, TicketMetrics] = {}
        # (updated_at as unix seconds, change number): the order of the incremental export,
        # and every ticket in that order, so that an export finds its page by bisection
        # rather than by looking at every ticket (the benchmark's accounts hold 100,000).
        self.positions: dict[int, tuple[int, int]] = {}
        self.in_order: list[tuple[tuple[int, int], int]] = []
        self.me_id = self.add_user("afterhours bot", "bot@example.com", role="admin")["id"]

    # -- seeding ---------------------------------------------------------------------------

    def add_organization(self, name: str, tags: Sequence[str]) -> Json:
        """Create an organization."""
        org = organization_json(self.api, next(self._ids), name, tags, self.clock())
        self.organizations[org["id"]] = org
        return org

    def add_group(self, name: str) -> Json:
        """Create a group."""
        group = group_json(self.api, next(self._ids), name, self.clock())
        self.groups[group["id"]] = group
        return group

    def add_user(self, name: str, email: str, *, role: str = "end-user",
                 organization_id: int | None = None) -> Json:
        """Create a user."""
        if role not in ("end-user", *AGENT_ROLES):
            raise ValueError(f"unknown role {role!r}")
        if organization_id is not None and organization_id not in self.organizations:
            raise ValueError(f"unknown organization {organization_id}")
        user = user_json(self.api, next(self._ids), name, email=email, role=role,
                         organization_id=organization_id, now=self.clock())
        self.users[user["id"]] = user
        return user

    def add_ticket_field(self, title: str, field_type: str,
                         options: Sequence[tuple[str, str]]) -> Json:
        """Declare a custom ticket field; every ticket shows it, unset, from now on."""
        field = self.fields.add(title, field_type, options)
        for ticket in self.tickets.values():
            ticket["custom_fields"].append({"id": field["id"], "value": self.fields.blank(field)})
            ticket["fields"] = copy.deepcopy(ticket["custom_fields"])
        return field

    def search_users(self, query: str) -> list[Json]:
        """Users whose name or email contains `query` (an `email:` prefix is allowed), any case."""
        term = query.strip().strip('"').casefold().removeprefix("email:")
        return [user for user in self.users.values() if term and (
            term in user["name"].casefold() or term in (user["email"] or "").casefold())]

    def create_ticket(self, *, subject: str, description: str, requester_id: int,
                      priority: str | None, tags: Sequence[str], channel: str,
                      group_id: int | None, custom_fields: Mapping[int, object] | None,
                      created_at: datetime | None) -> Json:
        """Create a ticket whose description is the requester's first public comment."""
        requester = self.users.get(requester_id)
        if requester is None:
            raise ValueError(f"unknown requester {requester_id}")
        if priority is not None and priority not in PRIORITIES:
            raise ValueError(f"unknown priority {priority!r}")
        if group_id is not None and group_id not in self.groups:
            raise ValueError(f"unknown group {group_id}")
        now = created_at or self.clock()
        ticket_id = next(self._ticket_ids)
        values = {**self.fields.blank_values(), **(custom_fields or {})}
        fields = [{"id": key, "value": value} for key, value in values.items()]
        ticket: Json = {
            "id": ticket_id, "url": f"{self.api}/tickets/{ticket_id}.json", "external_id": None,
            "via": via(channel), "created_at": iso(now), "updated_at": iso(now),
            "generated_timestamp": int(now.timestamp()), "type": None, "subject": subject,
            "raw_subject": subject, "description": description, "priority": priority,
            "status": "new", "custom_status_id": CUSTOM_STATUS_IDS["new"], "recipient": None,
            "requester_id": requester_id, "submitter_id": requester_id, "assignee_id": None,
            "organization_id": requester["organization_id"], "group_id": group_id,
            "collaborator_ids": [], "follower_ids": [], "email_cc_ids": [],
            "forum_topic_id": None, "problem_id": None, "has_incidents": False,
            "is_public": True, "due_at": None, "tags": dedupe(tags), "custom_fields": fields,
            "fields": copy.deepcopy(fields), "satisfaction_rating": None,
            "sharing_agreement_ids": [], "followup_ids": [], "ticket_form_id": None,
            "brand_id": DEFAULT_BRAND_ID, "allow_channelback": False, "allow_attachments": True,
            "from_messaging_channel": False,
        }
        self.tickets[ticket_id] = ticket
        self.metrics[ticket_id] = TicketMetrics(
            next(self._ids), self.api, ticket_id, now, status="new", group_id=group_id,
            assignee_id=None)
        self.comments[ticket_id] = [comment_json(
            next(self._ids), description, author_id=requester_id, public=True,
            audit_id=next(self._ids), channel=channel, now=now)]
        self._touch(ticket, now)
        return copy.deepcopy(ticket)

    def add_comment(self, ticket_id: int, body: str, *, author_id: int, public: bool) -> Json:
        """Append a comment as `author_id` would, with Zendesk's reopening rule."""
        fields: Json = {"comment": {"body": body, "public": public, "author_id": author_id}}
        ticket = self.tickets.get(ticket_id)
        if ticket is not None and author_id == ticket["requester_id"] and ticket["status"] in (
                "pending", "solved"):
            # A requester answering a pending or solved ticket puts it back to the agents.
            fields["status"] = "open"
        self.update_ticket(ticket_id, fields, author_id=author_id)
        return copy.deepcopy(self.comments[ticket_id][-1])

    def clone_ticket(self, source_id: int) -> int:
        """Copy a ticket with its comments and metric set under a new id; return the id.

        Bulk seeding for benchmarks: the copy sits at the source's place in the export, as if
        both had changed together, so a daemon whose cursor is past the source never sees it
        as changed (its state is seeded the same way, see bench/seeding.py)."""
        source = self.ticket(source_id)
        ticket_id = next(self._ticket_ids)
        ticket = copy.deepcopy(source)
        ticket.update(id=ticket_id, url=f"{self.api}/tickets/{ticket_id}.json")
        comments = copy.deepcopy(self.comments[source_id])
        for comment in comments:
            comment["id"] = next(self._ids)
        metrics = copy.copy(self.metrics[source_id])
        metrics.metric_id = next(self._ids)
        metrics.url = f"{self.api}/ticket_metrics/{metrics.metric_id}.json"
        metrics.ticket_id = ticket_id
        self.tickets[ticket_id], self.comments[ticket_id] = ticket, comments
        self.metrics[ticket_id] = metrics
        self._place(ticket_id, self.positions[source_id])
        return ticket_id

    # -- updates ---------------------------------------------------------------------------

    def ticket(self, ticket_id: int) -> Json:
        """The ticket's record (not a copy), or a 404."""
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            raise not_found()
        return ticket

    def update_ticket(self, ticket_id: int, changes: Mapping[str, Any], *,
                      author_id: int | None = None) -> tuple[Json, Json]:
        """Apply an API update (`{"ticket": changes}`); return the ticket and its audit."""
        ticket = self.ticket(ticket_id)
        if changes.get("safe_update") in (True, "true"):
            stamp = parse_iso(changes.get("updated_stamp"))
            if stamp is None:
                raise record_invalid({"updated_stamp": "is required for a safe update"})
            if stamp != parse_iso(ticket["updated_at"]):
                raise update_conflict()
        comment = changes.get("comment")
        author = author_id or self.me_id
        if isinstance(comment, Mapping) and comment.get("author_id") is not None:
            author = comment["author_id"]
        check_update(ticket, changes, author, groups=self.groups, users=self.users)
        now = self.clock()
        audit_id = next(self._ids)
        events = apply_fields(ticket, changes, now, self.metrics[ticket["id"]], self._ids)
        if isinstance(comment, Mapping):
            events.append(self._append_comment(ticket, comment, author, audit_id, now))
        self._touch(ticket, now)
        audit = audit_json(audit_id, ticket_id, author, events, now)
        return copy.deepcopy(ticket), audit

    def _append_comment(self, ticket: Json, comment: Mapping[str, Any], author: int,
                        audit_id: int, now: datetime) -> Json:
        public = comment.get("public") is not False
        body = str(comment.get("body") or comment.get("html_body"))
        record = comment_json(next(self._ids), body, author_id=author, public=public,
                              audit_id=audit_id, channel="api", now=now)
        self.comments[ticket["id"]].append(record)
        self.metrics[ticket["id"]].on_comment(
            now, public=public, by_agent=self.users[author]["role"] in AGENT_ROLES,
            by_requester=author == ticket["requester_id"],
            by_assignee=author == ticket["assignee_id"])
        return {"id": record["id"], "type": "Comment", "author_id": author, "body": body,
                "html_body": record["html_body"], "plain_body": body, "public": public,
                "attachments": [], "audit_id": audit_id}

    def _touch(self, ticket: Json, now: datetime) -> None:
        ticket["updated_at"] = iso(now)
        ticket["generated_timestamp"] = int(now.timestamp())
        # The change number breaks ties between updates within one second, so a saved
        # cursor never skips a ticket changed in the same second after it was issued.
        self._place(ticket["id"], (int(now.timestamp()), next(self._changes)))

    def _place(self, ticket_id: int, position: tuple[int, int]) -> None:
        """Move a ticket to `position` in the export's order."""
        before = self.positions.get(ticket_id)
        if before is not None:
            del self.in_order[bisect.bisect_left(self.in_order, (before, ticket_id))]
        self.positions[ticket_id] = position
        bisect.insort(self.in_order, (position, ticket_id))
