"""Sync-back through the twins with the shipped SOP policy: a bug filed after hours, then its
Jira issue's progress reaching the ticket, and the ticket's reaching the issue, once each."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from afterhours.clock import ManualClock
from afterhours.outcomes import PassReport
from afterhours.settings import Settings
from afterhours.syncback import sync_issues
from afterhours.twins.chat import ChatTwin
from afterhours.twins.faults import FaultRule
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from twin_daemon import MINUTE, Daemon, sop_settings

pytestmark = pytest.mark.integration

SOP = Path(__file__).parents[2] / "config" / "policy.yaml"


@pytest.fixture
def settings(
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    return sop_settings((zendesk, jira, chat), SOP, tmp_path / "state.sqlite3", monkeypatch)


@pytest.fixture
def daemon(settings: Settings, clock: ManualClock) -> Iterator[Daemon]:
    with Daemon(settings, clock) as running:
        yield running


@pytest.fixture
def customer(zendesk: ZendeskTwin) -> int:
    return int(zendesk.add_user("Bob Ortiz", "bob@initech.com")["id"])


def file_bug(zendesk: ZendeskTwin, clock: ManualClock, customer: int) -> int:
    return int(zendesk.create_ticket(
        subject="The app crashes on login", description="Since this morning it crashes.",
        requester_id=customer, created_at=clock())["id"])


def notes(zendesk: ZendeskTwin, ticket_id: int, text: str) -> list[str]:
    return [c["body"] for c in zendesk.comments(ticket_id) if text in c["body"]]


def issue_comments(jira: JiraTwin, key: str) -> list[Any]:
    return [c["body"] for c in jira.issue(key)["fields"]["comment"]["comments"]]


def filed(zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, ticket_id: int) -> str:
    daemon.run_pass()
    [issue] = jira.issues()
    assert f"zendesk-{ticket_id}" in issue["fields"]["labels"]
    return str(issue["key"])


def test_progress_reaches_the_ticket_once_and_the_solve_reaches_the_issue(
    zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, clock: ManualClock, customer: int,
) -> None:
    ticket = file_bug(zendesk, clock, customer)
    key = filed(zendesk, jira, daemon, ticket)

    # In Progress: one internal note with the issue's link, whatever the passes after it.
    jira.transition(key, "In Progress", author="Dana Engineer")
    for _ in range(3):
        daemon.run_pass()
    [note] = notes(zendesk, ticket, f"Jira {key} changed")
    assert f"Jira {key} changed (Dana Engineer): status To Do → In Progress." in note
    assert f"{jira.base_url}/browse/{key}" in note
    assert not zendesk.comments(ticket)[-1]["public"]

    # A marked comment is copied, once; an unmarked one never.
    jira.add_comment(key, "[zendesk] Found it: the session cache. Fix in review.",
                     author="Dana Engineer")
    jira.add_comment(key, "Root cause: we never invalidate on logout.", author="Dana Engineer")
    daemon.run_pass()
    daemon.restart()
    daemon.run_pass()
    [copied] = notes(zendesk, ticket, "commented on Jira")
    assert "Found it: the session cache. Fix in review." in copied
    assert "[zendesk]" not in copied
    assert notes(zendesk, ticket, "Root cause") == []

    # The agent solves the ticket while the issue is open: one comment and a label in Jira.
    zendesk.agent_update(ticket, status="solved")
    daemon.run_pass()
    daemon.run_pass()
    solved = [c for c in issue_comments(jira, key) if "was solved by the support team" in str(c)]
    assert len(solved) == 1
    assert "ticket-solved" in jira.issue(key)["fields"]["labels"]

    # Resolved with a fix version: the ticket reopened, tagged, and told, once.
    jira.add_version("ENG", "4.2", released=True)
    jira.set_fix_versions(key, ["4.2"], author="Dana Engineer")
    jira.transition(key, "Done", author="Dana Engineer")
    for _ in range(3):
        daemon.run_pass()
    now = zendesk.ticket(ticket)
    assert now["status"] == "open"
    assert "jira_fixed" in now["tags"]
    replies = [c for c in zendesk.comments(ticket) if c["public"] and "4.2" in c["body"]]
    assert len(replies) == 1
    assert "is fixed in release\n4.2" in replies[0]["body"]
    # The notes of the fix version and the resolution came too, each once.
    assert len(notes(zendesk, ticket, "fix version 4.2 added")) == 1
    assert len(notes(zendesk, ticket, "resolved as Done")) == 1
    # No echo: afterhours' own reopening tells Jira nothing, its own comments flow nowhere.
    comments_before = issue_comments(jira, key)
    assert not [c for c in comments_before if "reopened" in str(c)]
    daemon.restart()
    for _ in range(2):
        daemon.run_pass()
    assert issue_comments(jira, key) == comments_before
    assert len([c for c in zendesk.comments(ticket) if c["public"] and "4.2" in c["body"]]) == 1


def test_a_second_ticket_labelled_on_the_issue_gets_the_same_updates(
    zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, clock: ManualClock, customer: int,
) -> None:
    first = file_bug(zendesk, clock, customer)
    key = filed(zendesk, jira, daemon, first)
    second = int(zendesk.create_ticket(subject="Login broken for us too", description="Same.",
                                       requester_id=customer)["id"])
    daemon.run_pass()
    jira.add_label(key, f"zendesk-{second}")
    daemon.run_pass()
    jira.transition(key, "In Progress")
    daemon.run_pass()
    daemon.run_pass()
    for ticket in (first, second):
        assert len(notes(zendesk, ticket, "status To Do → In Progress")) == 1, ticket
    # The label itself flows to no one as a note (labels are not in notes_on).
    assert notes(zendesk, second, "labels") == []


def test_a_lost_answer_is_looked_up_not_repeated(
    zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, clock: ManualClock, customer: int,
) -> None:
    ticket = file_bug(zendesk, clock, customer)
    key = filed(zendesk, jira, daemon, ticket)
    jira.transition(key, "In Progress")
    # The note lands in Zendesk, its answer never reaches afterhours.
    rule = zendesk.server.faults.add(FaultRule("PUT /api/v2/tickets/{id}.json",
                                               drop_after_commit_rate=1.0))
    report = daemon.run_pass()
    assert report.deferred >= 1
    zendesk.server.faults.clear()
    del rule
    daemon.restart()
    daemon.run_pass()
    assert len(notes(zendesk, ticket, "status To Do → In Progress")) == 1
    # The same for a comment on the issue: posted, its answer lost, found by its marker.
    zendesk.agent_update(ticket, status="solved")
    jira.server.faults.add(FaultRule("POST /rest/api/3/issue/{key}/comment",
                                     drop_after_commit_rate=1.0))
    daemon.run_pass()
    jira.server.faults.clear()
    daemon.run_pass()
    daemon.run_pass()
    solved = [c for c in issue_comments(jira, key) if "was solved" in str(c)]
    assert len(solved) == 1


def test_a_webhook_syncs_at_once_and_a_lost_one_is_caught_by_the_poll(
    zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, clock: ManualClock, customer: int,
) -> None:
    ticket = file_bug(zendesk, clock, customer)
    key = filed(zendesk, jira, daemon, ticket)
    jira.transition(key, "In Progress")
    report = PassReport()
    sync_issues(daemon.service, [key], report)
    assert report.done == 1
    assert len(notes(zendesk, ticket, "To Do → In Progress")) == 1
    clock.advance(MINUTE)
    jira.transition(key, "In Review")  # its webhook lost: the next poll brings it
    daemon.run_pass()
    assert len(notes(zendesk, ticket, "In Progress → In Review")) == 1
    assert len(notes(zendesk, ticket, "To Do → In Progress")) == 1


class Killed(BaseException):
    """The daemon dying on the spot (SIGKILL): nothing after it runs."""


def test_killed_right_after_a_flow_landed_nothing_is_duplicated(  # noqa: PLR0917  (fixtures)
    zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, clock: ManualClock, customer: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticket = file_bug(zendesk, clock, customer)
    key = filed(zendesk, jira, daemon, ticket)
    jira.transition(key, "In Progress")
    desk = daemon.service.desk
    update = desk.update_ticket

    def update_then_die(*args: Any) -> Any:
        update(*args)
        raise Killed

    monkeypatch.setattr(desk, "update_ticket", update_then_die)
    with pytest.raises(Killed):
        daemon.run_pass()
    monkeypatch.undo()
    daemon.restart()
    daemon.run_pass()
    assert len(notes(zendesk, ticket, "To Do → In Progress")) == 1

    zendesk.agent_update(ticket, status="solved")
    tracker = daemon.service.tracker
    comment = tracker.comment_on_issue

    def comment_then_die(*args: Any) -> Any:
        comment(*args)
        raise Killed

    monkeypatch.setattr(tracker, "comment_on_issue", comment_then_die)
    with pytest.raises(Killed):
        daemon.run_pass()
    monkeypatch.undo()
    daemon.restart()
    daemon.run_pass()
    daemon.run_pass()
    assert len([c for c in issue_comments(jira, key) if "was solved" in str(c)]) == 1
    assert jira.issue(key)["fields"]["labels"].count("ticket-solved") == 1


def test_a_reopening_and_a_customer_comment_reach_the_open_issue_once(
    zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, clock: ManualClock, customer: int,
) -> None:
    ticket = file_bug(zendesk, clock, customer)
    key = filed(zendesk, jira, daemon, ticket)
    zendesk.agent_update(ticket, status="solved")
    daemon.run_pass()
    zendesk.add_comment(ticket, "It is back again! <b>Please</b> look.", author_id=customer)
    assert zendesk.ticket(ticket)["status"] == "open"  # the requester's answer reopened it
    for _ in range(3):
        daemon.run_pass()
    said = [str(c) for c in issue_comments(jira, key)]
    assert len([c for c in said if "was solved" in c]) == 1
    assert len([c for c in said if f"Zendesk ticket #{ticket} was reopened." in c]) == 1
    [quoted] = [c for c in said if "The customer added to Zendesk ticket" in c]
    assert "It is back again! <b>Please</b> look." in quoted


def test_a_fix_days_later_reopens_the_ticket_without_escalating_it(
    zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, clock: ManualClock, customer: int,
) -> None:
    ticket = file_bug(zendesk, clock, customer)
    key = filed(zendesk, jira, daemon, ticket)
    zendesk.agent_update(ticket, status="solved")  # worked around for now
    daemon.run_pass()
    clock.advance(timedelta(days=3))
    jira.add_version("ENG", "4.3")
    jira.set_fix_versions(key, ["4.3"])
    jira.transition(key, "Done")
    for _ in range(3):
        daemon.run_pass()
    now = zendesk.ticket(ticket)
    assert now["status"] == "open"
    assert "jira_fixed" in now["tags"]
    # Open and three days old, but solved once: the unresolved-24h ladder stays stopped.
    assert "escalated_team_lead" not in now["tags"]


def test_an_issue_that_could_not_be_read_is_read_again_next_pass(
    zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, clock: ManualClock, customer: int,
) -> None:
    ticket = file_bug(zendesk, clock, customer)
    key = filed(zendesk, jira, daemon, ticket)
    jira.transition(key, "In Progress")
    clock.advance(timedelta(minutes=10))  # beyond the search lag the next poll looks back
    jira.server.faults.add(FaultRule("GET /rest/api/2/issue/{key}", error_rate=1.0))
    report = daemon.run_pass()
    assert report.deferred >= 1
    jira.server.faults.clear()
    daemon.run_pass()  # the poll's window has moved on; the issue is read all the same
    assert len(notes(zendesk, ticket, "To Do → In Progress")) == 1


def test_changes_made_while_passes_end_before_their_sync_back_are_read(
    zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customer = int(zendesk.add_user("Bob Ortiz", "bob@initech.com")["id"])
    # Passes cut short before their sync-back (a kill, a long backlog): the poll never ran,
    # so nothing marks where it should start. It must still look back to the first pass.
    monkeypatch.setattr("afterhours.service.sync_back", lambda *_: None)
    ticket = file_bug(zendesk, clock, customer)
    key = filed(zendesk, jira, daemon, ticket)
    jira.transition(key, "In Progress", author="Dana Engineer")
    clock.advance(timedelta(minutes=30))
    daemon.run_pass()
    monkeypatch.undo()

    daemon.run_pass()
    assert len(notes(zendesk, ticket, f"Jira {key} changed")) == 1


def test_a_comment_for_an_issue_resolved_meanwhile_is_settled_not_left_waiting(
    zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, clock: ManualClock,
) -> None:
    customer = int(zendesk.add_user("Bob Ortiz", "bob@initech.com")["id"])
    ticket = file_bug(zendesk, clock, customer)
    key = filed(zendesk, jira, daemon, ticket)
    # The ticket is solved while Jira refuses comments; the issue is then resolved: the
    # comment saying so is for an open issue only, so it is settled as no longer planned.
    jira.server.faults.add(FaultRule("POST /rest/api/3/issue/{key}/comment", error_rate=1.0))
    zendesk.agent_update(ticket, status="solved")
    daemon.run_pass()
    assert daemon.service.state.unsettled() > 0
    jira.server.faults.clear()
    jira.transition(key, "Done", author="Dana Engineer")
    for _ in range(3):
        daemon.run_pass()
    assert daemon.service.state.unsettled() == 0
    assert not [c for c in issue_comments(jira, key) if "was solved by the support team" in c]
