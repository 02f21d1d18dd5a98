"""Hostile tickets through the daemon and the twins: what lands in Jira (Cloud: REST v3 with
ADF, validated against Atlassian's spec by the contract plugin; Data Center: v2 with wiki
markup) and in chat, odd shapes read without a crash, and a ticket that cannot be processed
audited and skipped while the pass goes on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from afterhours import settling as settling_module
from afterhours.bootstrap import build_service
from afterhours.clock import ManualClock
from afterhours.domain.model import Ticket
from afterhours.policy import load_policy
from afterhours.retrying import RetryPolicy
from afterhours.service import Service
from afterhours.settings import Settings
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from hostile.checks import (
    EVERY_TRICK,
    SAMPLES,
    adf_problems,
    adf_text,
    block_problems,
    chat_problems,
    wiki_problems,
)

pytestmark = pytest.mark.integration
POLICY = load_policy(Path(__file__).parents[2] / "config" / "policy.yaml").policy
# A bug route files it in Jira: "crashes" before any trick, none of which says "refund".
TRICKS = "\n\n".join(text for name, text in SAMPLES.items()
                     if name not in ("zero-width", "rtl-override", "full-width"))


@dataclass
class Desk:
    """A daemon on the twins with an organization's requester to file tickets as."""

    service: Service
    zendesk: ZendeskTwin
    clock: ManualClock
    requester: int
    organization: int

    def file(self, subject: str, description: str, **fields: Any) -> int:
        """File a ticket now; the export shows it once some minutes have passed."""
        ticket = self.zendesk.create_ticket(subject=subject, description=description,
                                            requester_id=self.requester,
                                            created_at=self.clock(), **fields)
        self.clock.advance(timedelta(minutes=5))
        return int(ticket["id"])

    def url(self, kind: str, record: int) -> str:
        """Where an agent opens a ticket or an organization: afterhours' own links."""
        return f"{self.zendesk.base_url}/agent/{kind}/{record}"


def start(zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, clock: ManualClock,
          state: Path) -> Desk:
    for group in ("Finance", "Engineering", "Support", "Support Leads"):
        zendesk.add_group(group)
    organization = int(zendesk.add_organization("Evil <!here> [x|https://evil.example]")["id"])
    requester = int(zendesk.add_user("Mallory", "mallory@evil.example",
                                     organization_id=organization)["id"])
    settings = Settings(
        zendesk_url=zendesk.base_url, zendesk_email="bot@example.com",
        zendesk_token=SecretStr("zd-token"), jira_url=jira.base_url,
        jira_email="bot@example.com", jira_token=SecretStr("jira-token"),
        webhooks={c: SecretStr(chat.webhook_url(c)) for c in POLICY.channels},
        state_db=state, backfill_hours=1,
    )
    service = build_service(settings, POLICY, clock=clock,
                            retry=RetryPolicy(sleep=clock.sleep))
    return Desk(service, zendesk, clock, requester, organization)


@pytest.fixture
def desk(zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, clock: ManualClock,
         tmp_path: Path) -> Iterator[Desk]:
    running = start(zendesk, jira, chat, clock, tmp_path / "state.sqlite3")
    yield running
    running.service.close()


def test_jira_cloud_gets_v3_adf_where_the_tricks_are_text_and_chat_gets_them_inert(
    desk: Desk, jira: JiraTwin, chat: ChatTwin,
) -> None:
    ticket = desk.file(f"App crashes {TRICKS}", f"It crashes.\n\n{TRICKS}")
    report = desk.service.run_pass()
    assert (report.crashed, report.failed, report.deferred) == (0, 0, 0)

    # Cloud: one bulk create on REST v3 (the contract plugin validates it against the spec).
    assert jira.server.requests["POST /rest/api/3/issue/bulk"] == 1
    assert jira.server.requests["POST /rest/api/2/issue/bulk"] == 0
    (issue,) = jira.issues()
    ours = {desk.url("tickets", ticket), desk.url("organizations", desk.organization)}
    description = issue["fields"]["description"]
    assert adf_problems(description, ours) == []
    quoted = next(n for n in description["content"] if n["type"] == "blockquote")
    assert "[~accountid:5b10a2844c20165700ede21g]" in adf_text(quoted)
    assert "<script>" in issue["fields"]["summary"]  # a summary is plain text in Jira
    assert "\n" not in issue["fields"]["summary"]

    (body,) = chat.bodies("engineering")
    # The only links and mentions: the ticket, the Jira issue it was filed as, and the
    # Engineering Managers the policy names for this channel.
    links = {desk.url("tickets", ticket), f"{jira.base_url}/browse/{issue['key']}"}
    mentions = frozenset(f"<!subteam^{i}>" for i in POLICY.channels["engineering"].mentions)
    assert mentions
    assert body["text"].startswith(" ".join(sorted(mentions)))
    assert f"Jira: <{jira.base_url}/browse/{issue['key']}|{issue['key']}>" in body["text"]
    assert chat_problems(body["text"], links, mentions) == []
    assert block_problems(body, links, mentions) == []
    assert (body["unfurl_links"], body["unfurl_media"]) == (False, False)


def test_jira_data_center_gets_v2_wiki_markup_escaped_in_full(
    zendesk: ZendeskTwin, chat: ChatTwin, clock: ManualClock, tmp_path: Path,
) -> None:
    with JiraTwin(clock, deployment_type="Server") as data_center:
        data_center.add_project("ENG", "Engineering")
        desk = start(zendesk, data_center, chat, clock, tmp_path / "state.sqlite3")
        try:
            ticket = desk.file(f"App crashes {TRICKS}", f"It crashes.\n\n{TRICKS}")
            assert desk.service.run_pass().clean
        finally:
            desk.service.close()
        assert data_center.server.requests["POST /rest/api/2/issue/bulk"] == 1
        (issue,) = data_center.issues()
    description = issue["fields"]["description"]
    ours = {desk.url("tickets", ticket), desk.url("organizations", desk.organization)}
    assert isinstance(description, str)
    assert wiki_problems(description, ours) == []
    assert "{ noformat}" in description  # the customer's attempt, broken


def test_a_zero_width_refund_is_routed_to_billing(desk: Desk, chat: ChatTwin) -> None:
    ticket = desk.file("re\u200bfund for a double \u202echarge", "Please re\u200bfund.")
    desk.service.run_pass()
    assert desk.zendesk.ticket(ticket)["group_id"] is not None
    assert "billing" in desk.zendesk.ticket(ticket)["tags"]
    (message,) = chat.messages("finance")
    assert "\u202e" not in message
    assert "“re\u200bfund for a double charge”" in message  # as typed, but for the override


@pytest.mark.parametrize(("subject", "description", "shape"), [
    pytest.param("App crashes", "x" * 1_000_000, {}, id="1MB-description"),
    pytest.param("App crashes \x00\ud800", "nul \x00 and \udfff surrogate", {}, id="nul-surrogate"),
    pytest.param("App crashes", "<html><body onload=x()>", {"subject": None, "description": None,
                                                              "priority": None, "via": None},
                 id="nulls"),
    pytest.param("App crashes", "d", {"custom_fields": [{"id": 424242, "value": "x"},
                                                        {"id": "nope"}, None, 7]},
                 id="unknown-custom-fields"),
    pytest.param("App crashes", "d", {"tags": [{"a": 1}, None, 5], "requester_id": "me",
                                      "organization_id": [1]}, id="odd-types"),
])
def test_odd_and_hostile_tickets_are_read_and_handled_without_a_crash(
    desk: Desk, jira: JiraTwin, subject: str, description: str, shape: dict[str, Any],
) -> None:
    ticket = desk.file(subject, description)
    if shape:
        desk.zendesk.corrupt_ticket(ticket, **shape)
    report = desk.service.run_pass()
    assert (report.crashed, report.quarantined, report.export_failed) == (0, 0, False)
    assert desk.service.state.ticket(ticket) is not None
    for issue in jira.issues():
        assert adf_problems(issue["fields"]["description"], {
            desk.url("tickets", ticket), desk.url("organizations", desk.organization)}) == []


def test_a_ticket_that_cannot_be_processed_is_audited_and_skipped_and_the_pass_goes_on(
    desk: Desk, monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad = desk.file("App crashes", EVERY_TRICK)
    good = desk.file("Refund please", "twice charged")
    plan = settling_module.plan_actions

    def planner(ticket: Ticket, *args: Any) -> Any:
        if ticket.id == bad:
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return plan(ticket, *args)

    monkeypatch.setattr(settling_module, "plan_actions", planner)
    for _ in range(2):
        report = desk.service.run_pass()
        assert report.crashed == 1
    assert "billing" in desk.zendesk.ticket(good)["tags"]  # the pass went on
    crashes = [r for r in desk.service.state.audit(ticket_id=bad) if r.outcome == "ticket_crashed"]
    assert len(crashes) == 1  # once, not once a pass
    assert crashes[0].reason.startswith("the ticket could not be processed and was skipped")
    assert "UnicodeEncodeError" in crashes[0].reason
    assert "{noformat}" not in crashes[0].reason  # the reason, never the ticket's text
