"""A twin of Slack-compatible incoming webhooks: it keeps every message posted to it."""

from __future__ import annotations

from afterhours.twins._http import HttpError, Request, Response, Twin, TwinServer


class ChatTwin(Twin):
    """Receives `POST /hooks/{channel}` with `{"text": ...}`, as Slack's incoming webhooks do."""

    def __init__(self) -> None:
        self.server = TwinServer("chat")
        self._messages: dict[str, list[str]] = {}
        self.server.route("POST", "/hooks/{channel}")(self._post)

    def webhook_url(self, channel: str) -> str:
        """The URL to configure for `channel`."""
        return f"{self.server.base_url}/hooks/{channel}"

    def messages(self, channel: str | None = None) -> list[str]:
        """Messages received, for one channel or all of them in channel order."""
        with self.server.lock:
            if channel is not None:
                return list(self._messages.get(channel, []))
            return [m for msgs in self._messages.values() for m in msgs]

    def _post(self, request: Request) -> Response:
        body = request.body
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            # Slack answers a payload without text with 400 "no_text".
            raise HttpError(400, "no_text")
        self._messages.setdefault(request.params["channel"], []).append(body["text"])
        return Response(200, "ok")
