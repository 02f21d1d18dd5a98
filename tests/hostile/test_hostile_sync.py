"""Hostile text through sync-back, both ways: a customer's comment reaches Jira as text only
(Cloud: ADF, validated against Atlassian's spec by the contract plugin; Data Center: wiki
markup), and an engineer's comment reaches the ticket inert."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from afterhours.clock import ManualClock
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from hostile.checks import EVERY_TRICK, adf_problems, adf_text, unsafe, wiki_problems
from hostile.test_hostile_daemon import Desk, start

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, clock: ManualClock,
         tmp_path: Path) -> Iterator[Desk]:
    running = start(zendesk, jira, chat, clock, tmp_path / "state.sqlite3")
    yield running
    running.service.close()


def filed(desk: Desk, jira: JiraTwin) -> tuple[int, str]:
    """A bug ticket filed in Jira, and what sync-back saw of it."""
    ticket = desk.file("App crashes", "It crashes.")
    assert desk.service.run_pass().clean
    (issue,) = jira.issues()
    return ticket, str(issue["key"])


def customer_says(desk: Desk, ticket: int, words: str) -> None:
    desk.zendesk.add_comment(ticket, words, author_id=desk.requester)
    desk.clock.advance(timedelta(minutes=5))
    report = desk.service.run_pass()
    assert (report.crashed, report.failed) == (0, 0)


def test_a_customer_comment_reaches_jira_cloud_as_text_only(desk: Desk, jira: JiraTwin) -> None:
    ticket, key = filed(desk, jira)
    customer_says(desk, ticket, EVERY_TRICK)
    assert jira.server.requests["POST /rest/api/3/issue/{key}/comment"] == 1
    (comment,) = jira.issue(key)["fields"]["comment"]["comments"]
    doc = comment["body"]
    assert adf_problems(doc, {desk.url("tickets", ticket)}) == []
    quoted = next(n for n in doc["content"] if n["type"] == "blockquote")
    assert "[~accountid:5b10a2844c20165700ede21g]" in adf_text(quoted)
    assert adf_text(doc).startswith(f"The customer added to Zendesk ticket #{ticket}: ")


def test_a_customer_comment_reaches_jira_data_center_escaped_in_full(
    zendesk: ZendeskTwin, chat: ChatTwin, clock: ManualClock, tmp_path: Path,
) -> None:
    with JiraTwin(clock, deployment_type="Server") as data_center:
        data_center.add_project("ENG", "Engineering")
        desk = start(zendesk, data_center, chat, clock, tmp_path / "state.sqlite3")
        try:
            ticket, key = filed(desk, data_center)
            customer_says(desk, ticket, EVERY_TRICK)
        finally:
            desk.service.close()
        assert data_center.server.requests["POST /rest/api/2/issue/{key}/comment"] == 1
        (comment,) = data_center.issue(key)["fields"]["comment"]["comments"]
    body = comment["body"]
    assert isinstance(body, str)
    assert wiki_problems(body, {desk.url("tickets", ticket)}) == []
    assert "{ noformat}" in body  # the customer's attempt, broken


def test_an_engineers_comment_reaches_the_ticket_inert(desk: Desk, jira: JiraTwin) -> None:
    ticket, key = filed(desk, jira)
    desk.clock.advance(timedelta(minutes=1))
    jira.add_comment(key, "[zendesk] " + EVERY_TRICK, author="Eve <script>")
    assert desk.service.run_pass().clean
    [note] = [c for c in desk.zendesk.comments(ticket) if "commented on Jira" in c["body"]]
    assert not note["public"]
    body = note["body"]
    marker = f"[afterhours sync:{key}/ticket:{ticket}/comment:"
    own = f"{jira.base_url}/browse/{key}"
    assert unsafe(body) == []
    rest = body.replace(own, "")
    assert "://" not in rest
    assert "www." not in rest
    assert rest.count("[afterhours") == 1
    assert marker in rest
    assert "<script>" in body  # shown as typed: Zendesk escapes a plain body's HTML
