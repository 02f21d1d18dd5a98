"""The Jira twin's issue life after filing (workflow, assignee, fix versions, labels, comments
with visibility, the changelog), driven by the real `jira` client over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jira import JIRA, JIRAError

from afterhours.clock import ManualClock
from afterhours.twins.jira import JiraTwin

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def twin(clock: ManualClock) -> Iterator[JiraTwin]:
    twin = JiraTwin(clock)
    twin.add_project("OPS", "Operations")
    with twin:
        yield twin


@pytest.fixture
def jira(twin: JiraTwin) -> Iterator[JIRA]:
    client = JIRA(server=twin.base_url, basic_auth=("bot@example.com", "x"),
                  options={"check_update": False}, max_retries=0, timeout=5)
    yield client
    client.close()  # type: ignore[no-untyped-call]


def new_issue(jira: JIRA) -> Any:
    return jira.create_issue(fields={"project": {"key": "OPS"}, "summary": "Checkout fails",
                                     "issuetype": {"name": "Bug"}, "labels": ["zendesk-7"]})


def items(history: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    return [(i["field"], i["fromString"], i["toString"]) for i in history["items"]]


def test_every_change_lands_in_the_changelog_with_its_author(
    twin: JiraTwin, jira: JIRA, clock: ManualClock
) -> None:
    issue = new_issue(jira)
    twin.add_version("OPS", "4.2", released=True)
    clock.advance(timedelta(minutes=1))
    twin.transition(issue.key, "In Progress", author="Dana")
    twin.assign(issue.key, "Dana")
    clock.advance(timedelta(minutes=1))
    twin.set_fix_versions(issue.key, ["4.2"])
    twin.transition(issue.key, "Done", resolution="Won't Do")
    raw = jira._get_json(f"issue/{issue.key}", params={"expand": "changelog"})
    histories = raw["changelog"]["histories"]
    assert [items(h) for h in histories] == [
        [("status", "To Do", "In Progress")],
        [("assignee", None, "Dana")],
        [("Fix Version", None, "4.2")],
        [("status", "In Progress", "Done"), ("resolution", None, "Won't Do")],
    ]
    assert histories[0]["author"]["displayName"] == "Dana"
    assert histories[0]["created"] == "2026-11-23T04:01:00.000+0000"
    assert len({h["id"] for h in histories}) == 4
    fields = raw["fields"]
    assert fields["resolution"]["name"] == "Won't Do"
    assert [v["name"] for v in fields["fixVersions"]] == ["4.2"]
    assert fields["assignee"]["displayName"] == "Dana"
    assert fields["updated"] == "2026-11-23T04:02:00.000+0000"
    page = jira._get_json(f"issue/{issue.key}/changelog", params={"maxResults": 3})
    assert (page["total"], page["isLast"], len(page["values"])) == (4, False, 3)


def test_a_transition_by_the_bot_names_it_and_may_set_a_resolution(
    twin: JiraTwin, jira: JIRA
) -> None:
    issue = new_issue(jira)
    jira.transition_issue(issue, "Done", fields={"resolution": {"name": "Duplicate"}})
    [history] = twin.changelog(issue.key)
    assert history["author"]["emailAddress"] == "bot@example.com"
    assert items(history) == [("status", "To Do", "Done"), ("resolution", None, "Duplicate")]
    twin.transition(issue.key, "To Do")  # reopened: the resolution goes
    assert items(twin.changelog(issue.key)[-1]) == [
        ("status", "Done", "To Do"), ("resolution", "Duplicate", None)]


def test_labels_are_edited_by_add_and_remove(twin: JiraTwin, jira: JIRA) -> None:
    issue = new_issue(jira)
    issue.update(update={"labels": [{"add": "zendesk-solved"}, {"add": "zendesk-solved"}]})
    assert twin.issue(issue.key)["fields"]["labels"] == ["zendesk-7", "zendesk-solved"]
    issue.update(update={"labels": [{"remove": "zendesk-7"}]})
    assert twin.issue(issue.key)["fields"]["labels"] == ["zendesk-solved"]
    assert [items(h) for h in twin.changelog(issue.key)] == [
        [("labels", "zendesk-7", "zendesk-7 zendesk-solved")],
        [("labels", "zendesk-7 zendesk-solved", "zendesk-solved")]]
    with pytest.raises(JIRAError) as caught:
        issue.update(update={"summary": [{"set": "x"}]})
    assert caught.value.status_code == 400
    with pytest.raises(JIRAError):
        issue.update(update={"labels": [{"add": "two words"}]})


def test_comments_keep_their_visibility(twin: JiraTwin, jira: JIRA) -> None:
    issue = new_issue(jira)
    twin.add_comment(issue.key, "[zendesk] fixed on staging", author="Dana")
    twin.add_comment(issue.key, "internal only", visibility=("role", "Developers"))
    jira.add_comment(issue.key, "from the bot", visibility={"type": "role", "value": "Users"})
    shown = [(c.body, getattr(c, "visibility", None)) for c in jira.comments(issue.key)]
    assert [(body, v and v.value) for body, v in shown] == [
        ("[zendesk] fixed on staging", None), ("internal only", "Developers"),
        ("from the bot", "Users")]


def test_a_v3_comment_takes_adf_and_reads_as_text_on_v2(twin: JiraTwin, jira: JIRA) -> None:
    issue = new_issue(jira)
    url = f"{twin.base_url}/rest/api/3/issue/{issue.key}/comment"
    doc = {"version": 1, "type": "doc", "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Hello"}]},
        {"type": "blockquote", "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "quoted"}]}]}]}
    answer = jira._session.post(url, json={"body": doc})
    assert answer.status_code == 201
    assert answer.json()["body"] == doc
    [comment] = jira.comments(issue.key)
    assert comment.body == "Hello\nquoted"
    with pytest.raises(JIRAError) as caught:
        jira._session.post(url, json={"body": "a string"})
    assert caught.value.status_code == 400


def test_versions_are_listed_per_project(twin: JiraTwin, jira: JIRA) -> None:
    twin.add_version("OPS", "4.1", released=True)
    twin.add_version("OPS", "4.2")
    listed = jira._get_json("project/OPS/versions")
    assert [(v["name"], v["released"]) for v in listed] == [("4.1", True), ("4.2", False)]
    issue = new_issue(jira)
    with pytest.raises(ValueError, match="no version"):
        twin.set_fix_versions(issue.key, ["9.9"])
