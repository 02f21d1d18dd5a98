"""A daemon taking acknowledgements (PagerDuty's webhook, Slack's clicks) on the twins: its
service, HTTP server and queue, and what its loop does when one waits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from afterhours.bootstrap import build_service
from afterhours.clock import ManualClock
from afterhours.ops.server import HttpServer, start_server
from afterhours.policy import load_policy
from afterhours.push.ack_handling import take_acks
from afterhours.push.mode import push_mode
from afterhours.push.queue import PushQueue
from afterhours.retrying import RetryPolicy
from afterhours.service import Service
from afterhours.settings import Settings
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.pagerduty import PagerDutyTwin
from afterhours.twins.zendesk import ZendeskTwin
from factories import PAGERDUTY_HEAD, twin_settings

# An after-hours outage pages the leads (PagerDuty) and the desk (chat) at once, and the desk
# again 30 minutes in, until a first reply or an acknowledgement.
POLICY = PAGERDUTY_HEAD + """\
priority_rules:
  - name: outage
    when: {keywords: [down]}
    priority: urgent
escalations:
  - name: p1
    when: {priorities: [urgent]}
    levels:
      - id: page
        after_minutes: 0
        until: first_reply
        page: leads
        notify: desk
      - id: lead
        after_minutes: 30
        until: first_reply
        notify: desk
"""


@dataclass
class AckDaemon:
    """The daemon with its HTTP server and push queue."""

    service: Service
    server: HttpServer
    queue: PushQueue
    sender: Any = None  # the vendor's side: PagerDuty's webhook, Slack's clicks

    def settle(self) -> None:
        """What the loop does when an acknowledgement waits: record it, run a pass."""
        assert take_acks(self.service, self.queue) > 0
        self.service.run_pass(read_export=False)

    def deliveries(self, source: str, result: str) -> float:
        """afterhours_webhook_deliveries_total for `source` and `result`."""
        return self.service.metrics.registry.get_sample_value(
            "afterhours_webhook_deliveries_total", {"source": source, "result": result}) or 0


def ack_settings(  # noqa: PLR0917  (one of each twin, then the daemon's files)
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, pagerduty: PagerDutyTwin,
    policy: str, folder: Path, **secrets: SecretStr,
) -> Settings:
    """The settings of a daemon on the twins for `policy` (written to `folder`), its chat
    channel `desk` and PagerDuty channel `pager`, with its HTTP server and `secrets`."""
    policy_file = folder / "policy.yaml"
    policy_file.write_text(policy, encoding="utf-8")
    return twin_settings(
        zendesk, jira, chat, ["desk"], folder / "state.sqlite3", policy_file=policy_file,
        http_listen="127.0.0.1:0",
        pagerduty_routing_keys={"pager": SecretStr(pagerduty.add_service("Support"))},
        pagerduty_events_url=pagerduty.base_url, **secrets)


@contextmanager
def ack_daemon(settings: Settings, clock: ManualClock, sender: Callable[[str], Any]
               ) -> Iterator[AckDaemon]:
    """The daemon as `run` builds it (retries do not wait), its server up on a free port;
    `sender` makes the vendor's side from the server's URL."""
    policy = settings.policy_file
    service = build_service(settings, load_policy(policy).policy, clock=clock,
                            retry=RetryPolicy(attempts=2, sleep=lambda _: None))
    mode = push_mode(settings, service)
    assert mode.queue is not None
    server = start_server("127.0.0.1:0", service.health, service.metrics, mode.routes)
    try:
        yield AckDaemon(service, server, mode.queue, sender(server.url))
    finally:
        server.stop()
        service.close()
