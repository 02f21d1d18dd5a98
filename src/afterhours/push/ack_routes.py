"""`POST /webhooks/pagerduty` on the daemon's HTTP server, beside push mode's routes: verify,
look the incident up, queue the acknowledgement, answer at once (PagerDuty expects an answer
within 5 s); the daemon's thread records it between passes (push.ack_handling).

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

PAGERDUTY_PATH = "/webhooks/pagerduty"
ACK_RESULTS = (*RESULTS, "unknown_ticket")


@dataclass(frozen=True)
class AckReceiver(Receiver):
    """Push mode's receiver with the acknowledgement routes: PagerDuty's when its secret is
    set; `known` says whether a page of this afterhours has the dedup_key."""

    pagerduty_secret: str | None = None
    known: Callable[[str], bool] | None = None

    def routes(self) -> list[BaseRoute]:
        """Push mode's routes, then the acknowledgement routes whose secret is set."""
        routes = super().routes()
        if self.pagerduty_secret:
            for result in ACK_RESULTS:
                self.metrics.webhook_deliveries.labels("pagerduty", result)
            routes.append(Route(PAGERDUTY_PATH, self._pagerduty, methods=["POST"]))
        return routes

    async def _pagerduty(self, request: Request) -> Response:
        def check(body: bytes) -> AckEvent | None:
            verify_pagerduty(body, request.headers.get(PAGERDUTY_SIGNATURE),
                             secret=self.pagerduty_secret or "", limits=self.limits)
            found = parse_pagerduty(body, now=self.clock())
            if found is not None and (self.known is None or not self.known(found.page)):
                raise DeliveryRefusedError(404, "unknown_ticket",
                                           "no page of afterhours opened this incident")
            return found

        return await self._receive("pagerduty", request, check, self.queue.offer_ack,
                                   lambda event: {"ticket_id": event.ticket_id,
                                                  "acknowledged_in": event.ack.source})
