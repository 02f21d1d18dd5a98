"""Every escalation target behind the one Notifier port: chat webhooks, PagerDuty for the
channels of type pagerduty, SMTP for those of type email."""

from __future__ import annotations

from typing import Any

from afterhours.adapters.notify import WebhookNotifier
from afterhours.adapters.pagerduty import SERVICE, PagerDutyPager
from afterhours.adapters.slack_api import SERVICE as SLACK
from afterhours.adapters.slack_api import SlackWebApi
from afterhours.adapters.smtp import SERVICE as SMTP
from afterhours.adapters.smtp import SmtpMailer
from afterhours.domain.actions import ResolvePage, SendMail, TriggerPage, UpdateChatMessage
from afterhours.errors import PermanentError


class Targets:
    """Chat messages to the webhooks, pages and resolves to PagerDuty (None: not set up)."""

    def __init__(self, chat: WebhookNotifier, pager: PagerDutyPager | None = None,
                 mailer: SmtpMailer | None = None, *, slack: SlackWebApi | None = None,
                 buttons: bool = False) -> None:
        self.chat = chat
        self.pager = pager
        self.mailer = mailer
        self.slack = slack
        # Acknowledge and Take it on escalation messages: on when Slack's clicks are taken.
        self.buttons = buttons

    def notify(self, channel: str, text: str, *, key: str | None = None) -> None:
        """Post `text` to the chat channel `channel` (see WebhookNotifier.notify); an
        escalation's message carries the Acknowledge and Take it buttons when they are on."""
        escalating = key is not None and "/escalation:" in key
        self.chat.notify(channel, text, key=key, buttons=self.buttons and escalating)

    def post_message(self, conversation: str, text: str, *, key: str) -> str:
        """Post `text` through Slack's Web API, once per `key` (see SlackWebApi.post); the
        message's ts."""
        return self._slack().post(conversation, text, key=key,
                                  buttons=self.buttons and "/escalation:" in key)

    def update_posted(self, action: UpdateChatMessage, ts: str | None) -> dict[str, Any]:
        """Replace the message of `action.message_key` (`ts`, else looked up by its key in
        the conversation's history) with the action's text; the audit detail. A message
        never posted (its post failed for good) leaves nothing to update."""
        slack = self._slack()
        ts = ts or slack.find(action.conversation, action.message_key)
        if ts is None:
            return {"channel": action.channel, "updated": False}
        slack.update(action.conversation, ts, action.text, key=action.message_key)
        return {"channel": action.channel, "conversation": action.conversation, "ts": ts}

    def reach_slack(self, conversation: str, run: str, text: str) -> str:
        """Who the bot is, and one test message posted to `conversation` (check --live)."""
        bot = self._slack().probe()
        self._slack().post(conversation, text, key=f"afterhours-check-live:{run}:{conversation}")
        return f"{bot}: test message posted"

    def _slack(self) -> SlackWebApi:
        if self.slack is None:
            raise PermanentError(SLACK, "no Slack bot token configured"
                                 " (AFTERHOURS_SLACK_BOT_TOKEN)")
        return self.slack

    def update_message(self, response_url: str, text: str) -> None:
        """Replace a clicked message with `text` (see WebhookNotifier.respond)."""
        self.chat.respond(response_url, text)

    def trigger_page(self, action: TriggerPage) -> None:
        """Page the PagerDuty channel of `action` (see PagerDutyPager.trigger)."""
        self._pager(action.channel).trigger(action)

    def resolve_page(self, action: ResolvePage) -> None:
        """Resolve the incident of `action` (see PagerDutyPager.resolve)."""
        self._pager(action.channel).resolve(action)

    def send_mail(self, action: SendMail) -> dict[str, Any]:
        """Mail `action` (see SmtpMailer.send)."""
        if self.mailer is None:
            raise PermanentError(SMTP, f"no SMTP server configured for channel"
                                 f" {action.channel!r}")
        return self.mailer.send(action)

    def reach_pager(self, channel: str) -> str:
        """Check a PagerDuty channel without paging anyone: its routing key's shape, and
        that the events endpoint answers (an empty event, refused). Its detail, or
        ServiceError."""
        problem = self._pager(channel).key_problem(channel)
        if problem is not None:
            raise PermanentError(SERVICE, f"{channel}: the routing key {problem}")
        self._pager(channel).reachable()
        return "routing key well-formed, events endpoint reachable (no event sent)"

    def test_page(self, channel: str, run: str) -> str:
        """Send one test page, marked so, and resolve it at once; its detail."""
        key = f"afterhours-check-live:{run}:{channel}"
        self._pager(channel).trigger(TriggerPage(
            0, channel, key, "[afterhours TEST] check --live --send-test: a test page,"
            " resolved at once; nothing to do", "info", None, (("test", "true"),)))
        self._pager(channel).resolve(ResolvePage(0, channel, key))
        return "test page sent and resolved"

    def reach_mail(self) -> str:
        """Connect to the SMTP server, secure the connection and log in, sending nothing."""
        if self.mailer is None:
            raise PermanentError(SMTP, "no SMTP server configured (AFTERHOURS_SMTP_URL)")
        self.mailer.probe()
        return f"{self.mailer.where}: TLS and login accepted (nothing sent)"

    def test_mail(self, channel: str, to: tuple[str, ...], run: str) -> str:
        """Send one test mail, marked so, to `to`; its detail."""
        text = ("This is a test from `afterhours check --live --send-test`: escalations"
                f" to the channel {channel} will come like this. Nothing to do.")
        self.send_mail(SendMail(0, channel, to, "[afterhours TEST] check --live --send-test",
                                text + "\n", f"<p>{text}</p>",
                                f"afterhours-check-live:{run}:{channel}"))
        return f"test mail sent to {', '.join(to)}"

    def _pager(self, channel: str) -> PagerDutyPager:
        if self.pager is None:
            raise PermanentError(SERVICE, f"no routing key configured for channel {channel!r}")
        return self.pager

    def close(self) -> None:
        """Release every target's connections."""
        self.chat.close()
        if self.pager is not None:
            self.pager.close()
        if self.slack is not None:
            self.slack.close()
