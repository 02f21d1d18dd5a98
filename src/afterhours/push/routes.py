"""`POST /webhooks/zendesk` and `POST /webhooks/jira` on the daemon's HTTP server: verify,
queue, answer at once. Nothing is done in the request (Zendesk gives up after about 10 s):
the daemon's thread takes the queue between passes (afterhours.push.handling).

Answers: 202 queued (or already waiting), 200 for a genuine delivery about nothing to plan,
202 on a standby replica (dropped: the leader's poll handles the ticket, see README "Push
mode"), 401 unsigned, badly signed or outside the time window, 400 malformed, 413 too large,
429 with Retry-After when the queue is full. A refused delivery queues nothing, and no log
line holds any of its content: only our own words and, once verified, the ticket id or the
issue key (checked against their patterns).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from afterhours.clock import Clock
from afterhours.errors import DeliveryRefusedError
from afterhours.ops.metrics import Metrics
from afterhours.push.queue import Offered, PushQueue
from afterhours.push.verify import (
    JIRA_SIGNATURE,
    ZENDESK_SIGNATURE,
    ZENDESK_TIMESTAMP,
    JiraEvent,
    Limits,
    check_size,
    parse_jira,
    parse_zendesk,
    verify_jira,
    verify_zendesk,
)

log = structlog.get_logger()
ZENDESK_PATH = "/webhooks/zendesk"
JIRA_PATH = "/webhooks/jira"
RESULTS = ("accepted", "duplicate", "ignored", "standby", "queue_full", "unsigned",
           "bad_signature", "stale", "oversized", "malformed")
# Zendesk retries a 429 whose Retry-After is short; by then the daemon has taken the queue.
RETRY_AFTER = 10
T = TypeVar("T")


@dataclass(frozen=True)
class Receiver:
    """What the webhook routes need: the queue, the secrets (None: that route is off), the
    limits, the daemon's clock (for the time window) and whether this replica leads."""

    queue: PushQueue
    metrics: Metrics
    clock: Clock
    leading: Callable[[], bool]
    limits: Limits
    zendesk_secret: str | None = None
    jira_secret: str | None = None

    def routes(self) -> list[BaseRoute]:
        """The routes whose secret is set, their metric series at 0 from the start."""
        routes: list[BaseRoute] = []
        for source, secret, handler in (("zendesk", self.zendesk_secret, self._zendesk),
                                        ("jira", self.jira_secret, self._jira)):
            if secret:
                for result in RESULTS:
                    self.metrics.webhook_deliveries.labels(source, result)
                self.metrics.push_queued(source, 0)
                routes.append(Route(f"/webhooks/{source}", handler, methods=["POST"]))
        return routes

    async def _zendesk(self, request: Request) -> Response:
        def check(body: bytes) -> int | None:
            verify_zendesk(body, request.headers.get(ZENDESK_SIGNATURE),
                           request.headers.get(ZENDESK_TIMESTAMP),
                           secret=self.zendesk_secret or "", now=self.clock(),
                           limits=self.limits)
            return parse_zendesk(body)

        return await self._receive("zendesk", request, check, self.queue.offer_ticket,
                                   lambda ticket_id: {"ticket_id": ticket_id})

    async def _jira(self, request: Request) -> Response:
        def check(body: bytes) -> JiraEvent | None:
            verify_jira(body, request.headers.get(JIRA_SIGNATURE),
                        secret=self.jira_secret or "", limits=self.limits)
            return parse_jira(body)

        return await self._receive("jira", request, check, self.queue.offer_jira,
                                   lambda event: {"issue": event.key, "jira_event": event.event})

    async def _receive(self, source: str, request: Request, check: Callable[[bytes], T | None],
                       offer: Callable[[T], Offered], fields: Callable[[T], dict[str, object]],
                       ) -> Response:
        """Read, verify and parse with `check`; queue what it found with `offer` while this
        replica leads; answer, count and log by the result (`fields` for the log line)."""
        try:
            found = check(await _read(request, self.limits))
        except DeliveryRefusedError as refused:
            return self._refused(source, refused)
        if found is None:
            return self._answer(source, "ignored", 200)
        if not self.leading():
            return self._answer(source, "standby", 202, fields(found))
        return self._queued(source, offer(found), fields(found))

    def _queued(self, source: str, offered: Offered, fields: dict[str, object]) -> Response:
        if offered == "full":
            log.warning("webhook.queue_full", source=source, capacity=self.queue.capacity,
                        **fields)
            return self._answer(source, "queue_full", 429, fields,
                                headers={"Retry-After": str(RETRY_AFTER)})
        return self._answer(source, offered, 202, fields)

    def _answer(self, source: str, result: str, status: int,
                fields: dict[str, object] | None = None, *,
                headers: dict[str, str] | None = None) -> Response:
        fields = fields or {}
        self.metrics.webhook_delivery(source, result)
        if result in ("accepted", "standby"):
            log.info("webhook.received", source=source, result=result, **fields)
        else:
            log.debug("webhook.received", source=source, result=result, **fields)
        return JSONResponse({"result": result}, status_code=status, headers=headers)

    def _refused(self, source: str, refused: DeliveryRefusedError) -> Response:
        self.metrics.webhook_delivery(source, refused.result)
        log.warning("webhook.refused", source=source, result=refused.result,
                    status=refused.status, reason=str(refused))
        return JSONResponse({"result": refused.result, "error": str(refused)},
                            status_code=refused.status)


async def _read(request: Request, limits: Limits) -> bytes:
    """The raw body, refused (413) as soon as it is known to be too large: by its
    Content-Length before reading, or while it streams in."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit():
        check_size(int(declared), limits)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        check_size(size, limits)
        chunks.append(chunk)
    return b"".join(chunks)
