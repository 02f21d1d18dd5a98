"""Every escalation target behind the one Notifier port: chat webhooks, and PagerDuty for
the channels of type pagerduty."""

from __future__ import annotations

from afterhours.adapters.notify import WebhookNotifier
from afterhours.adapters.pagerduty import SERVICE, PagerDutyPager
from afterhours.domain.actions import ResolvePage, TriggerPage
from afterhours.errors import PermanentError


class Targets:
    """Chat messages to the webhooks, pages and resolves to PagerDuty (None: not set up)."""

    def __init__(self, chat: WebhookNotifier, pager: PagerDutyPager | None = None) -> None:
        self.chat = chat
        self.pager = pager

    def notify(self, channel: str, text: str, *, key: str | None = None) -> None:
        """Post `text` to the chat channel `channel` (see WebhookNotifier.notify)."""
        self.chat.notify(channel, text, key=key)

    def trigger_page(self, action: TriggerPage) -> None:
        """Page the PagerDuty channel of `action` (see PagerDutyPager.trigger)."""
        self._pager(action.channel).trigger(action)

    def resolve_page(self, action: ResolvePage) -> None:
        """Resolve the incident of `action` (see PagerDutyPager.resolve)."""
        self._pager(action.channel).resolve(action)

    def _pager(self, channel: str) -> PagerDutyPager:
        if self.pager is None:
            raise PermanentError(SERVICE, f"no routing key configured for channel {channel!r}")
        return self.pager

    def close(self) -> None:
        """Release every target's connections."""
        self.chat.close()
        if self.pager is not None:
            self.pager.close()
