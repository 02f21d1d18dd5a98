"""The Jira twin driven by the real `jira` client over real HTTP on 127.0.0.1."""

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
LAG = timedelta(seconds=30)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def twin(clock: ManualClock) -> Iterator[JiraTwin]:
    twin = JiraTwin(clock, search_lag=LAG)
    twin.add_project("OPS", "Operations", components=("Backend",))
    twin.add_project("WEB", "Website", issue_types=("Task",))
    with twin:
        yield twin


@pytest.fixture
def jira(twin: JiraTwin) -> Iterator[JIRA]:
    # max_retries=0: the client's session retries POSTs, which would duplicate issues.
    client = JIRA(server=twin.base_url, basic_auth=("bot@example.com", "x"), get_server_info=True,
                  options={"check_update": False}, max_retries=0, timeout=5)
    yield client
    # Release the client's pooled connection before the twin stops.
    client.close()  # type: ignore[no-untyped-call]


def new_issue(jira: JIRA, summary: str = "Checkout is down", **extra: Any) -> Any:
    fields = {"project": {"key": "OPS"}, "summary": summary, "issuetype": {"name": "Bug"},
              "description": "Reported by Zendesk ticket #1", **extra}
    return jira.create_issue(fields=fields)


def body_of(error: JIRAError) -> Any:
    """The JSON the twin answered with, from the client's exception."""
    assert error.response is not None
    return error.response.json()


def post(jira: JIRA, path: str, body: Any) -> Any:
    """A raw call through the client's own session, for what the client hides (status codes)."""
    return jira._session.post(f"{jira.server_url}/rest/api/2/{path}", json=body)


def test_connect_sees_a_cloud_server(twin: JiraTwin, jira: JIRA) -> None:
    info = jira.server_info()
    assert jira.deploymentType == "Cloud"
    assert jira._is_cloud
    assert info["baseUrl"] == twin.base_url
    assert info["serverTime"] == "2026-11-23T04:00:00.000+0000"
    assert twin.server.requests["GET /rest/api/2/serverInfo"] == 2  # connect + ours


def test_myself_names_the_basic_auth_user(jira: JIRA) -> None:
    me = jira.myself()
    assert me["emailAddress"] == "bot@example.com"
    assert me["accountId"].startswith("712020:")
    assert me["active"] is True
    assert me["accountType"] == "atlassian"


def test_fields_lists_the_system_fields(jira: JIRA) -> None:
    fields = {f["id"]: f for f in jira.fields()}
    wanted = {"summary", "description", "issuetype", "project", "labels", "priority", "status",
              "components", "created", "updated", "resolution"}
    assert wanted <= set(fields)
    assert fields["labels"]["schema"] == {"type": "array", "items": "string", "system": "labels"}
    assert "type" in fields["issuetype"]["clauseNames"]
    assert not any(f["custom"] for f in fields.values())


def test_create_issue_with_labels(twin: JiraTwin, jira: JIRA, clock: ManualClock) -> None:
    issue = new_issue(jira, labels=["zendesk-1", "after-hours"], priority={"name": "High"},
                      components=[{"name": "Backend"}])
    clock.advance(timedelta(minutes=1))
    second = new_issue(jira, summary="Second")

    assert (issue.key, second.key) == ("OPS-1", "OPS-2")
    assert issue.fields.labels == ["zendesk-1", "after-hours"]
    assert issue.fields.status.name == "To Do"
    assert issue.fields.status.statusCategory.key == "new"
    assert issue.fields.priority.name == "High"
    assert issue.fields.components[0].name == "Backend"
    assert issue.fields.resolution is None
    assert issue.fields.created == issue.fields.updated == "2026-11-23T04:00:00.000+0000"
    assert second.fields.created == "2026-11-23T04:01:00.000+0000"
    assert [i["key"] for i in twin.issues()] == ["OPS-1", "OPS-2"]
    # create_issue answers {id, key, self}, then the client re-reads the issue (prefetch).
    assert twin.server.requests["POST /rest/api/2/issue"] == 2
    assert twin.server.requests["GET /rest/api/2/issue/{key}"] == 2


def test_create_issue_by_names_looks_the_project_up_twice(twin: JiraTwin, jira: JIRA) -> None:
    issue = jira.create_issue(project="WEB", summary="Typo", issuetype="Task", prefetch=False)
    assert issue.key == "WEB-1"
    # project="WEB" costs a project lookup and issuetype="Task" a second one (expand=issueTypes).
    assert twin.server.requests["GET /rest/api/2/project/{key}"] == 2
    assert twin.server.requests["GET /rest/api/2/issue/{key}"] == 0


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"summary": ""}, "summary", "You must specify a summary of the issue."),
        ({"project": {"key": "NOPE"}}, "project", "valid project is required"),
        ({"issuetype": {"name": "Epic"}}, "issuetype", "Specify a valid issue type"),
        ({"labels": ["two words"]}, "labels",
         "The label 'two words' contains spaces which is invalid."),
        ({"priority": {"name": "Urgent"}}, "priority", "Priority name 'Urgent' is not valid"),
        ({"priority": {"id": "99"}}, "priority", "The priority selected is invalid."),
        ({"priority": {"id": None}}, "priority",
         "Specify the Priority (id or name) in the string format"),
        ({"components": [{"name": "Frontend"}]}, "components",
         "Component name 'Frontend' is not valid"),
        ({"customfield_1": "x"}, "customfield_1",
         "Field 'customfield_1' cannot be set. It is not on the appropriate screen, or unknown."),
    ],
)
def test_create_issue_validates_like_jira(
    twin: JiraTwin, jira: JIRA, fields: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(JIRAError) as caught:
        new_issue(jira, **fields)
    assert caught.value.status_code == 400
    assert body_of(caught.value) == {"errorMessages": [], "errors": {field: message}}
    assert twin.issues() == []


def test_get_issue_by_key_or_id_and_missing(jira: JIRA) -> None:
    created = new_issue(jira)
    assert jira.issue(created.id).key == created.key
    assert jira.issue("ops-1").id == created.id
    only = jira.issue(created.key, fields="summary,labels")
    assert set(only.raw["fields"]) == {"summary", "labels"}
    with pytest.raises(JIRAError) as caught:
        jira.issue("OPS-99")
    assert caught.value.status_code == 404
    assert body_of(caught.value)["errorMessages"] == [
        "Issue does not exist or you do not have permission to see it."]


def test_search_by_label_pages_with_next_page_token(
    twin: JiraTwin, jira: JIRA, clock: ManualClock
) -> None:
    keys = [new_issue(jira, summary=f"n{n}", labels=["zd"]).key for n in range(5)]
    new_issue(jira, summary="unrelated", labels=["other"])
    clock.advance(timedelta(seconds=30))

    first = jira.enhanced_search_issues('labels = "zd" ORDER BY key ASC', maxResults=2)
    assert [i.key for i in first] == keys[:2]
    assert first.nextPageToken
    seen = [i.key for i in first]
    token = first.nextPageToken
    while token:
        page = jira.enhanced_search_issues('labels = "zd" ORDER BY key ASC', maxResults=2,
                                           nextPageToken=token)
        seen += [i.key for i in page]
        token = page.nextPageToken
    assert seen == keys
    assert twin.server.requests["GET /rest/api/2/search/jql"] == 3
    # maxResults=0 makes the client follow the tokens itself.
    everything = jira.enhanced_search_issues(
        "labels in (zd, other) ORDER BY created DESC, key DESC", maxResults=0)
    assert len(everything) == 6
    assert everything[0].fields.summary == "unrelated"


def test_search_raw_answer_shape(jira: JIRA, clock: ManualClock) -> None:
    new_issue(jira, labels=["zd"])
    new_issue(jira, labels=["zd"])
    clock.advance(timedelta(minutes=1))
    raw = jira.enhanced_search_issues("labels = zd", maxResults=1, fields="key",
                                      json_result=True)
    assert raw["isLast"] is False
    assert isinstance(raw["nextPageToken"], str)
    assert raw["issues"][0]["key"] == "OPS-1"
    assert raw["issues"][0]["fields"] == {}
    last = jira.enhanced_search_issues("labels = zd", maxResults=1, fields="key",
                                       nextPageToken=raw["nextPageToken"], json_result=True)
    assert last["isLast"] is True
    assert "nextPageToken" not in last


def test_search_lags_behind_writes(twin: JiraTwin, jira: JIRA, clock: ManualClock) -> None:
    issue = new_issue(jira, labels=["zd"])
    assert jira.enhanced_search_issues('labels = "zd"') == []
    # reconcileIssues is Jira's read-after-write escape hatch.
    fresh = jira.enhanced_search_issues('labels = "zd"', reconcileIssues=[int(issue.id)])
    assert [i.key for i in fresh] == ["OPS-1"]

    clock.advance(timedelta(seconds=29))
    assert jira.enhanced_search_issues('labels = "zd"') == []
    clock.advance(timedelta(seconds=1))
    assert [i.key for i in jira.enhanced_search_issues('labels = "zd"')] == ["OPS-1"]

    twin.transition("OPS-1", "Done")
    stale = jira.enhanced_search_issues("project = OPS AND statusCategory = Done")
    assert stale == []
    old = jira.enhanced_search_issues('labels = "zd"')
    assert old[0].fields.status.name == "To Do"  # the index still holds the old version
    done = jira.enhanced_search_issues("project = OPS AND statusCategory = Done",
                                       reconcileIssues=[int(issue.id)], use_post=True)
    assert done[0].fields.status.name == "Done"
    assert twin.server.requests["POST /rest/api/2/search/jql"] == 1


@pytest.mark.parametrize(
    ("jql", "expected"),
    [
        ('project = OPS AND summary ~ "disk (sda) and more"', ["OPS-1"]),
        ("labels in ('zd', \"vip\") AND status = 'To Do'", ["OPS-1", "OPS-2"]),
        ('(labels = vip OR key = OPS-1) ORDER BY created DESC', ["OPS-2", "OPS-1"]),
        ('updated >= "2026-11-23 04:05" AND project = OPS', ["OPS-2", "OPS-3"]),
        ('updated > "2026/11/23 04:00" AND summary ~ vip', ["OPS-2"]),
        ("updated < -7m AND project = ops", ["OPS-1"]),
        ("project = OPS AND NOT labels = zd", ["OPS-2", "OPS-3"]),
        ("project = OPS AND labels IS EMPTY", ["OPS-3"]),
        ('statusCategory = "To Do" and issuetype = Bug order by key desc',
         ["OPS-3", "OPS-2", "OPS-1"]),
        ("key in (OPS-3, OPS-1) ORDER BY updated ASC", ["OPS-1", "OPS-3"]),
    ],
)
def test_jql_subset(jira: JIRA, clock: ManualClock, jql: str, expected: list[str]) -> None:
    new_issue(jira, summary="Disk (sda) and more trouble", labels=["zd"])
    clock.advance(timedelta(minutes=5))
    new_issue(jira, summary="VIP", labels=["vip"])
    new_issue(jira, summary="No labels")
    clock.advance(timedelta(minutes=5))
    assert [i.key for i in jira.enhanced_search_issues(jql)] == expected


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("ORDER BY created", "Unbounded JQL queries are not allowed here. Please add a search "
                             "restriction to your query."),
        ('labels = "zd', "Error in the JQL Query: The quoted string 'zd' has not been "
                         "completed. (line 1, character 10)"),
        ("labels = zd foo", "Error in the JQL Query: Expecting either 'OR' or 'AND' but got "
                            "'foo'. (line 1, character 13)"),
        ("assignee = dana", "Field 'assignee' does not exist or you do not have permission "
                            "to view it."),
        ("updated > startOfDay()", "Error in the JQL Query: the twin does not support the "
                                   "function 'startOfDay()'. (line 1, character 11)"),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("key = OPS-9", "An issue with key 'OPS-9' does not exist for field 'key'."),
        ("labels > zd", "The operator '>' is not supported by the 'labels' field."),
        ('updated > "yesterday"', "Date value 'yesterday' for field 'updated' is invalid. "
                                  "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd "
                                  "HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format "
                                  "e.g. '-5d', '4w 2d'."),
    ],
)
def test_bad_jql_is_refused_like_jira(jira: JIRA, jql: str, message: str) -> None:
    with pytest.raises(JIRAError) as caught:
        jira.enhanced_search_issues(jql)
    assert caught.value.status_code == 400
    assert body_of(caught.value) == {"errorMessages": [message], "errors": {}}


def test_remote_link_upserts_by_global_id(twin: JiraTwin, jira: JIRA) -> None:
    issue = new_issue(jira)
    target = {"url": "https://example.zendesk.com/agent/tickets/1", "title": "ZD #1"}
    # add_remote_link first lists application links, which a non-admin may not do; the
    # client turns that 401 into a warning, an error under -W error.
    with pytest.warns(Warning, match="Unable to gather applicationlinks"):
        first = jira.add_remote_link(issue.key, target, globalId="zendesk-ticket-1",
                                     relationship="support ticket")
    with pytest.warns(Warning, match="Unable to gather applicationlinks"):
        again = jira.add_remote_link(issue.key, target | {"title": "ZD #1 (solved)"},
                                     globalId="zendesk-ticket-1")
    assert again.id == first.id
    links = jira.remote_links(issue.key)
    assert len(links) == 1
    assert links[0].object.title == "ZD #1 (solved)"
    assert links[0].globalId == "zendesk-ticket-1"
    assert twin.remote_links(issue.key) == [link.raw for link in links]
    assert twin.server.requests["GET /rest/applinks/latest/listApplicationlinks"] == 2
    assert twin.server.requests["POST /rest/api/2/issue/{key}/remotelink"] == 2


def test_remote_link_status_codes_and_validation(twin: JiraTwin, jira: JIRA) -> None:
    issue = new_issue(jira)
    body = {"globalId": "zd-2", "object": {"url": "https://zd.example/2", "title": "ZD #2"}}
    created = post(jira, f"issue/{issue.key}/remotelink", body)
    updated = post(jira, f"issue/{issue.key}/remotelink", body)
    assert (created.status_code, updated.status_code) == (201, 200)
    assert created.json() == updated.json()
    assert set(created.json()) == {"id", "self"}
    with pytest.raises(JIRAError) as caught:
        post(jira, f"issue/{issue.key}/remotelink", {"globalId": "zd-3", "object": {"url": "u"}})
    assert caught.value.status_code == 400
    assert body_of(caught.value)["errors"] == {"title": "'title' is required."}
    with pytest.raises(JIRAError):
        post(jira, f"issue/{issue.key}/remotelink", {"globalId": "zd-3"})
    assert len(twin.remote_links(issue.key)) == 1


def test_transitions(twin: JiraTwin, jira: JIRA, clock: ManualClock) -> None:
    issue = new_issue(jira)
    assert {t["name"]: t["id"] for t in jira.transitions(issue)} == {
        "In Progress": "21", "In Review": "41", "Done": "31"}
    clock.advance(timedelta(minutes=3))
    jira.transition_issue(issue, "In Progress", comment="Picked up")
    now = jira.issue(issue.key)
    assert now.fields.status.statusCategory.key == "indeterminate"
    assert now.fields.updated == "2026-11-23T04:03:00.000+0000"
    assert now.fields.comment.comments[0].body == "Picked up"

    clock.advance(timedelta(minutes=1))
    twin.transition(issue.key, "Done")
    done = jira.issue(issue.key)
    assert done.fields.resolution is not None
    assert done.fields.resolution.name == "Done"
    assert done.fields.resolutiondate == "2026-11-23T04:04:00.000+0000"
    with pytest.raises(JIRAError) as caught:
        post(jira, f"issue/{issue.key}/transitions", {"transition": {"id": "31"}})
    assert caught.value.status_code == 400


def test_comments_both_ways(twin: JiraTwin, jira: JIRA, clock: ManualClock) -> None:
    issue = new_issue(jira)
    clock.advance(timedelta(minutes=2))
    twin.add_comment(issue.key, "Fixed in prod", author="Dana Engineer")
    mine = jira.add_comment(issue.key, "Thanks")
    comments = jira.comments(issue.key)
    assert [(c.author.displayName, c.body) for c in comments] == [
        ("Dana Engineer", "Fixed in prod"), ("Bot", "Thanks")]
    assert mine.created == "2026-11-23T04:02:00.000+0000"
    assert twin.issue(issue.key)["fields"]["updated"] == "2026-11-23T04:02:00.000+0000"
    with pytest.raises(JIRAError) as caught:
        jira.add_comment(issue.key, " ")
    assert caught.value.status_code == 400


def test_search_costs_one_field_lookup_then_caches(twin: JiraTwin, jira: JIRA) -> None:
    jira.enhanced_search_issues("project = OPS")
    jira.enhanced_search_issues("project = OPS")
    # The client maps requested field names through GET /field once per client.
    assert twin.server.requests["GET /rest/api/2/field"] == 1
    assert twin.server.requests["GET /rest/api/2/search/jql"] == 2


def test_priorities_list_the_site_scheme_highest_first(twin: JiraTwin, jira: JIRA) -> None:
    assert [(p.id, p.name) for p in jira.priorities()] == [
        ("1", "Highest"), ("2", "High"), ("3", "Medium"), ("4", "Low"), ("5", "Lowest")]
    assert new_issue(jira).fields.priority.name == "Medium"  # the default when none is sent


def test_a_site_with_its_own_priorities(clock: ManualClock) -> None:
    with JiraTwin(clock, priorities=("Blocker", "Critical", "Major", "Minor")) as custom:
        custom.add_project("OPS", "Operations")
        client = JIRA(server=custom.base_url, basic_auth=("bot@example.com", "x"),
                      options={"check_update": False}, max_retries=0, timeout=5)
        try:
            assert [p.name for p in client.priorities()] == ["Blocker", "Critical", "Major",
                                                            "Minor"]
            assert new_issue(client, priority={"name": "Critical"}).fields.priority.name == (
                "Critical")
            with pytest.raises(JIRAError) as caught:
                new_issue(client, priority={"name": "High"})
            assert body_of(caught.value)["errors"] == {
                "priority": "Priority name 'High' is not valid"}
            assert client.enhanced_search_issues("priority = Major") == []
        finally:
            client.close()  # type: ignore[no-untyped-call]


def test_project_shows_its_issue_types_and_components(jira: JIRA) -> None:
    ops = jira.project("OPS").raw
    assert [t["name"] for t in ops["issueTypes"]] == ["Bug", "Task", "Story"]
    assert [c["name"] for c in ops["components"]] == ["Backend"]
    assert [c["name"] for c in jira.project("WEB").raw["components"]] == []
    with pytest.raises(JIRAError) as caught:
        jira.project("NOPE")
    assert caught.value.status_code == 404
    assert body_of(caught.value)["errorMessages"] == [
        "No project could be found with key 'NOPE'."]
