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


class ChatTwin(Twin):
    """Receives `POST /hooks/{channel}` with `{"text": ...}`, as Slack's incoming webhooks do."""

    def __init__(self) -> None:
        self.server = TwinServer("chat", error_body=slack_error)
        self._messages: dict[str, list[str]] = {}
        # (channel, key) -> the payload first posted with it, to tell a retry from a reuse.
        self._payloads: dict[tuple[str, str], str] = {}
        self.duplicates_suppressed = 0
        # (channel, key) -> valid POSTs received with it, the suppressed repeats included.
        self.posts_by_key: Counter[tuple[str, str]] = Counter()
        self._answers: dict[str, Response] = {}  # channel -> the answer it gets instead
        self.server.route("POST", "/hooks/{channel}")(self._post)

    def webhook_url(self, channel: str) -> str:
        """The URL to configure for `channel`."""
        return f"{self.server.base_url}/hooks/{channel}"

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

    def _post(self, request: Request) -> Response:
        body = request.body
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            # Slack answers a payload without text with 400 "no_text".
            raise HttpError(400, "no_text")
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
        return Response(200, "ok")
