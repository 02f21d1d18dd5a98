"""Push mode from settings: the webhook routes whose secret is set, and the queue they fill
for the daemon's loop; nothing when no secret is set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from starlette.routing import BaseRoute

from afterhours.push.queue import PushQueue
from afterhours.push.routes import Receiver
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
                                    ("jira", settings.jira_webhook_secret))}
    if not any(secrets.values()):
        return PushMode()
    queue = PushQueue(settings.webhook_queue, metrics=service.metrics)
    receiver = Receiver(
        queue, service.metrics, service.clock, lambda: service.is_leader,
        Limits(timedelta(seconds=settings.webhook_window), settings.webhook_max_bytes),
        zendesk_secret=secrets["zendesk"], jira_secret=secrets["jira"])
    log.info("push.enabled", zendesk=bool(secrets["zendesk"]), jira=bool(secrets["jira"]))
    return PushMode(tuple(receiver.routes()), queue)
