"""PagerDuty v3 webhook deliveries from the PagerDuty twin: each responder's change to an
incident (acknowledged, resolved) POSTed to a URL, signed as PagerDuty documents it:
`X-PagerDuty-Signature: v1=<hex HMAC-SHA256(secret, raw body)>`, several comma-separated
while a secret is rotated. Computed here, not by afterhours' verifier, so a mistake in one
is not hidden by the same mistake in the other. Anything can be sent wrong on purpose.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import httpx

from afterhours.twins.zendesk_shapes import iso

if TYPE_CHECKING:
    from afterhours.twins.pagerduty import Incident, PagerDutyTwin

TIMEOUT = 5.0  # PagerDuty expects an answer within 5 s


def signature(secret: str, body: bytes) -> str:
    """One `v1=` signature of `body` with `secret`."""
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class PagerDutyWebhook:
    """A v3 webhook subscription: with `subscribed`, each responder's change to an incident
    of the twin is delivered at once (answers kept in `responses`)."""

    def __init__(self, twin: PagerDutyTwin, url: str, secret: str, *,
                 subscribed: bool = True) -> None:
        self.twin, self.url, self.secret = twin, url, secret
        self.subscription_id = "P" + uuid.uuid4().hex[:6].upper()
        self.responses: list[httpx.Response] = []
        if subscribed:
            twin.listeners.append(self._changed)

    def body(self, incident: Incident, event_type: str = "incident.acknowledged",
             by: str = "Alice Chen", *, occurred_at: datetime | None = None) -> bytes:
        """What PagerDuty sends about `incident` as it is now."""
        agent_id = "P" + hashlib.sha256(by.encode()).hexdigest()[:6].upper()
        event = {"event": {
            "id": uuid.uuid4().hex, "event_type": event_type, "resource_type": "incident",
            "occurred_at": iso(occurred_at or self.twin.clock()),
            "agent": {"id": agent_id, "type": "user_reference", "summary": by,
                      "self": f"https://api.pagerduty.com/users/{agent_id}",
                      "html_url": f"https://acme.pagerduty.com/users/{agent_id}"},
            "client": None, "data": incident.shape()}}
        return json.dumps(event).encode()

    def send(self, incident: Incident, event_type: str = "incident.acknowledged",
             by: str = "Alice Chen", *, secret: str | None = None,
             occurred_at: datetime | None = None) -> httpx.Response:
        """Deliver the event about `incident`, signed with `secret` (default: the
        subscription's; another one makes a bad signature)."""
        return self.deliver(self.body(incident, event_type, by, occurred_at=occurred_at),
                            secret=secret)

    def deliver(self, body: bytes, *, secret: str | None = None, signed: str | None = None,
                headers: dict[str, str] | None = None) -> httpx.Response:
        """POST `body` as PagerDuty would; `signed` replaces the computed signature header
        ("" sends none), `headers` replace or add headers."""
        if signed is None:
            signed = signature(secret or self.secret, body)
        sent = {"Content-Type": "application/json", "User-Agent": "PagerDuty-Webhook/V3.0",
                "X-Webhook-Id": str(uuid.uuid4()),
                "X-Webhook-Subscription": self.subscription_id}
        if signed:
            sent["X-PagerDuty-Signature"] = signed
        # The twins talk to loopback only: no proxy from the environment.
        with httpx.Client(timeout=TIMEOUT, trust_env=False) as client:
            response = client.post(self.url, content=body, headers={**sent, **(headers or {})})
        self.responses.append(response)
        return response

    def _changed(self, incident: Incident, event_type: str, by: str) -> None:
        self.send(incident, event_type, by)
