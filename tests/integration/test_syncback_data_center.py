"""Sync back on Jira Data Center, whose users have no accountId: a user is its `key` (and
`name`). afterhours tells its own changes and comments from engineers' by that key, through
the real jira client on a Data Center twin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jira import JIRA

from afterhours.adapters.jira import JiraIssueTracker
from afterhours.clock import ManualClock
from afterhours.domain.actions import CommentOnIssue, CreateJiraIssue, LabelIssue
from afterhours.domain.comment_text import jira_comment
from afterhours.domain.sync_model import IssueActivity
from afterhours.errors import PermanentError
from afterhours.retrying import RetryPolicy
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from factories import issue_text
from twin_daemon import Daemon, sop_settings

pytestmark = pytest.mark.integration

SOP = Path(__file__).parents[2] / "config" / "policy.yaml"
DATA_CENTER_USER = {"self", "name", "key", "emailAddress", "avatarUrls", "displayName",
                    "active", "timeZone"}


@pytest.fixture
def tracker(data_center: JiraTwin) -> Iterator[JiraIssueTracker]:
    found = JiraIssueTracker(
        data_center.base_url, "bot@example.com", "token", ticket_namespace="acme.zendesk.com",
        retry=RetryPolicy(attempts=1, sleep=lambda _: None))
    yield found
    found.close()


def activity(tracker: JiraIssueTracker, key: str) -> IssueActivity:
    found = tracker.issue_activity(key)
    assert found is not None
    return found


def file_issue(tracker: JiraIssueTracker) -> str:
    [ref] = tracker.create_issues([CreateJiraIssue(
        1, "ENG", "Bug", "Crash (Zendesk #1)", issue_text(ticket_id=1), ("zendesk-1",))])
    return ref.key


def solved_comment(key: str) -> CommentOnIssue:
    return CommentOnIssue(1, key, jira_comment(
        "[zendesk] The ticket was solved.", 1, "https://acme.zendesk.com/agent/tickets/1",
        "afterhours test"))


# -- the twin ----------------------------------------------------------------------------------

def test_data_center_users_have_a_key_and_a_name_and_no_account_id(
    data_center: JiraTwin, tracker: JiraIssueTracker,
) -> None:
    key = file_issue(tracker)
    data_center.transition(key, "In Progress", author="Dana Engineer")
    data_center.assign(key, "Dana Engineer", author="Dana Engineer")
    data_center.add_comment(key, "Looking.", author="Dana Engineer")
    client = JIRA(server=data_center.base_url, basic_auth=("bot@example.com", "token"),
                  options={"check_update": False}, max_retries=0)
    try:
        me = client.myself()
        raw = client._get_json(f"issue/{key}", params={"expand": "changelog"})
    finally:
        client.close()  # type: ignore[no-untyped-call]

    assert "accountId" not in me
    assert me["name"] == "bot@example.com"
    assert me["key"].startswith("JIRAUSER")
    assert set(me) >= DATA_CENTER_USER
    assert "accountType" not in me
    fields = raw["fields"]
    assert fields["reporter"]["key"] == fields["creator"]["key"] == me["key"]
    [moved, assigned] = raw["changelog"]["histories"]
    [comment] = fields["comment"]["comments"]
    for user in (moved["author"], comment["author"], comment["updateAuthor"],
                 fields["assignee"]):
        assert set(user) == DATA_CENTER_USER
        assert (user["name"], user["displayName"]) == ("dana.engineer", "Dana Engineer")
        assert user["key"] != me["key"]
    assert assigned["items"][0]["to"] == fields["assignee"]["key"]


def test_cloud_users_keep_their_account_id(jira: JiraTwin) -> None:
    assert "accountId" in jira.person("Dana Engineer")
    assert "key" not in jira.bot()


# -- the adapter -------------------------------------------------------------------------------

def test_afterhours_own_label_and_comment_are_told_from_an_engineers_by_user_key(
    data_center: JiraTwin, tracker: JiraIssueTracker,
) -> None:
    key = file_issue(tracker)
    tracker.label_issue(LabelIssue(1, key, ("ticket-solved",)))
    tracker.comment_on_issue(solved_comment(key))
    data_center.add_label(key, "needs-triage", author="Dana Engineer")
    data_center.add_comment(key, "[zendesk] Found it.", author="Dana Engineer")

    found = activity(tracker, key)

    assert [(c.author, c.by_afterhours) for c in found.changes] == [
        ("Bot", True), ("Dana Engineer", False)]
    assert [(c.author, c.by_afterhours) for c in found.comments] == [
        ("Bot", True), ("Dana Engineer", False)]


def test_a_user_renamed_on_data_center_is_still_afterhours_by_its_key(
    data_center: JiraTwin, tracker: JiraIssueTracker,
) -> None:
    key = file_issue(tracker)
    tracker.comment_on_issue(solved_comment(key))
    me = data_center.bot()
    with data_center.server.lock:  # an admin renamed the account: the key stays
        for comment in data_center.find_issue(key)["fields"]["comment"]["comments"]:
            comment["author"] = me | {"name": "afterhours-bot"}

    [comment] = activity(tracker, key).comments

    assert comment.by_afterhours


def test_a_myself_without_key_or_name_is_a_clear_error_not_a_crash(
    data_center: JiraTwin, tracker: JiraIssueTracker, monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = file_issue(tracker)
    nameless = {k: v for k, v in data_center.bot().items() if k not in ("key", "name")}
    monkeypatch.setattr(data_center, "bot", lambda request=None: nameless)

    with pytest.raises(PermanentError, match=r"GET /myself names no key or name"):
        tracker.issue_activity(key)


# -- the daemon on it --------------------------------------------------------------------------

@pytest.fixture
def daemon(  # noqa: PLR0917  (fixtures)
    zendesk: ZendeskTwin, data_center: JiraTwin, chat: ChatTwin, clock: ManualClock,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Daemon]:
    """The daemon with the shipped SOP policy, its Jira the Data Center twin."""
    with Daemon(sop_settings((zendesk, data_center, chat), SOP, tmp_path / "state.sqlite3",
                             monkeypatch), clock) as running:
        yield running


def test_sync_back_on_data_center_notes_copies_and_never_reads_its_own_comment_back(
    zendesk: ZendeskTwin, data_center: JiraTwin, daemon: Daemon, clock: ManualClock,
    tracker: JiraIssueTracker,
) -> None:
    customer = int(zendesk.add_user("Bob Ortiz", "bob@initech.com")["id"])
    ticket = int(zendesk.create_ticket(
        subject="The app crashes on login", description="Since this morning it crashes.",
        requester_id=customer, created_at=clock())["id"])

    def notes(text: str) -> list[str]:
        return [c["body"] for c in zendesk.comments(ticket) if text in c["body"]]

    daemon.run_pass()
    [issue] = data_center.issues()
    key = str(issue["key"])

    # In Progress: one internal note, whatever the passes after it.
    data_center.transition(key, "In Progress", author="Dana Engineer")
    for _ in range(3):
        daemon.run_pass()
    [note] = notes(f"Jira {key} changed")
    assert f"Jira {key} changed (Dana Engineer): status To Do → In Progress." in note

    # A marked comment is copied, once.
    data_center.add_comment(key, "[zendesk] Found it: the session cache.",
                            author="Dana Engineer")
    daemon.run_pass()
    daemon.run_pass()
    [copied] = notes("commented on Jira")
    assert "Found it: the session cache." in copied

    # The ticket solved: one comment and a label in Jira, both afterhours' own.
    zendesk.agent_update(ticket, status="solved")
    daemon.run_pass()
    daemon.run_pass()
    # No echo: afterhours' own comment and label, read back, bring the ticket nothing.
    comments_before = zendesk.comments(ticket)
    daemon.restart()
    for _ in range(2):
        daemon.run_pass()

    found = activity(tracker, key)
    solved = [c for c in found.comments if "was solved by the support team" in c.body]
    assert [c.by_afterhours for c in solved] == [True]
    labelled = [c for c in found.changes if any(
        "ticket-solved" in (f.after or "") for f in c.fields)]
    assert [c.by_afterhours for c in labelled] == [True]
    assert not [c for c in found.changes if c.author == "Dana Engineer" and c.by_afterhours]
    assert "ticket-solved" in data_center.issue(key)["fields"]["labels"]
    assert zendesk.comments(ticket) == comments_before
    assert len(notes("commented on Jira")) == 1
