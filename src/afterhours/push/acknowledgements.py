"""Acknowledgements from where a page is read, verified and parsed: pure, the raw body and
header values in, the time given, no I/O.

PagerDuty signs each v3 webhook delivery with `X-PagerDuty-Signature: v1=<hex
HMAC-SHA256(secret, raw body)>`, several comma-separated while a secret is rotated: one
matching (in constant time) is enough. An `incident.acknowledged` or `incident.resolved`
event by a person (`agent.type` `user_reference`) about an incident afterhours opened (its
`incident_key` is the dedup_key afterhours sent, `ticket:<id>/escalation:...`) is an
acknowledgement of that ticket; any other event is genuine but about nothing to do. The
event's `occurred_at` must be within `PAGERDUTY_WINDOW` of now (PagerDuty retries a failed
delivery for about 20 minutes), else it is refused as a replay. Every refusal is a
DeliveryRefusedError whose message is ours alone; a name taken from a delivery is cleaned
to one short line before anything shows it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from afterhours.domain.model import Acknowledged
from afterhours.domain.text import one_line
from afterhours.errors import DeliveryRefusedError
from afterhours.push.verify import (
    Limits,
    _instant,
    _json_object,
    _malformed,
    _same,
    check_size,
)

PAGERDUTY_SIGNATURE = "X-PagerDuty-Signature"
ACKNOWLEDGING = frozenset({"incident.acknowledged", "incident.resolved"})
PAGERDUTY_WINDOW = timedelta(hours=1)
PAGERDUTY = "PagerDuty"
NAME_LIMIT = 100  # characters of a person's name kept from a delivery
# The dedup_key afterhours sends (domain.pages): the ticket's id comes first.
OUR_KEY = re.compile(r"ticket:([1-9][0-9]{0,18})/escalation:\S{1,230}")
_EVENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


@dataclass(frozen=True)
class AckEvent:
    """An acknowledgement to record: the ticket, what it says, the delivery's event id (a
    repeat of it is the same event) and afterhours' own words about where it came from."""

    ticket_id: int
    ack: Acknowledged
    event_id: str
    page: str  # the dedup_key (PagerDuty) or message (Slack) it answered
    # A click in Slack: who clicked (their member id), whether it was Take it, and where
    # the message is replaced to say who has it.
    slack_user: str | None = None
    take: bool = False
    response_url: str | None = None


def pagerduty_signature(secret: str, body: bytes) -> str:
    """One `v1=` signature of `body`, as PagerDuty computes it."""
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_pagerduty(body: bytes, signatures: str | None, *, secret: str,
                     limits: Limits) -> None:
    """Return when one of the delivery's signatures is PagerDuty's with `secret`; else
    DeliveryRefusedError (413 too large, 401 unsigned or badly signed)."""
    check_size(len(body), limits)
    if not signatures:
        raise DeliveryRefusedError(401, "unsigned", f"{PAGERDUTY_SIGNATURE} is required")
    expected = pagerduty_signature(secret, body)
    given = [part.strip() for part in signatures.split(",")]
    # Every one compared, so the time taken does not say which matched.
    if not [part for part in given if _same(expected, part)]:
        raise DeliveryRefusedError(401, "bad_signature", "no signature matches")


def parse_pagerduty(body: bytes, *, now: datetime,
                    window: timedelta = PAGERDUTY_WINDOW) -> AckEvent | None:
    """The acknowledgement a verified PagerDuty delivery carries; None for an event that
    acknowledges nothing of afterhours'. DeliveryRefusedError: 400 when it cannot be read,
    401 when it happened outside `window` of `now`."""
    event = _json_object(body).get("event")
    if not isinstance(event, dict):
        raise _malformed("`event` is missing or not an object")
    kind = event.get("event_type")
    if not isinstance(kind, str):
        raise _malformed("`event.event_type` is not a string")
    data = event.get("data")
    if not isinstance(data, dict):
        raise _malformed("`event.data` is missing or not an object")
    key = data.get("incident_key")
    found = OUR_KEY.fullmatch(key) if isinstance(key, str) else None
    agent = event.get("agent")
    if kind not in ACKNOWLEDGING or found is None or not isinstance(agent, dict) or (
            agent.get("type") != "user_reference"):
        return None  # another event, another tool's incident, or not a person (our resolve)
    event_id = event.get("id")
    if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
        raise _malformed("`event.id` is missing or not an event id")
    occurred = event.get("occurred_at")
    at = _instant(occurred) if isinstance(occurred, str) else None
    if at is None:
        raise _malformed("`event.occurred_at` is not an ISO 8601 time with a zone")
    if abs(now - at) > window:
        raise DeliveryRefusedError(
            401, "stale", f"happened more than {window.total_seconds():g} s from now")
    who = agent.get("summary")
    name = one_line(who, NAME_LIMIT) if isinstance(who, str) else ""
    ack = Acknowledged(name or "a PagerDuty user", PAGERDUTY, at)
    return AckEvent(int(found.group(1)), ack, event_id, found.string)
