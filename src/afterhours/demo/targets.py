"""The demo's escalation targets beside the chat webhooks: a PagerDuty service, an e-mail
channel and a Slack channel through the Web API, each on a twin of its own over real HTTP
and SMTP, so `afterhours demo` and `afterhours twins` show a page triggered and resolved, a
mail to the on-call pair, and a Slack message updated in place when the ladder stops.

The shipped policy declares chat webhooks only (a deployment needs no PagerDuty, SMTP or
Slack app to start); the demo adds the three targets to its after-hours P1 ladder
(`with_targets`). A policy given with --policy is taken as it is: the twins serve whichever
of these channel types it declares. The SMTP twin needs aiosmtpd, a development dependency:
where it is not installed (the container image), the demo goes without the e-mail target.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import SecretStr

from afterhours.clock import Clock
from afterhours.policy import Policy
from afterhours.twins.pagerduty import PagerDutyTwin
from afterhours.twins.slack_api import SlackApiTwin

if TYPE_CHECKING:
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


def smtp_twin_available() -> bool:
    """Whether the SMTP twin can run here (aiosmtpd is installed)."""
    return find_spec("aiosmtpd") is not None


def with_targets(text: str, *, mail: bool = True) -> str:
    """The policy YAML `text` with the targets: the P1 ladder's first level pages PagerDuty
    beside its chat page, and more levels at once post to Slack through the Web API and
    (with `mail`) mail the on-call pair, each until the first reply."""
    data = yaml.safe_load(text)
    added = {name: c for name, c in _CHANNELS.items() if mail or name != MAIL}
    data["channels"] = {**data.get("channels", {}), **added}
    for ladder in data["escalations"]["rules"]:
        if ladder.get("id") == LADDER:
            ladder["levels"][0]["notify"] = PAGER
            ladder["levels"] += [
                {"id": level, "after_minutes": 0, "until": "first_reply", "notify": name}
                for level, name in (("slack", ROOM), ("mail", MAIL)) if name in added]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def write_demo_policy(text: str, folder: Path) -> Path:
    """`with_targets(text)` written to `folder` (the e-mail target only where the SMTP
    twin can run); its path."""
    path = folder / "demo-policy.yaml"
    path.write_text(with_targets(text, mail=smtp_twin_available()), encoding="utf-8")
    return path


@dataclass
class TargetTwins:
    """The PagerDuty, SMTP and Slack Web API twins, and the settings that point at them."""

    clock: Clock | None = None
    pagerduty: PagerDutyTwin = field(init=False)
    smtp: SmtpTwin | None = field(init=False)  # None: aiosmtpd is not installed
    slack: SlackApiTwin = field(init=False)
    _keys: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pagerduty = PagerDutyTwin(self.clock)
        self.smtp = None
        if smtp_twin_available():
            from afterhours.twins.smtp import SmtpTwin  # noqa: PLC0415  (a dev dependency)

            self.smtp = SmtpTwin()
        self.slack = SlackApiTwin(self.clock)

    def start(self, policy: Policy) -> None:
        """Serve all three on 127.0.0.1, with a service per PagerDuty channel of `policy`
        and the bot in each of its Slack conversations."""
        self.pagerduty.start()
        if self.smtp is not None:
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
        if self.smtp is not None:
            self.smtp.stop()
        self.pagerduty.stop()

    def settings(self) -> dict[str, Any]:
        """The Settings fields that send every target to its twin."""
        found = {name.removeprefix("AFTERHOURS_").lower(): value
                 for name, value in self.environment().items()}
        return {
            **{name: SecretStr(value) for name, value in found.items()
               if name in ("smtp_url", "smtp_password", "slack_bot_token")},
            **{name: found[name] for name in ("pagerduty_events_url", "smtp_from",
                                               "smtp_ca_file", "slack_api_url") if name in found},
            "pagerduty_routing_keys": {n: SecretStr(k) for n, k in self._keys.items()},
        }

    def environment(self) -> dict[str, str]:
        """The same as AFTERHOURS_ variables, for `afterhours twins`' export lines."""
        found = {
            "AFTERHOURS_PAGERDUTY_ROUTING_KEYS": json.dumps(self._keys),
            "AFTERHOURS_PAGERDUTY_EVENTS_URL": self.pagerduty.base_url,
            "AFTERHOURS_SLACK_BOT_TOKEN": self.slack.token,
            "AFTERHOURS_SLACK_API_URL": self.slack.api_url,
        }
        smtp = self.smtp
        if smtp is not None:
            found |= {
                "AFTERHOURS_SMTP_URL": smtp.url.replace("://", f"://{smtp.user}@", 1),
                "AFTERHOURS_SMTP_FROM": SENDER, "AFTERHOURS_SMTP_PASSWORD": smtp.password,
                "AFTERHOURS_SMTP_CA_FILE": smtp.ca_file}
        return found
