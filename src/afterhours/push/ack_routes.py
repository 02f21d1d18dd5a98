"""`POST /webhooks/pagerduty` and `POST /slack/interactions` on the daemon's HTTP server,
beside push mode's routes: verify, look the page or message up, queue the acknowledgement,
answer at once (PagerDuty expects an answer within 5 s, Slack a 200 within 3 s); the daemon's
thread records it between passes (push.ack_handling).

Answers as push mode's (README "Push mode"), and `404` `unknown_ticket` for an incident whose
key is afterhours' shape but that no page of this afterhours opened. An event about nothing
to acknowledge (another event type, another tool's incident, afterhours' own resolve) is
`200` `ignored`: a 4xx would count against the subscription, which PagerDuty turns off after
three drops in a row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from afterhours.errors import DeliveryRefusedError
from afterhours.push.acknowledgements import (
    PAGERDUTY_SIGNATURE,
    AckEvent,
    parse_pagerduty,
    verify_pagerduty,
)
from afterhours.push.routes import RESULTS, Receiver
from afterhours.push.slack import SLACK_SIGNATURE, SLACK_TIMESTAMP, parse_slack, verify_slack

PAGERDUTY_PATH = "/webhooks/pagerduty"
SLACK_PATH = "/slack/interactions"
ACK_RESULTS = (*RESULTS, "unknown_ticket")


@dataclass(frozen=True)
class AckReceiver(Receiver):
    """Push mode's receiver with the acknowledgement routes: PagerDuty's when its secret is
    set; `known` says whether a page of this afterhours has the dedup_key."""

    pagerduty_secret: str | None = None
    slack_secret: str | None = None
    known: Callable[[str], bool] | None = None

    def routes(self) -> list[BaseRoute]:
        """Push mode's routes, then the acknowledgement routes whose secret is set."""
        routes = super().routes()
        for source, secret, path, handler in (
                ("pagerduty", self.pagerduty_secret, PAGERDUTY_PATH, self._pagerduty),
                ("slack", self.slack_secret, SLACK_PATH, self._slack)):
            if secret:
                for result in ACK_RESULTS:
                    self.metrics.webhook_deliveries.labels(source, result)
                routes.append(Route(path, handler, methods=["POST"]))
        return routes

    def _ours(self, found: AckEvent | None) -> AckEvent | None:
        """`found`, once a page or message of this afterhours is known by its key."""
        if found is not None and (self.known is None or not self.known(found.page)):
            raise DeliveryRefusedError(404, "unknown_ticket",
                                       "no page or message of afterhours has this key")
        return found

    async def _slack(self, request: Request) -> Response:
        def check(body: bytes) -> AckEvent | None:
            verify_slack(body, request.headers.get(SLACK_SIGNATURE),
                         request.headers.get(SLACK_TIMESTAMP), secret=self.slack_secret or "",
                         now=self.clock(), limits=self.limits)
            return self._ours(parse_slack(body, now=self.clock()))

        answer = await self._receive("slack", request, check, self.queue.offer_ack,
                                     lambda event: {"ticket_id": event.ticket_id,
                                                    "acknowledged_in": event.ack.source})
        if answer.status_code == 202:  # Slack takes a click as answered on a 200 only
            answer.status_code = 200
        return answer

    async def _pagerduty(self, request: Request) -> Response:
        def check(body: bytes) -> AckEvent | None:
            verify_pagerduty(body, request.headers.get(PAGERDUTY_SIGNATURE),
                             secret=self.pagerduty_secret or "", limits=self.limits)
            return self._ours(parse_pagerduty(body, now=self.clock()))

        return await self._receive("pagerduty", request, check, self.queue.offer_ack,
                                   lambda event: {"ticket_id": event.ticket_id,
                                                  "acknowledged_in": event.ack.source})
