"""Webhook deliveries as Zendesk and Jira send them, from the twins' state: to a URL, signed
with a secret, so push mode is tested over real HTTP. Anything can be sent wrong on purpose:
a duplicate (send again), a late one (`signed_at` long ago), a bad signature, another body.

Signatures are computed here as the vendors document them, not by afterhours' verifier, so
a mistake in one is not hidden by the same mistake in the other:
Zendesk `base64(HMAC-SHA256(secret, timestamp + body))` with the timestamp in
`X-Zendesk-Webhook-Signature-Timestamp`; Jira `sha256=<hex HMAC-SHA256(secret, body)>` in
`X-Hub-Signature`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from afterhours.twins.zendesk_shapes import iso

if TYPE_CHECKING:
    from afterhours.twins.jira import JiraTwin
    from afterhours.twins.zendesk import ZendeskTwin

ACCOUNT_ID = 9242270
EVENT_VERSION = "2022-11-06"
TIMEOUT = 10.0  # Zendesk gives up on an endpoint after about 10 s


class ZendeskWebhook:
    """A webhook of the twin's account: `events` kind (subscribed to ticket events) or
    `trigger` kind (connected to a trigger whose JSON body is {"ticket_id": "{{ticket.id}}"})."""

    def __init__(self, twin: ZendeskTwin, url: str, secret: str, *, kind: str = "events") -> None:
        if kind not in ("events", "trigger"):
            raise ValueError(f"unknown webhook kind {kind!r}: events or trigger")
        self.twin, self.url, self.secret, self.kind = twin, url, secret, kind
        self.webhook_id = uuid.uuid4().hex[:26].upper()

    def body(self, ticket_id: int, event_type: str = "zen:event-type:ticket.created") -> bytes:
        """What this webhook sends about the ticket as it is now."""
        if self.kind == "trigger":
            return json.dumps({"ticket_id": str(ticket_id)}).encode()
        ticket = self.twin.ticket(ticket_id)
        detail: dict[str, Any] = {name: _text(ticket.get(name)) for name in (
            "id", "assignee_id", "group_id", "organization_id", "requester_id", "submitter_id",
            "brand_id", "external_id")}
        detail.update({
            "subject": ticket["subject"], "description": ticket["description"],
            "status": str(ticket["status"]).upper(), "priority": _upper(ticket["priority"]),
            "type": _upper(ticket.get("type")), "tags": ticket["tags"],
            "created_at": ticket["created_at"], "updated_at": ticket["updated_at"],
            "via": {"channel": ticket["via"]["channel"]}, "is_public": True})
        event = {"type": event_type, "account_id": ACCOUNT_ID, "id": str(uuid.uuid4()),
                 "time": iso(self.twin.state.clock()), "zendesk_event_version": EVENT_VERSION,
                 "subject": f"zen:ticket:{ticket_id}", "detail": detail,
                 "event": {"meta": {"sequence": {"id": uuid.uuid4().hex, "position": 1}}}}
        return json.dumps(event).encode()

    def send(self, ticket_id: int, *, event_type: str = "zen:event-type:ticket.created",
             signed_at: datetime | None = None, secret: str | None = None) -> httpx.Response:
        """Deliver about the ticket, signed at `signed_at` (default: the twin's now) with
        `secret` (default: the webhook's; another one makes a bad signature)."""
        return self.deliver(self.body(ticket_id, event_type), signed_at=signed_at,
                            secret=secret)

    def deliver(self, body: bytes, *, signed_at: datetime | None = None,
                secret: str | None = None, signature: str | None = None,
                headers: dict[str, str] | None = None) -> httpx.Response:
        """POST `body` as Zendesk would; `signature` replaces the computed one ("" sends
        none), `headers` replace or add headers."""
        stamp = iso(signed_at or self.twin.state.clock())
        if signature is None:
            digest = hmac.new((secret or self.secret).encode(), stamp.encode() + body,
                              hashlib.sha256).digest()
            signature = base64.b64encode(digest).decode("ascii")
        sent = {"Content-Type": "application/json", "User-Agent": "Zendesk Webhook",
                "X-Zendesk-Account-Id": str(ACCOUNT_ID), "X-Zendesk-Webhook-Id": self.webhook_id,
                "X-Zendesk-Webhook-Invocation-Id": str(uuid.uuid4().int % 10**10),
                "X-Zendesk-Webhook-Signature-Timestamp": stamp}
        if signature:
            sent["X-Zendesk-Webhook-Signature"] = signature
        return _post(self.url, body, {**sent, **(headers or {})})


class JiraWebhook:
    """An admin webhook of the Jira twin, with a secret: issue events signed as WebSub does."""

    def __init__(self, twin: JiraTwin, url: str, secret: str) -> None:
        self.twin, self.url, self.secret = twin, url, secret

    def body(self, key: str, event: str = "jira:issue_updated") -> bytes:
        """What Jira sends about the issue as it is now."""
        issue = self.twin.issue(key)
        payload: dict[str, Any] = {
            "timestamp": int(self.twin.clock().timestamp() * 1000), "webhookEvent": event,
            "issue_event_type_name": "issue_generic", "issue": issue,
            "user": {"accountId": "557058:engineer", "displayName": "Engineer"}
            if self.twin.deployment_type == "Cloud" else self.twin.person("Engineer")}
        if event == "jira:issue_updated":
            status = issue["fields"]["status"]["name"]
            payload["changelog"] = {"id": "10000", "items": [
                {"field": "status", "fieldtype": "jira", "toString": status}]}
        return json.dumps(payload).encode()

    def send(self, key: str, event: str = "jira:issue_updated", *,
             secret: str | None = None) -> httpx.Response:
        """Deliver the issue event, signed with `secret` (default: the webhook's)."""
        return self.deliver(self.body(key, event), secret=secret)

    def deliver(self, body: bytes, *, secret: str | None = None,
                signature: str | None = None) -> httpx.Response:
        """POST `body` as Jira would; `signature` replaces the computed one ("" sends none)."""
        if signature is None:
            signature = "sha256=" + hmac.new((secret or self.secret).encode(), body,
                                             hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json",
                   "X-Atlassian-Webhook-Identifier": str(uuid.uuid4())}
        if signature:
            headers["X-Hub-Signature"] = signature
        return _post(self.url, body, headers)


def _post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    # The twins talk to loopback only: no proxy from the environment.
    with httpx.Client(timeout=TIMEOUT, trust_env=False) as client:
        return client.post(url, content=body, headers=headers)


def _text(value: object) -> str | None:
    # Zendesk's event payloads give ids as strings.
    return None if value is None else str(value)


def _upper(value: object) -> str | None:
    return None if value is None else str(value).upper()
