"""The daemon as `afterhours run` builds it on the twins, for integration tests that run
whole passes and restart it between them (its state file stays)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from afterhours.bootstrap import build_service
from afterhours.clock import ManualClock
from afterhours.outcomes import PassReport
from afterhours.policy import load_policy
from afterhours.retrying import RetryPolicy
from afterhours.service import Service
from afterhours.settings import Settings
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from factories import twin_environment

MINUTE = timedelta(minutes=1)
SOP_GROUPS = ("Support", "Finance", "Engineering", "Support Leads")


def sop_settings(twins: tuple[ZendeskTwin, JiraTwin, ChatTwin], policy: Path, state: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings of a daemon on the twins with `policy` (the SOP's groups made)."""
    zendesk, jira, chat = twins
    for name in SOP_GROUPS:
        zendesk.add_group(name)
    channels = load_policy(policy).policy.channels
    for name, value in twin_environment(zendesk, jira, chat, channels, policy, state).items():
        monkeypatch.setenv(name, value)
    return Settings()


class Daemon:
    """The daemon as `afterhours run` builds it, restarted at will (the state file stays)."""

    def __init__(self, settings: Settings, clock: ManualClock) -> None:
        self.settings, self.clock = settings, clock
        self.service = self._build()

    def _build(self) -> Service:
        policy = load_policy(self.settings.policy_file).policy
        return build_service(self.settings, policy, clock=self.clock,
                             retry=RetryPolicy(attempts=2, sleep=lambda _: None))

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *_: object) -> None:
        self.service.close()

    def restart(self) -> None:
        """Close the service and build it again, as a restarted process would."""
        self.service.close()
        self.service = self._build()

    def run_pass(self) -> PassReport:
        """One pass, a minute on; what people do next happens a minute after it."""
        self.clock.advance(MINUTE)
        report = self.service.run_pass()
        assert report.crashed == 0, report
        self.clock.advance(MINUTE)
        return report
