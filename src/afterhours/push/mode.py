"""Push mode from settings: the webhook routes whose secret is set, and the queue they fill
for the daemon's loop; nothing when no secret is set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from starlette.routing import BaseRoute

from afterhours.adapters.state import StateStore
from afterhours.push.ack_routes import AckReceiver
from afterhours.push.queue import PushQueue
from afterhours.push.verify import Limits
from afterhours.settings import Settings

if TYPE_CHECKING:
    from afterhours.service import Service

log = structlog.get_logger()


@dataclass(frozen=True)
class PushMode:
    """The routes to mount on the HTTP server and the queue to give the loop (None: off)."""

    routes: tuple[BaseRoute, ...] = ()
    queue: PushQueue | None = None


def push_mode(settings: Settings, service: Service) -> PushMode:
    """The push routes and queue `settings` turn on, on `service`'s metrics, clock and lease."""
    secrets = {name: secret.get_secret_value() if secret is not None else None
               for name, secret in (("zendesk", settings.zendesk_webhook_secret),
                                    ("jira", settings.jira_webhook_secret),
                                    ("pagerduty", settings.pagerduty_webhook_secret),
                                    ("slack", settings.slack_signing_secret))}
    if not any(secrets.values()):
        return PushMode()
    queue = PushQueue(settings.webhook_queue, metrics=service.metrics)
    receiver = AckReceiver(
        queue, service.metrics, service.clock, lambda: service.is_leader,
        Limits(timedelta(seconds=settings.webhook_window), settings.webhook_max_bytes),
        zendesk_secret=secrets["zendesk"], jira_secret=secrets["jira"],
        pagerduty_secret=secrets["pagerduty"], slack_secret=secrets["slack"],
        known=PageLookup(settings).known)
    log.info("push.enabled", zendesk=bool(secrets["zendesk"]), jira=bool(secrets["jira"]),
             pagerduty=bool(secrets["pagerduty"]), slack=bool(secrets["slack"]))
    return PushMode(tuple(receiver.routes()), queue)


class PageLookup:
    """Whether a page of this afterhours has a dedup_key, read by the HTTP thread through a
    state handle of its own (the daemon's is its loop's alone), opened for each look: an
    acknowledgement is rare, and nothing is left open."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def known(self, key: str) -> bool:
        """Whether the ledger holds `key` (the page was at least attempted)."""
        state = StateStore(self._settings.state_url.get_secret_value(),
                           setting=self._settings.state_setting)
        try:
            return state.ledger_status(key) is not None
        finally:
            state.close()
