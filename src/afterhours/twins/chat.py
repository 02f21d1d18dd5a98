"""A twin of Slack-compatible incoming webhooks: it keeps every message posted to it.

Unlike Slack, it honours the `Idempotency-Key` request header (IETF draft "The
Idempotency-Key HTTP Header Field"): a repeated POST with a key already seen on that
channel is acknowledged but not delivered again. It also counts every POST per key, so a
test can tell how many duplicates a receiver that ignores the header (Slack) would have shown.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from afterhours.twins._http import HttpError, Request, Response, Twin, TwinServer
from afterhours.twins.faults import slack_error


def _idempotency_key(request: Request) -> str | None:
    raw = request.headers.get("idempotency-key")
    if raw is None:
        return None
    # The draft makes the value a Structured Field string ("..."); a bare token is taken too.
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key:
        raise HttpError(400, "invalid_idempotency_key")
    return key


# Slack refuses a message of more than 50 blocks, and a section's text over 3,000 characters.
MAX_BLOCKS = 50
SECTION_LIMIT = 3_000
_TEXT_TYPES = frozenset({"mrkdwn", "plain_text"})


def blocks_error(blocks: Any) -> str | None:
    """Slack's 400 reason for a payload's `blocks`, None when they are fine: a subset of
    Block Kit (sections, context, dividers, headers) with its text objects checked."""
    if not isinstance(blocks, list) or not 0 < len(blocks) <= MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "section":
            texts = [block.get("text")]
        elif kind == "context":
            texts = block.get("elements") if isinstance(block.get("elements"), list) else [None]
        elif kind in ("divider", "header"):
            texts = [] if kind == "divider" else [block.get("text")]
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 0 < len(elements) <= 25 or not all(
                    _button(e) for e in elements):
                return "invalid_blocks"
            texts = [e["text"] for e in elements]
        else:
            return "invalid_blocks"
        for text in texts:
            if not (isinstance(text, dict) and text.get("type") in _TEXT_TYPES
                    and isinstance(text.get("text"), str)
                    and 0 < len(text["text"]) <= SECTION_LIMIT):
                return "invalid_blocks"
    return None


def _button(element: Any) -> bool:
    """A Block Kit button as Slack takes it: plain text, an action id, a short value."""
    return (isinstance(element, dict) and element.get("type") == "button"
            and isinstance(element.get("action_id"), str)
            and isinstance(element.get("value", ""), str) and len(element.get("value", "")) <= 2000
            and isinstance(element.get("text"), dict)
            and element["text"].get("type") == "plain_text")


class ChatTwin(Twin):
    """Receives `POST /hooks/{channel}` with `{"text": ...}` and optional Block Kit `blocks`,
    as Slack's incoming webhooks do. With a `secret`, hooks are `/hooks/{channel}/{secret}`
    (as Slack's URLs end in one) and a POST without the right one is refused."""

    def __init__(self, secret: str | None = None) -> None:
        self.server = TwinServer("chat", error_body=slack_error)
        self.secret = secret
        self._messages: dict[str, list[str]] = {}
        self._bodies: dict[str, list[dict[str, Any]]] = {}
        # (channel, key) -> the payload first posted with it, to tell a retry from a reuse.
        self._payloads: dict[tuple[str, str], str] = {}
        self.duplicates_suppressed = 0
        # (channel, key) -> valid POSTs received with it, the suppressed repeats included.
        self.posts_by_key: Counter[tuple[str, str]] = Counter()
        self._answers: dict[str, Response] = {}  # channel -> the answer it gets instead
        self.server.route("POST", "/hooks/{channel}")(self._post)
        self.server.route("POST", "/hooks/{channel}/{secret}")(self._post)
        # An interaction's response_url: what an app sends there replaces the message.
        self.server.route("POST", "/actions/{token}")(self._respond)
        self.responses: dict[str, list[dict[str, Any]]] = {}

    def webhook_url(self, channel: str) -> str:
        """The URL to configure for `channel`."""
        tail = f"/{self.secret}" if self.secret else ""
        return f"{self.server.base_url}/hooks/{channel}{tail}"

    def answer_with(self, channel: str, status: int, body: Any,
                    headers: dict[str, str] | None = None) -> None:
        """Answer every POST to `channel` with `status` and `body` (Slack's bare codes are
        strings: "no_service" for a mistyped hook), delivering nothing, until `clear_answer`."""
        with self.server.lock:
            self._answers[channel] = Response(status, body, dict(headers or {}))

    def clear_answer(self, channel: str) -> None:
        """Deliver to `channel` again."""
        with self.server.lock:
            self._answers.pop(channel, None)

    def messages(self, channel: str | None = None) -> list[str]:
        """Messages delivered, for one channel or all of them in channel order."""
        with self.server.lock:
            if channel is not None:
                return list(self._messages.get(channel, []))
            return [m for msgs in self._messages.values() for m in msgs]

    def bodies(self, channel: str) -> list[dict[str, Any]]:
        """The whole payloads delivered to `channel` (text, blocks...), in order."""
        with self.server.lock:
            return list(self._bodies.get(channel, []))

    def response_url(self, token: str) -> str:
        """The response_url a click on a message gives (Slack's are /actions/...)."""
        return f"{self.server.base_url}/actions/{token}"

    def _respond(self, request: Request) -> Response:
        body = request.body
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            raise HttpError(400, "no_text")
        if "blocks" in body and (reason := blocks_error(body["blocks"])) is not None:
            raise HttpError(400, reason)
        self.responses.setdefault(request.params["token"], []).append(body)
        return Response(200, "ok")

    def _post(self, request: Request) -> Response:
        if request.params.get("secret") != self.secret:
            raise HttpError(404, "no_service")  # Slack's answer to a hook that is not there
        body = request.body
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            # Slack answers a payload without text with 400 "no_text".
            raise HttpError(400, "no_text")
        if "blocks" in body and (reason := blocks_error(body["blocks"])) is not None:
            raise HttpError(400, reason)
        channel = request.params["channel"]
        if channel in self._answers:
            return self._answers[channel]
        key = _idempotency_key(request)
        if key is not None:
            payload = json.dumps(body, sort_keys=True)
            first = self._payloads.setdefault((channel, key), payload)
            if first != payload:
                # The draft's answer to a key reused for a different request.
                raise HttpError(422, "idempotency_key_reused")
            self.posts_by_key[channel, key] += 1
            if self.posts_by_key[channel, key] > 1:
                self.duplicates_suppressed += 1
                return Response(200, "ok")
        self._messages.setdefault(channel, []).append(body["text"])
        self._bodies.setdefault(channel, []).append(body)
        return Response(200, "ok")
