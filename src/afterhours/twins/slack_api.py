"""A twin of Slack's Web API for a bot: `chat.postMessage`, `chat.update`,
`conversations.history` and `auth.test`, answered as Slack answers them (HTTP 200 with
`"ok": false` and an error code for a bad token, an unknown channel or a bot not in it).
It keeps every message with its metadata, and counts posts and updates per metadata key,
so a test tells a repeat from one message. No published OpenAPI file for Slack sits beside
the repository (tests/contract validates Zendesk and Jira only): the arguments and errors
follow Slack's method reference.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from afterhours.twins._http import Request, Response, Twin, TwinServer
from afterhours.twins.chat import blocks_error


def slack_api_error(status: int) -> Any:
    """The body of an injected error answer."""
    return {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}


class SlackApiTwin(Twin):
    """Slack's Web API for one bot token and the conversations it is a member of."""

    def __init__(self, clock: Callable[[], datetime] | None = None,
                 token: str = "xoxb-afterhours-twin") -> None:  # noqa: S107  (a twin's)
        self.server = TwinServer("slack", error_body=slack_api_error)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.token = token
        self._channels: dict[str, list[dict[str, Any]]] = {}
        self.posts_by_key: Counter[str] = Counter()
        self._posted = 0  # a message's ts is the clock's second and this count
        self.updates_by_key: Counter[str] = Counter()
        for method, name, handler in (("POST", "chat.postMessage", self._post),
                                      ("POST", "chat.update", self._update),
                                      ("GET", "conversations.history", self._history),
                                      ("POST", "auth.test", self._auth)):
            self.server.route(method, f"/api/{name}")(handler)

    @property
    def api_url(self) -> str:
        """AFTERHOURS_SLACK_API_URL for this twin."""
        return f"{self.server.base_url}/api"

    def add_conversation(self, conversation: str) -> None:
        """A channel the bot is a member of."""
        with self.server.lock:
            self._channels.setdefault(conversation, [])

    def messages(self, conversation: str) -> list[dict[str, Any]]:
        """The messages posted to `conversation`, oldest first."""
        with self.server.lock:
            return list(self._channels.get(conversation, []))

    def _authorized(self, request: Request) -> Response | None:
        given = request.headers.get("authorization", "")
        if given != f"Bearer {self.token}":
            return Response(200, {"ok": False, "error": "invalid_auth"})
        return None

    def _post(self, request: Request) -> Response:
        refused = self._authorized(request)
        if refused is not None:
            return refused
        body = request.body if isinstance(request.body, dict) else {}
        conversation = body.get("channel")
        if conversation not in self._channels:
            return Response(200, {"ok": False, "error": "channel_not_found"})
        if not isinstance(body.get("text"), str) or not body["text"]:
            return Response(200, {"ok": False, "error": "no_text"})
        if "blocks" in body and blocks_error(body["blocks"]) is not None:
            return Response(200, {"ok": False, "error": "invalid_blocks"})
        self._posted += 1
        stamp = f"{int(self.clock().timestamp())}.{self._posted:06d}"
        message = {"type": "message", "ts": stamp, "text": body["text"],
                   "blocks": body.get("blocks"), "metadata": body.get("metadata")}
        key = ((body.get("metadata") or {}).get("event_payload") or {}).get("key")
        if isinstance(key, str):
            self.posts_by_key[key] += 1
        self._channels[conversation].append(message)
        return Response(200, {"ok": True, "channel": conversation, "ts": message["ts"],
                              "message": message})

    def _update(self, request: Request) -> Response:
        """chat.update as Slack documents it (docs.slack.dev/reference/methods/chat.update):
        `channel` and `ts` required, `text` or `blocks`; blocks left out are removed when
        text is given; metadata left out is kept."""
        body = request.body if isinstance(request.body, dict) else {}
        message = self._updated_message(request, body)
        if isinstance(message, Response):
            return message
        text = body.get("text")
        if not (isinstance(text, str) and text) and not body.get("blocks"):
            return Response(200, {"ok": False, "error": "no_text"})
        if "blocks" in body and blocks_error(body["blocks"]) is not None:
            return Response(200, {"ok": False, "error": "invalid_blocks"})
        message.update(text=text or "", blocks=body.get("blocks"),
                       edited={"user": "U0BOT", "ts": f"{self.clock().timestamp():.6f}"})
        if "metadata" in body:
            message["metadata"] = body["metadata"]
        key = ((message.get("metadata") or {}).get("event_payload") or {}).get("key")
        if isinstance(key, str):
            self.updates_by_key[key] += 1
        return Response(200, {"ok": True, "channel": body["channel"], "ts": message["ts"],
                              "text": message["text"], "message": message})

    def _updated_message(self, request: Request, body: dict[str, Any]
                         ) -> dict[str, Any] | Response:
        """The message chat.update names, or Slack's refusal."""
        refused = self._authorized(request)
        if refused is not None:
            return refused
        conversation, ts = body.get("channel"), body.get("ts")
        if conversation not in self._channels:
            return Response(200, {"ok": False, "error": "channel_not_found"})
        if not isinstance(ts, str):
            return Response(200, {"ok": False, "error": "invalid_arguments"})
        message = next((m for m in self._channels[conversation] if m["ts"] == ts), None)
        if message is None:
            return Response(200, {"ok": False, "error": "message_not_found"})
        return message

    def _history(self, request: Request) -> Response:
        refused = self._authorized(request)
        if refused is not None:
            return refused
        conversation = request.arg("channel")
        if conversation not in self._channels:
            return Response(200, {"ok": False, "error": "channel_not_found"})
        with_metadata = request.arg("include_all_metadata") == "true"
        oldest = float(request.arg("oldest") or 0)
        limit = int(request.arg("limit") or 100)
        shown = [dict(m) for m in reversed(self._channels[conversation])
                 if float(m["ts"]) >= oldest][:limit]
        if not with_metadata:
            for message in shown:
                message.pop("metadata", None)
        return Response(200, {"ok": True, "messages": shown, "has_more": False})

    def _auth(self, request: Request) -> Response:
        refused = self._authorized(request)
        if refused is not None:
            return refused
        return Response(200, {"ok": True, "url": "https://acme.slack.com/", "team": "Acme",
                              "user": "afterhours", "team_id": "T0ACME", "user_id": "U0BOT"})
