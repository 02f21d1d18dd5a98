"""`{articles}` in the acknowledgement, through the twins: the right help-center articles,
none for an unrelated ticket, the reply sent without them when Guide fails, one search per
words within the cache's lifetime."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from afterhours.clock import ManualClock
from afterhours.settings import Settings
from afterhours.twins.chat import ChatTwin
from afterhours.twins.faults import FaultRule
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from twin_daemon import Daemon, sop_settings

pytestmark = pytest.mark.integration

SOP = Path(__file__).parents[2] / "config" / "policy.yaml"
SEARCH = "GET /api/v2/help_center/articles/search.json"


@pytest.fixture
def settings(zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Settings:
    data: dict[str, Any] = yaml.safe_load(SOP.read_text(encoding="utf-8"))
    data["articles"] = {"max_articles": 2, "threshold": 50, "sections": [101]}
    data["templates"]["after-hours-ack"] += "\nThese may help meanwhile:\n{articles}\n"
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    help_center = zendesk.help_center
    help_center.add_article("Exporting contacts to CSV", "How to export contacts.",
                            section_id=101)
    help_center.add_article("Why a CSV export fails", "When an export fails, check...",
                            section_id=101)
    help_center.add_article("Export runbook (internal)", "Agents only: export fails...",
                            section_id=202)
    help_center.add_article("Resetting your password", "Forgot your password?",
                            section_id=101)
    return sop_settings((zendesk, jira, chat), policy, tmp_path / "state.sqlite3",
                        monkeypatch)


@pytest.fixture
def daemon(settings: Settings, clock: ManualClock) -> Iterator[Daemon]:
    with Daemon(settings, clock) as running:
        yield running


def ack(zendesk: ZendeskTwin, ticket: int) -> str:
    [reply] = [c["body"] for c in zendesk.comments(ticket)
               if c["public"] and "Thank you for contacting us" in c["body"]]
    return str(reply)


def open_ticket(zendesk: ZendeskTwin, clock: ManualClock, subject: str,
                description: str) -> int:
    person = int(zendesk.add_user("Ann", f"ann{len(subject)}@example.com")["id"])
    return int(zendesk.create_ticket(subject=subject, description=description,
                                     requester_id=person, created_at=clock())["id"])


def test_the_acknowledgement_offers_the_right_articles_and_none_for_an_unrelated_ticket(
    zendesk: ZendeskTwin, daemon: Daemon, clock: ManualClock,
) -> None:
    export = open_ticket(zendesk, clock, "CSV export fails", "The export of contacts fails.")
    other = open_ticket(zendesk, clock, "Question about my invoice", "Is VAT included?")
    daemon.run_pass()
    reply = ack(zendesk, export)
    base = zendesk.base_url
    assert "- Why a CSV export fails: " + base + "/hc/en-us/articles/" in reply
    assert "- Exporting contacts to CSV: " + base + "/hc/en-us/articles/" in reply
    assert "runbook" not in reply  # a section the policy does not allow
    assert "password" not in reply.lower()
    unrelated = ack(zendesk, other)
    assert unrelated.rstrip().endswith("These may help meanwhile:")


def test_the_reply_goes_out_without_articles_when_guide_fails(
    zendesk: ZendeskTwin, daemon: Daemon, clock: ManualClock,
) -> None:
    zendesk.server.faults.add(FaultRule(SEARCH, error_rate=1.0, error_status=503))
    ticket = open_ticket(zendesk, clock, "CSV export fails", "The export of contacts fails.")
    report = daemon.run_pass()
    assert report.failed == 0
    assert "/hc/en-us/articles/" not in ack(zendesk, ticket)
    assert zendesk.server.faults.counts["503"] == 1  # held off after one failure, no retries


def test_one_search_per_words_while_the_cache_keeps_it(
    zendesk: ZendeskTwin, daemon: Daemon, clock: ManualClock,
) -> None:
    first = open_ticket(zendesk, clock, "CSV export fails", "The export of contacts fails.")
    second = open_ticket(zendesk, clock, "CSV export fails", "The export of contacts fails.")
    daemon.run_pass()
    assert zendesk.help_center.searches == 1
    assert ack(zendesk, first) == ack(zendesk, second).replace(f"#{second}", f"#{first}")
