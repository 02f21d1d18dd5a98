"""Search on Jira Data Center, which has no search/jql: the twin's REST v2 `search` (paged by
startAt against a total), and afterhours' look-ups and sync-back poll on it, with the real
jira client. Small pages (the twin's page cap lowered, as a Data Center admin may) make every
answer span pages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from jira import JIRA, JIRAError

from afterhours.adapters import jira_search as adapter_search
from afterhours.adapters.jira import JiraIssueTracker
from afterhours.clock import ManualClock
from afterhours.domain.actions import CreateJiraIssue
from afterhours.domain.model import JiraIssueRef
from afterhours.errors import OutcomeUnknownError
from afterhours.retrying import RetryPolicy
from afterhours.twins import jira_search as twin_search
from afterhours.twins.chat import ChatTwin
from afterhours.twins.faults import FaultRule
from afterhours.twins.jira import GONE, JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from factories import issue_text
from twin_daemon import Daemon, sop_settings

pytestmark = pytest.mark.integration

SEARCH = "GET /rest/api/2/search"
SEARCH_POST = "POST /rest/api/2/search"
ENHANCED = "GET /rest/api/2/search/jql"
SOP = Path(__file__).parents[2] / "config" / "policy.yaml"


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> int:
    """Data Center's page cap lowered to 2: afterhours asks for 100 and gets 2 a page."""
    monkeypatch.setattr(twin_search, "MAX_PAGE_DATA_CENTER", 2)
    return 2


def client_for(twin: JiraTwin) -> JIRA:
    return JIRA(server=twin.base_url, basic_auth=("bot@example.com", "token"),
                options={"check_update": False}, max_retries=0)


def tracker_for(twin: JiraTwin) -> JiraIssueTracker:
    return JiraIssueTracker(
        twin.base_url, "bot@example.com", "token", ticket_namespace="acme.zendesk.com",
        retry=RetryPolicy(attempts=1, sleep=lambda _: None))


def create(ticket_id: int) -> CreateJiraIssue:
    return CreateJiraIssue(ticket_id, "ENG", "Bug", f"Crash (Zendesk #{ticket_id})",
                           issue_text(ticket_id=ticket_id),
                           (f"zendesk-{ticket_id}", "from-zendesk"))


# -- the twin ----------------------------------------------------------------------------------

def test_data_center_pages_search_by_start_at_and_has_no_enhanced_search(
    data_center: JiraTwin,
) -> None:
    tracker = tracker_for(data_center)
    tracker.create_issues([create(n) for n in range(1, 6)])
    client = client_for(data_center)
    try:
        jql = 'labels = "from-zendesk" ORDER BY key DESC'
        first = client._get_json("search", params={"jql": jql, "maxResults": 2,
                                                    "fields": "labels"})
        assert (first["startAt"], first["maxResults"], first["total"]) == (0, 2, 5)
        assert [i["key"] for i in first["issues"]] == ["ENG-5", "ENG-4"]
        assert set(first["issues"][0]["fields"]) == {"labels"}
        last = client._get_json("search", params={"jql": jql, "startAt": 4, "maxResults": 2})
        assert [i["key"] for i in last["issues"]] == ["ENG-1"]
        assert "summary" in last["issues"][0]["fields"]  # navigable fields by default
        # POST takes the same in its body; Data Center refuses no unbounded query.
        body = {"jql": "ORDER BY created ASC", "startAt": 1, "maxResults": 1,
                "fields": ["summary"]}
        posted = client._get_json("search", params=body, use_post=True)
        assert ([i["key"] for i in posted["issues"]], posted["total"]) == (["ENG-2"], 5)
        with pytest.raises(JIRAError) as refused:
            client._get_json("search/jql", params={"jql": jql})
        assert refused.value.status_code == 404
    finally:
        client.close()  # type: ignore[no-untyped-call]
    assert data_center.server.requests[SEARCH] == 2
    assert data_center.server.requests[SEARCH_POST] == 1


def test_data_center_search_lags_writes_as_cloud_search_does(clock: ManualClock) -> None:
    with JiraTwin(clock, deployment_type="Server",
                  search_lag=timedelta(minutes=1)) as lagging:
        lagging.add_project("ENG", "Engineering")
        client = client_for(lagging)
        try:
            tracker_for(lagging).create_issues([create(1)])
            assert client._get_json("search", params={"jql": "project = ENG"})["total"] == 0
            clock.advance(timedelta(minutes=1))
            assert client._get_json("search", params={"jql": "project = ENG"})["total"] == 1
        finally:
            client.close()  # type: ignore[no-untyped-call]


def test_cloud_answers_the_retired_search_410(jira: JiraTwin) -> None:
    client = client_for(jira)
    try:
        with pytest.raises(JIRAError) as gone:
            client._get_json("search", params={"jql": "project = ENG"})
    finally:
        client.close()  # type: ignore[no-untyped-call]
    assert gone.value.status_code == 410
    assert GONE in str(gone.value.text)


# -- afterhours on it --------------------------------------------------------------------------

def test_a_lost_create_is_found_by_v2_search_on_data_center(data_center: JiraTwin) -> None:
    data_center.server.faults.add(FaultRule("POST /rest/api/2/issue",
                                            drop_after_commit_rate=1.0))
    tracker = tracker_for(data_center)
    with pytest.raises(OutcomeUnknownError):
        tracker.create_issue(create(7))
    (filed,) = data_center.issues()
    assert tracker.find_issue(7) == JiraIssueRef(filed["key"], tracker.issue_url(filed["key"]))
    assert tracker.find_issue(8) is None
    assert data_center.server.requests[SEARCH] == 2
    assert data_center.server.requests[ENHANCED] == 0


def test_labels_in_look_ups_page_through_every_issue_on_data_center(
    data_center: JiraTwin, clock: ManualClock, small_pages: int,
) -> None:
    tracker = tracker_for(data_center)
    filed = tracker.create_issues([create(n) for n in range(1, 8)])
    clock.advance(timedelta(minutes=1))
    tracker.create_issues([create(3), create(6)])  # duplicates after lost answers: oldest wins

    found = tracker.find_issues(range(1, 10))

    assert found == {n: filed[n - 1] for n in range(1, 8)}
    assert data_center.server.requests[SEARCH] == 5  # 9 issues, 2 a page
    assert data_center.server.requests[ENHANCED] == 0


def test_pages_asked_small_by_afterhours_are_walked_too(
    data_center: JiraTwin, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(adapter_search, "PAGE", 3)
    tracker = tracker_for(data_center)
    filed = tracker.create_issues([create(n) for n in range(1, 8)])
    assert tracker.find_issues(range(1, 8)) == {n: filed[n - 1] for n in range(1, 8)}
    assert data_center.server.requests[SEARCH] == 3


def test_the_sync_back_poll_pages_on_data_center(
    data_center: JiraTwin, clock: ManualClock, small_pages: int,
) -> None:
    tracker = tracker_for(data_center)
    tracker.create_issues([create(n) for n in range(1, 6)])
    before = data_center.server.requests[SEARCH]
    changed = tracker.changed_issues(["ENG"], timedelta(minutes=5))
    assert [c.key for c in changed] == [f"ENG-{n}" for n in range(1, 6)]
    assert changed[0].labels == ("zendesk-1", "from-zendesk")
    assert data_center.server.requests[SEARCH] - before == 3
    assert data_center.server.requests[ENHANCED] == 0


# -- the daemon on it --------------------------------------------------------------------------

BUGS = ("The app crashes on login", "Export to CSV is broken", "Search shows an error page",
        "The dashboard crashes on open", "Settings page throws an exception")


def test_the_daemon_on_data_center_files_once_and_syncs_back_through_paged_search(  # noqa: PLR0917  (fixtures)
    zendesk: ZendeskTwin, data_center: JiraTwin, chat: ChatTwin, clock: ManualClock,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_pages: int,
) -> None:
    settings = sop_settings((zendesk, data_center, chat), SOP, tmp_path / "state.sqlite3",
                            monkeypatch)
    customer = int(zendesk.add_user("Bob Ortiz", "bob@initech.com")["id"])
    tickets = [int(zendesk.create_ticket(subject=subject, description=f"{subject} since today.",
                                         requester_id=customer, created_at=clock())["id"])
               for subject in BUGS]
    # Every create lands in Jira, its answer lost: the daemon cannot know yet.
    data_center.server.faults.add(FaultRule("POST /rest/api/2/issue*",
                                            drop_after_commit_rate=1.0))
    with Daemon(settings, clock) as daemon:
        assert daemon.run_pass().deferred >= len(tickets)
        assert len(data_center.issues()) == len(tickets)
        data_center.server.faults.clear()
        clock.advance(timedelta(minutes=5))  # past Jira's search lag
        daemon.run_pass()
        daemon.run_pass()
        # Reconciled by label over pages of 2: every ticket linked, none filed twice.
        assert len(data_center.issues()) == len(tickets)
        keys = {t: next(i["key"] for i in data_center.issues()
                        if f"zendesk-{t}" in i["fields"]["labels"]) for t in tickets}
        for ticket in tickets:
            assert any(tag.startswith("jira_") for tag in zendesk.ticket(ticket)["tags"])

        # Five issues change: the poll finds them on three pages of 2, each news to its ticket.
        for key in keys.values():
            data_center.transition(key, "In Progress", author="Dana Engineer")
        before = data_center.server.requests[SEARCH]
        daemon.run_pass()
        assert data_center.server.requests[SEARCH] - before >= 3
    for ticket, key in keys.items():
        notes = [c["body"] for c in zendesk.comments(ticket) if f"Jira {key} changed" in c["body"]]
        assert len(notes) == 1, ticket
        assert "status To Do → In Progress" in notes[0]
    assert data_center.server.requests[ENHANCED] == 0
