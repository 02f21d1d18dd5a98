"""Slack's interaction requests (a click on Acknowledge or Take it), verified and parsed: pure,
the raw body and header values in, the time given, no I/O.

Slack signs `v0=` + hex(HMAC-SHA256(signing secret, `v0:{X-Slack-Request-Timestamp}:{raw
body}`)) in `X-Slack-Signature`; a request whose timestamp is more than 5 minutes from now
is refused as a replay. The body is a form with one field, `payload`: the interaction as
JSON. A `block_actions` click on one of afterhours' buttons (their action ids, their value
the message's ledger key) is an acknowledgement of that ticket; any other interaction is
genuine but about nothing to do. Refusals carry afterhours' words only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from afterhours.domain.chat import ACKNOWLEDGE, TAKE
from afterhours.domain.model import Acknowledged
from afterhours.domain.text import one_line
from afterhours.errors import DeliveryRefusedError
from afterhours.push.acknowledgements import NAME_LIMIT, OUR_KEY, AckEvent
from afterhours.push.verify import Limits, _malformed, _same, check_size

SLACK_SIGNATURE = "X-Slack-Signature"
SLACK_TIMESTAMP = "X-Slack-Request-Timestamp"
SLACK_WINDOW = timedelta(minutes=5)
SLACK = "Slack"
_USER = re.compile(r"[UW][A-Z0-9]{2,20}")
_TRIGGER = re.compile(r"[A-Za-z0-9._-]{1,128}")
_SECONDS = re.compile(r"[0-9]{1,12}")


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Slack-Signature` Slack sends for `body` at `timestamp` (the header's text)."""
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify_slack(body: bytes, signature: str | None, timestamp: str | None, *, secret: str,
                 now: datetime, limits: Limits, window: timedelta = SLACK_WINDOW) -> None:
    """Return when the request is Slack's and fresh; else DeliveryRefusedError: 413 too large,
    401 unsigned, badly signed, or signed outside `window` (a replay)."""
    check_size(len(body), limits)
    if not signature or not timestamp:
        raise DeliveryRefusedError(
            401, "unsigned", f"{SLACK_SIGNATURE} and {SLACK_TIMESTAMP} are required")
    if not _same(slack_signature(secret, timestamp, body), signature):
        raise DeliveryRefusedError(401, "bad_signature", "the signature does not match")
    stamp = timestamp.strip()
    signed_at = (datetime.fromtimestamp(int(stamp), UTC) if _SECONDS.fullmatch(stamp)
                 else None)
    if signed_at is None or abs(now - signed_at) > window:
        raise DeliveryRefusedError(
            401, "stale", f"signed more than {window.total_seconds():g} s from now")


def parse_slack(body: bytes, *, now: datetime) -> AckEvent | None:
    """The acknowledgement a verified click carries; None for an interaction that is not a
    click on afterhours' buttons. DeliveryRefusedError (400) when it cannot be read."""
    data = _payload(body)
    if data.get("type") != "block_actions":
        return None
    actions = data.get("actions")
    action = actions[0] if isinstance(actions, list) and actions else None
    if not isinstance(action, dict) or action.get("action_id") not in (ACKNOWLEDGE, TAKE):
        return None
    value = action.get("value")
    found = OUR_KEY.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        raise _malformed("the button's value is not an afterhours message")
    user = data.get("user")
    if not isinstance(user, dict):
        raise _malformed("`user` is missing or not an object")
    user_id = user.get("id")
    if not isinstance(user_id, str) or not _USER.fullmatch(user_id):
        raise _malformed("`user.id` is missing or not a Slack member id")
    trigger = data.get("trigger_id")
    if not isinstance(trigger, str) or not _TRIGGER.fullmatch(trigger):
        raise _malformed("`trigger_id` is missing or not an id")
    response_url = _response_url(data.get("response_url"))
    name = next((one_line(n, NAME_LIMIT) for n in (user.get("name"), user.get("username"))
                 if isinstance(n, str) and n.strip()), user_id)
    ack = Acknowledged(name, SLACK, now)
    return AckEvent(int(found.group(1)), ack, trigger, found.string, slack_user=user_id,
                    take=action["action_id"] == TAKE, response_url=response_url)


def _payload(body: bytes) -> dict[str, Any]:
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        raise _malformed("the body is not a form") from None
    given = form.get("payload")
    if not given or len(given) != 1:
        raise _malformed("the form has no one `payload`")
    try:
        data = json.loads(given[0])
    except (ValueError, RecursionError):
        raise _malformed("`payload` is not JSON") from None
    if not isinstance(data, dict):
        raise _malformed("`payload` is not a JSON object")
    return data


def _response_url(value: object) -> str | None:
    """Slack's response_url (https on slack.com), or a loopback one (the twins'); None when
    there is none to answer on."""
    if not isinstance(value, str) or len(value) > 1000 or any(c.isspace() for c in value):
        return None
    parts = urlsplit(value)
    host = parts.hostname or ""
    if parts.scheme == "https" and (host == "slack.com" or host.endswith(".slack.com")):
        return value
    if parts.scheme in ("http", "https") and host in ("127.0.0.1", "localhost"):
        return value
    return None
