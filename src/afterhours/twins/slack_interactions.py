"""Slack's side of an app's interactivity: a person clicks a button of a message the chat
twin holds, and Slack POSTs the signed interaction to the app's Request URL, as a form with
one field `payload` (JSON); its response_url is the chat twin's, where the app may replace
the message. The signature is computed here as Slack documents it, not by afterhours'
verifier: `v0=` hex HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}`. Anything can
be sent wrong on purpose: a bad signature, an old timestamp, another body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from afterhours.twins.chat import ChatTwin

TIMEOUT = 3.0  # Slack shows an error when the app takes longer


class SlackInteractions:
    """Clicks on the chat twin's messages, sent to `url` signed with `secret`."""

    def __init__(self, chat: ChatTwin, url: str, secret: str,
                 clock: Callable[[], datetime]) -> None:
        self.chat, self.url, self.secret, self.clock = chat, url, secret, clock

    def body(self, message: dict[str, Any], action_id: str, *, user_id: str = "U0DANA001",
             user_name: str = "dana.lead") -> tuple[bytes, str]:
        """The form Slack sends for a click on `message`'s button `action_id`, and the
        response_url token its message can be replaced through."""
        button = next(e for block in message.get("blocks", []) if block["type"] == "actions"
                      for e in block["elements"] if e["action_id"] == action_id)
        token = uuid.uuid4().hex
        interaction = {
            "type": "block_actions", "api_app_id": "A0AFTERHRS",
            "team": {"id": "T0ACME", "domain": "acme"},
            "user": {"id": user_id, "username": user_name, "name": user_name,
                     "team_id": "T0ACME"},
            "trigger_id": f"{uuid.uuid4().int % 10**13}.{uuid.uuid4().hex[:12]}",
            "container": {"type": "message", "message_ts": "1700000000.000100"},
            "channel": {"id": "C0ONCALL", "name": "support-oncall"},
            "message": message, "response_url": self.chat.response_url(token),
            "actions": [{"type": "button", "action_id": action_id,
                         "block_id": "afterhours.acknowledgement", "value": button["value"],
                         "text": button["text"], "action_ts": "1700000001.000200"}],
        }
        return urlencode({"payload": json.dumps(interaction)}).encode(), token

    def click(self, message: dict[str, Any], action_id: str, *, user_id: str = "U0DANA001",
              user_name: str = "dana.lead", signed_at: datetime | None = None,
              secret: str | None = None) -> tuple[httpx.Response, str]:
        """A person clicks; the answer, and the response_url token of the message."""
        body, token = self.body(message, action_id, user_id=user_id, user_name=user_name)
        return self.deliver(body, signed_at=signed_at, secret=secret), token

    def deliver(self, body: bytes, *, signed_at: datetime | None = None,
                secret: str | None = None, signature: str | None = None) -> httpx.Response:
        """POST `body` as Slack would; `signature` replaces the computed one ("" sends none)."""
        stamp = str(int((signed_at or self.clock()).timestamp()))
        if signature is None:
            base = f"v0:{stamp}:".encode() + body
            signature = "v0=" + hmac.new((secret or self.secret).encode(), base,
                                         hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
                   "X-Slack-Request-Timestamp": stamp}
        if signature:
            headers["X-Slack-Signature"] = signature
        with httpx.Client(timeout=TIMEOUT, trust_env=False) as client:
            return client.post(self.url, content=body, headers=headers)
