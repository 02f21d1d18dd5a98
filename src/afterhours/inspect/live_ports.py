"""What `check --live` asks of the services (inspect/live.py): the Zendesk and Jira lookups,
and the probe that reaches the escalation targets beside chat, with what it may send."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from afterhours.adapters.ports import ProjectFacts


class ZendeskDirectory(Protocol):
    """The Zendesk lookups the check needs; each raises PermanentError when nothing matches."""

    def group_id(self, name: str) -> int:
        """The id of the group called `name`."""
        ...

    def agent_id(self, email: str) -> int:
        """The id of the agent or admin with `email`."""
        ...

    def field_titles(self) -> frozenset[str]:
        """The titles of the custom ticket fields."""
        ...


class JiraDirectory(Protocol):
    """The Jira lookups the check needs."""

    def project_facts(self, key: str) -> ProjectFacts | None:
        """The project's issue types and components; None when there is no such project."""
        ...

    def priority_names(self) -> frozenset[str]:
        """The names of the site's priorities."""
        ...



class TargetProbe(Protocol):
    """The escalation targets beside chat, as the check reaches them (adapters.targets)."""

    def reach_pager(self, channel: str) -> str:
        """Check a PagerDuty channel without paging anyone; its detail."""
        ...

    def test_page(self, channel: str, run: str) -> str:
        """Send one test page and resolve it at once; its detail."""
        ...

    def reach_mail(self) -> str:
        """Connect to the SMTP server, secure it and log in, sending nothing; its detail."""
        ...

    def test_mail(self, channel: str, to: tuple[str, ...], run: str) -> str:
        """Send one test mail to `to`; its detail."""
        ...

    def reach_slack(self, conversation: str, run: str, text: str) -> str:
        """Check the bot token and post the test message to `conversation`; its detail."""
        ...


@dataclass(frozen=True)
class Targets:
    """What the check needs to reach the targets beside chat: the probe, whether to send a
    test page and mail (`--send-test`), and whom each email channel mails now."""

    probe: TargetProbe
    send_test: bool = False
    mail_to: dict[str, tuple[str, ...]] = field(default_factory=dict)
    conversations: dict[str, str] = field(default_factory=dict)  # slack channel -> its id
