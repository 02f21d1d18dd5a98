"""A twin of PagerDuty's Events API v2 (`POST /v2/enqueue`) and the incidents it opens.

Each service has a routing key (`add_service`). Events are checked as PagerDuty checks them
(a 32-character routing key, an event_action, a trigger's summary of at most 1,024
characters, a source and a severity; a dedup_key of at most 255) and refused with its 400
body otherwise. Dedup semantics as documented: a trigger whose dedup_key matches an open
incident of the same service adds to it (one incident, `triggers` counts the events); once
resolved, the same key opens a new incident; an acknowledge or resolve for a key with no
open incident is accepted and dropped. A responder acknowledges or resolves an incident
with `acknowledge`/`resolve`, and each v3 webhook subscription (twins.pagerduty_webhook)
is sent the signed event.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from afterhours.twins._http import HttpError, Request, Response, Twin, TwinServer
from afterhours.twins.zendesk_shapes import iso

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
SUMMARY_LIMIT = 1024
DEDUP_LIMIT = 255
OPEN = ("triggered", "acknowledged")
Listener = Callable[["Incident", str, str], object]  # incident, event type, who


def pagerduty_error(status: int) -> Any:
    """The body PagerDuty's Events API answers an error with."""
    if status == 429:
        return {"status": "throttle event", "message": "Requests for this service are arriving"
                " too quickly.  Please retry later."}
    return {"status": "unrecognized object", "message": "Service unavailable"}


@dataclass
class Incident:
    """An incident as the twin keeps it: opened by a trigger, changed by later events or by a
    responder."""

    id: str
    number: int
    service: str
    incident_key: str  # the dedup_key of the alert that opened it
    title: str
    severity: str
    created_at: datetime
    status: str = "triggered"
    triggers: int = 1  # trigger events that landed on it, the first included
    links: list[dict[str, Any]] = field(default_factory=list)
    custom_details: dict[str, Any] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)  # event types, in order

    def shape(self) -> dict[str, Any]:
        """The incident as a v3 webhook's `data` shows it."""
        return {
            "id": self.id, "type": "incident", "number": self.number,
            "self": f"https://api.pagerduty.com/incidents/{self.id}",
            "html_url": f"https://acme.pagerduty.com/incidents/{self.id}",
            "status": self.status, "incident_key": self.incident_key,
            "created_at": iso(self.created_at), "title": self.title, "urgency": "high",
            "service": {"id": self.service, "type": "service_reference",
                        "summary": self.service},
            "assignees": [], "resolve_reason": None,
        }


class PagerDutyTwin(Twin):
    """Takes `POST /v2/enqueue` as PagerDuty does; keeps incidents and every event taken."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.server = TwinServer("pagerduty", error_body=pagerduty_error)
        self.clock = clock or (lambda: datetime.now(UTC))
        self._services: dict[str, str] = {}  # routing key -> service id
        self._incidents: list[Incident] = []
        self.events: list[dict[str, Any]] = []  # every event taken (202), in order
        # (time.monotonic(), event) of each, for what times a page from inside the twin.
        self.timeline: list[tuple[float, dict[str, Any]]] = []
        self.listeners: list[Listener] = []  # told of each responder's change
        self._refusals: list[Response] = []  # answers the next events get instead
        self.server.route("POST", "/v2/enqueue")(self._enqueue)

    def add_service(self, name: str) -> str:
        """A service with an Events API v2 integration; its routing key."""
        key = secrets.token_hex(16)
        with self.server.lock:
            self._services[key] = name
        return key

    def refuse_next(self, count: int, status: int, *, retry_after: int | None = None) -> None:
        """Answer the next `count` events with `status` (its error body), taking none."""
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        with self.server.lock:
            self._refusals += [Response(status, pagerduty_error(status), headers)] * count

    def incidents(self, status: str | None = None) -> list[Incident]:
        """The incidents opened, oldest first; only those in `status` when given."""
        with self.server.lock:
            return [i for i in self._incidents if status is None or i.status == status]

    def incident(self, dedup_key: str) -> Incident:
        """The latest incident opened with `dedup_key`."""
        found = [i for i in self.incidents() if i.incident_key == dedup_key]
        if not found:
            raise KeyError(dedup_key)
        return found[-1]

    def acknowledge(self, incident: Incident, by: str = "Alice Chen") -> None:
        """A responder acknowledges `incident` on the phone."""
        self._respond(incident, "acknowledged", "incident.acknowledged", by)

    def resolve(self, incident: Incident, by: str = "Alice Chen") -> None:
        """A responder resolves `incident`."""
        self._respond(incident, "resolved", "incident.resolved", by)

    def _respond(self, incident: Incident, status: str, event_type: str, by: str) -> None:
        with self.server.lock:
            incident.status = status
            incident.log.append(event_type)
        for listener in list(self.listeners):
            listener(incident, event_type, by)

    def _enqueue(self, request: Request) -> Response:
        if self._refusals:
            return self._refusals.pop(0)
        event = request.body
        errors = _errors(event, self._services)
        if errors:
            raise HttpError(400, {"status": "invalid event", "message": "Event object is invalid",
                                  "errors": errors})
        service = self._services[event["routing_key"]]
        action = event["event_action"]
        key = event.get("dedup_key") or uuid.uuid4().hex
        self.events.append(event)
        self.timeline.append((time.monotonic(), event))
        open_one = next((i for i in reversed(self._incidents) if i.service == service
                         and i.incident_key == key and i.status in OPEN), None)
        if action == "trigger":
            if open_one is not None:
                open_one.triggers += 1
                open_one.log.append("trigger")
            else:
                self._open(service, key, event)
        elif open_one is not None:  # acknowledge, resolve: dropped when nothing is open
            open_one.status = "acknowledged" if action == "acknowledge" else "resolved"
            open_one.log.append(action)
        return Response(202, {"status": "success", "message": "Event processed",
                              "dedup_key": key})

    def _open(self, service: str, key: str, event: dict[str, Any]) -> None:
        payload = event["payload"]
        number = len(self._incidents) + 1
        self._incidents.append(Incident(
            id=f"Q{number:06d}", number=number, service=service, incident_key=key,
            title=payload["summary"], severity=payload["severity"], created_at=self.clock(),
            links=list(event.get("links") or []),
            custom_details=dict(payload.get("custom_details") or {}), log=["trigger"]))


def _errors(event: Any, services: dict[str, str]) -> list[str]:
    """PagerDuty's reasons for refusing `event` (empty: it is taken)."""
    if not isinstance(event, dict):
        return ["Event object must be a JSON object"]
    found = _envelope_error(event, services)
    if found is not None:
        return [found]
    if event["event_action"] != "trigger":
        return [] if event.get("dedup_key") else [
            "'dedup_key' is required for acknowledge and resolve"]
    payload = event.get("payload")
    if not isinstance(payload, dict):
        return ["'payload' is missing or not an object"]
    errors = []
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary:
        errors.append("'payload.summary' is missing or blank")
    elif len(summary) > SUMMARY_LIMIT:
        errors.append(f"'payload.summary' is longer than {SUMMARY_LIMIT} characters")
    if not isinstance(payload.get("source"), str) or not payload["source"]:
        errors.append("'payload.source' is missing or blank")
    if payload.get("severity") not in SEVERITIES:
        errors.append("'payload.severity' is invalid (must be one of: critical, error,"
                      " warning, info)")
    return errors


def _envelope_error(event: dict[str, Any], services: dict[str, str]) -> str | None:
    key = event.get("routing_key")
    if not isinstance(key, str) or len(key) != 32:
        return "Length of 'routing_key' is incorrect (should be 32 characters)"
    if key not in services:
        return "Invalid routing key"
    if event.get("event_action") not in ACTIONS:
        return "'event_action' is invalid (must be one of: trigger, acknowledge, resolve)"
    dedup = event.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > DEDUP_LIMIT):
        return f"'dedup_key' must be a string of at most {DEDUP_LIMIT} characters"
    return None
