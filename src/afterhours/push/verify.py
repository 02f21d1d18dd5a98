"""Is a pushed delivery genuine, fresh, small enough, and about which ticket or issue? Pure:
the raw body and header values in, the time given, no I/O.

Zendesk signs `base64(HMAC-SHA256(secret, timestamp + body))`, the timestamp being the
`X-Zendesk-Webhook-Signature-Timestamp` header's value as sent (ISO 8601, e.g.
`2021-03-25T05:09:27Z`); a delivery whose timestamp is outside the window is refused as a
replay. Jira signs `sha256=` + hex(HMAC-SHA256(secret, body)) in `X-Hub-Signature` (WebSub).
Signatures are compared in constant time. Every refusal is a DeliveryRefusedError whose
message is ours alone: nothing of the delivery is echoed in an answer or a log line.

Two kinds of Zendesk delivery name a ticket: an event subscription's (`type`
`zen:event-type:ticket.*`, the ticket in `subject` `zen:ticket:<id>` and `detail.id`, a
string) and a trigger's JSON body carrying `ticket_id` (`{"ticket_id": "{{ticket.id}}"}`).
Only the id is taken: the daemon reads the ticket itself, so a stale or reordered delivery
carries nothing that could be applied out of order.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from afterhours.errors import DeliveryRefusedError

ZENDESK_SIGNATURE = "X-Zendesk-Webhook-Signature"
ZENDESK_TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"
JIRA_SIGNATURE = "X-Hub-Signature"
TICKET_EVENT = "zen:event-type:ticket."
TICKET_SUBJECT = "zen:ticket:"
DEFAULT_WINDOW = timedelta(minutes=5)
DEFAULT_MAX_BYTES = 1_000_000
_MAX_ID = 2**63 - 1  # Zendesk's ids are 64-bit
_ID_TEXT = re.compile(r"[1-9][0-9]{0,18}")
_JIRA_EVENT = re.compile(r"[a-z][a-z0-9_:]{0,63}")
_JIRA_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,63}-[1-9][0-9]{0,17}")


@dataclass(frozen=True)
class Limits:
    """What a delivery may be: signed this close to now, this many bytes at most."""

    window: timedelta = DEFAULT_WINDOW
    max_bytes: int = DEFAULT_MAX_BYTES


@dataclass(frozen=True)
class JiraEvent:
    """A Jira issue event: the issue's key and Jira's event name (`jira:issue_updated`)."""

    key: str
    event: str


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature Zendesk sends for `body` signed at `timestamp` (the header's text)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def jira_signature(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature` value Jira sends for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_size(size: int, limits: Limits) -> None:
    """DeliveryRefusedError (413) when `size` bytes are more than a delivery may hold."""
    if size > limits.max_bytes:
        raise DeliveryRefusedError(413, "oversized",
                                   f"the body is larger than {limits.max_bytes} bytes")


def verify_zendesk(body: bytes, signature: str | None, timestamp: str | None, *, secret: str,
                   now: datetime, limits: Limits) -> None:
    """Return when the delivery is Zendesk's and fresh; else DeliveryRefusedError: 413 too
    large, 401 unsigned, badly signed, or signed outside the window (a replay)."""
    check_size(len(body), limits)
    if not signature or not timestamp:
        raise DeliveryRefusedError(
            401, "unsigned", f"{ZENDESK_SIGNATURE} and {ZENDESK_TIMESTAMP} are required")
    expected = zendesk_signature(secret, timestamp, body)
    if not _same(expected, signature):
        raise DeliveryRefusedError(401, "bad_signature", "the signature does not match")
    signed_at = _instant(timestamp)
    if signed_at is None or abs(now - signed_at) > limits.window:
        raise DeliveryRefusedError(
            401, "stale", f"signed more than {limits.window.total_seconds():g} s from now")


def verify_jira(body: bytes, signature: str | None, *, secret: str, limits: Limits) -> None:
    """Return when the delivery is signed by Jira with `secret`; else DeliveryRefusedError
    (413 too large, 401 unsigned or badly signed)."""
    check_size(len(body), limits)
    if not signature:
        raise DeliveryRefusedError(401, "unsigned", f"{JIRA_SIGNATURE} is required")
    # The hex digits in any case: WebSub does not say which.
    given = signature[:7] + signature[7:].lower()
    if not _same(jira_signature(secret, body), given):
        raise DeliveryRefusedError(401, "bad_signature", "the signature does not match")


def parse_zendesk(body: bytes) -> int | None:
    """The ticket a verified Zendesk delivery is about; None for an event about something
    else (a user, an organization): nothing to plan. DeliveryRefusedError (400) when it is
    neither kind or names no ticket plainly."""
    data = _json_object(body)
    if "type" in data:
        kind = data["type"]
        if not isinstance(kind, str):
            raise _malformed("`type` is not a string")
        if not kind.startswith(TICKET_EVENT):
            return None
        ids = set()
        subject = data.get("subject")
        if subject is not None:
            if not isinstance(subject, str) or not subject.startswith(TICKET_SUBJECT):
                raise _malformed(f"`subject` of a ticket event is not {TICKET_SUBJECT}<id>")
            ids.add(_ticket_id(subject.removeprefix(TICKET_SUBJECT), "subject"))
        detail = data.get("detail")
        if detail is not None and not isinstance(detail, dict):
            raise _malformed("`detail` is not an object")
        if detail and "id" in detail:
            ids.add(_ticket_id(detail["id"], "detail.id"))
        if len(ids) != 1:
            raise _malformed("a ticket event needs one ticket id in `subject` and `detail.id`"
                             if not ids else "`subject` and `detail.id` name different tickets")
        return ids.pop()
    if "ticket_id" in data:
        return _ticket_id(data["ticket_id"], "ticket_id")
    raise _malformed("neither a ticket event (`type`) nor a trigger's body (`ticket_id`)")


def parse_jira(body: bytes) -> JiraEvent | None:
    """The issue event a verified Jira delivery carries; None for an event about no issue (a
    project, a sprint). DeliveryRefusedError (400) when it cannot be read."""
    data = _json_object(body)
    event = data.get("webhookEvent")
    if not isinstance(event, str) or not _JIRA_EVENT.fullmatch(event):
        raise _malformed("`webhookEvent` is missing or not an event name")
    issue = data.get("issue")
    if issue is None:
        return None
    key = issue.get("key") if isinstance(issue, dict) else None
    if not isinstance(key, str) or not _JIRA_KEY.fullmatch(key):
        raise _malformed("`issue.key` is missing or not an issue key")
    return JiraEvent(key, event)


def _same(expected: str, given: str) -> bool:
    # Bytes, so a header with non-ASCII characters is a mismatch, not a TypeError; the
    # comparison takes as long whatever the first differing byte.
    return hmac.compare_digest(expected.encode("ascii"),
                               given.encode("utf-8", "surrogateescape"))


def _instant(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested beyond reason
        raise _malformed("the body is not JSON") from None
    if not isinstance(data, dict):
        raise _malformed("the body is not a JSON object")
    return data


def _ticket_id(value: object, where: str) -> int:
    # Zendesk's ids are strings in event payloads, numbers or strings in a trigger's body.
    if isinstance(value, str) and _ID_TEXT.fullmatch(value):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _MAX_ID:
        return value
    raise _malformed(f"`{where}` is not a ticket id")


def _malformed(why: str) -> DeliveryRefusedError:
    return DeliveryRefusedError(400, "malformed", why)
