"""The demo's escalation targets beside the chat webhooks: a PagerDuty service, an e-mail
channel and a Slack channel through the Web API, each on a twin of its own over real HTTP
and SMTP, so `afterhours demo` and `afterhours twins` show a page triggered and resolved, a
mail to the on-call pair, and a Slack message updated in place when the ladder stops.

The shipped policy declares chat webhooks only (a deployment needs no PagerDuty, SMTP or
Slack app to start); the demo adds the three targets to its after-hours P1 ladder
(`with_targets`). A policy given with --policy is taken as it is: the twins serve whichever
of these channel types it declares.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from afterhours.clock import Clock
from afterhours.policy import Policy
from afterhours.twins.pagerduty import PagerDutyTwin
from afterhours.twins.slack_api import SlackApiTwin
from afterhours.twins.smtp import SmtpTwin

PAGER, MAIL, ROOM = "pagerduty-leads", "oncall-mail", "oncall-room"
CONVERSATION = "C0SUPPORT1"  # the demo's Slack channel id
LADDER = "p1-after-hours"
SENDER = "afterhours@acme.example"
_CHANNELS = {
    PAGER: {"type": "pagerduty",
            "description": "PagerDuty: the Support Leads service (its phone rota)"},
    MAIL: {"type": "email", "to": ["oncall:support-leads"],
           "description": "mail to the support lead on call and the backup"},
    ROOM: {"type": "slack", "conversation": CONVERSATION,
           "description": "#support-oncall through the Slack app: updated when the ladder stops"},
}


def with_targets(text: str) -> str:
    """The policy YAML `text` with the three targets: the P1 ladder's first level pages
    PagerDuty beside its chat page, and two more levels at once post to Slack through the
    Web API and mail the on-call pair, each until the first reply."""
    data = yaml.safe_load(text)
    data["channels"] = {**data.get("channels", {}), **_CHANNELS}
    for ladder in data["escalations"]["rules"]:
        if ladder.get("id") == LADDER:
            ladder["levels"][0]["notify"] = PAGER
            ladder["levels"] += [
                {"id": "slack", "after_minutes": 0, "until": "first_reply", "notify": ROOM},
                {"id": "mail", "after_minutes": 0, "until": "first_reply", "notify": MAIL}]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def write_demo_policy(text: str, folder: Path) -> Path:
    """`with_targets(text)` written to `folder`; its path."""
    path = folder / "demo-policy.yaml"
    path.write_text(with_targets(text), encoding="utf-8")
    return path


@dataclass
class TargetTwins:
    """The PagerDuty, SMTP and Slack Web API twins, and the settings that point at them."""

    clock: Clock | None = None
    pagerduty: PagerDutyTwin = field(init=False)
    smtp: SmtpTwin = field(init=False)
    slack: SlackApiTwin = field(init=False)
    _keys: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pagerduty = PagerDutyTwin(self.clock)
        self.smtp = SmtpTwin()
        self.slack = SlackApiTwin(self.clock)

    def start(self, policy: Policy) -> None:
        """Serve all three on 127.0.0.1, with a service per PagerDuty channel of `policy`
        and the bot in each of its Slack conversations."""
        self.pagerduty.start()
        self.smtp.start()
        self.slack.start()
        for name, channel in policy.channels.items():
            if channel.type == "pagerduty":
                self._keys[name] = self.pagerduty.add_service(name)
            elif channel.type == "slack" and channel.conversation is not None:
                self.slack.add_conversation(channel.conversation)

    def stop(self) -> None:
        """Stop serving."""
        self.slack.stop()
        self.smtp.stop()
        self.pagerduty.stop()

    def settings(self) -> dict[str, Any]:
        """The Settings fields that send every target to its twin."""
        return {
            "pagerduty_routing_keys": {n: SecretStr(k) for n, k in self._keys.items()},
            "pagerduty_events_url": self.pagerduty.base_url,
            "smtp_url": SecretStr(self._smtp_url()), "smtp_from": SENDER,
            "smtp_password": SecretStr(self.smtp.password),
            "smtp_ca_file": Path(self.smtp.ca_file),
            "slack_bot_token": SecretStr(self.slack.token),
            "slack_api_url": self.slack.api_url,
        }

    def environment(self) -> dict[str, str]:
        """The same as AFTERHOURS_ variables, for `afterhours twins`' export lines."""
        return {
            "AFTERHOURS_PAGERDUTY_ROUTING_KEYS": json.dumps(self._keys),
            "AFTERHOURS_PAGERDUTY_EVENTS_URL": self.pagerduty.base_url,
            "AFTERHOURS_SMTP_URL": self._smtp_url(), "AFTERHOURS_SMTP_FROM": SENDER,
            "AFTERHOURS_SMTP_PASSWORD": self.smtp.password,
            "AFTERHOURS_SMTP_CA_FILE": self.smtp.ca_file,
            "AFTERHOURS_SLACK_BOT_TOKEN": self.slack.token,
            "AFTERHOURS_SLACK_API_URL": self.slack.api_url,
        }

    def _smtp_url(self) -> str:
        return self.smtp.url.replace("://", f"://{self.smtp.user}@", 1)
