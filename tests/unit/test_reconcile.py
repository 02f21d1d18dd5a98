"""Reconcile on literal tickets: what an interrupted attempt left is looked up, not repeated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from afterhours.adapters.state import Attempt
from afterhours.domain.actions import AddInternalNote, AddTags, CreateJiraIssue, PlannedAction
from afterhours.domain.model import JiraIssueRef
from afterhours.errors import TransientError
from afterhours.reconcile import Reconciliation, reconcile
from factories import SATURDAY_NIGHT, issue_text, make_ticket

TICKET = make_ticket(id=5, subject="Export crashes")
NOTE = PlannedAction("ticket:5/route:bug/note", "route:bug", "bug",
                     AddInternalNote(5, "seen\n\n[afterhours ticket:5/route:bug/note]"))
TAGS = PlannedAction("ticket:5/route:bug/add_tags", "route:bug", "bug", AddTags(5, ("bug",)))
CREATE = PlannedAction("ticket:5/route:bug/create_jira_issue", "route:bug", "bug",
                       CreateJiraIssue(5, "ENG", "Bug", "s", issue_text(ticket_id=5),
                                       ("zendesk-5",)))
LAG = timedelta(minutes=3)


class Desk:
    def __init__(self, notes: str = "", fail: bool = False) -> None:
        self.notes, self.fail = notes, fail

    def has_note(self, ticket_id: int, marker: str) -> bool:
        if self.fail:
            raise TransientError("zendesk", "503", status=503)
        return marker in self.notes


class Tracker:
    def __init__(self, issue: JiraIssueRef | None = None) -> None:
        self.issue = issue

    def find_issue(self, ticket_id: int) -> JiraIssueRef | None:
        return self.issue


def run(desk: Any, tracker: Any, tried: dict[str, Attempt], after: timedelta) -> Reconciliation:
    # The fakes offer only what reconcile calls.
    return reconcile(TICKET, [NOTE, TAGS, CREATE], tried, desk=desk, tracker=tracker,
                     now=SATURDAY_NIGHT + after, search_lag=LAG)


def test_actions_never_tried_are_simply_to_do() -> None:
    result = run(Desk(), Tracker(), {}, timedelta(0))
    assert result.to_do == [NOTE, TAGS, CREATE]


def test_a_note_that_landed_is_found_by_its_marker_and_not_written_again() -> None:
    tried = {NOTE.key: Attempt(1, SATURDAY_NIGHT)}
    result = run(Desk(notes="seen\n\n[afterhours ticket:5/route:bug/note]"), Tracker(), tried,
                 timedelta(seconds=5))
    assert [p for p, _ in result.landed] == [NOTE]
    assert NOTE not in result.to_do


def test_a_note_that_did_not_land_is_written() -> None:
    tried = {NOTE.key: Attempt(1, SATURDAY_NIGHT)}
    assert NOTE in run(Desk(notes="other"), Tracker(), tried, timedelta(seconds=5)).to_do


def test_an_issue_search_cannot_see_yet_waits_for_the_index() -> None:
    tried = {CREATE.key: Attempt(1, SATURDAY_NIGHT)}
    result = run(Desk(), Tracker(), tried, LAG - timedelta(seconds=1))
    assert [p for p, _ in result.waiting] == [CREATE]
    assert "search" in result.waiting[0][1]


def test_an_issue_still_missing_after_the_lag_is_filed() -> None:
    tried = {CREATE.key: Attempt(2, SATURDAY_NIGHT)}
    assert CREATE in run(Desk(), Tracker(), tried, LAG).to_do


def test_an_issue_that_landed_is_adopted() -> None:
    issue = JiraIssueRef("ENG-9", "https://jira.example/browse/ENG-9")
    tried = {CREATE.key: Attempt(1, SATURDAY_NIGHT)}
    result = run(Desk(), Tracker(issue), tried, timedelta(seconds=1))
    assert result.issue == issue
    assert [p for p, _ in result.landed] == [CREATE]


def test_unable_to_look_means_waiting_never_guessing() -> None:
    tried = {NOTE.key: Attempt(1, SATURDAY_NIGHT)}
    result = run(Desk(fail=True), Tracker(), tried, timedelta(seconds=5))
    assert [p for p, _ in result.waiting] == [NOTE]
