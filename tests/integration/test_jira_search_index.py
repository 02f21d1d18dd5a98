"""The Jira twin's search index: the JQL afterhours sends is answered from it, page for page
the same as matching every issue (the twin's `use_index` off), on Cloud's search/jql and
Data Center's search, through writes of every kind and the search lag; and it looks at the
issues a query may match, not at all of them (`examined`)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jira import JIRA

from afterhours.adapters.jira_bulk import labels_query
from afterhours.adapters.jira_sync import poll_query
from afterhours.clock import ManualClock
from afterhours.twins.jira import JiraTwin

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
LAG = timedelta(minutes=2)
LABELS = [*(f"zendesk-{n}" for n in range(1, 9)), "from-zendesk", "Zendesk-1"]
STATUSES = ["To Do", "In Progress", "In Review", "Done"]


def _queries(now: datetime) -> list[str]:
    """What afterhours sends (the poll, find_issue's and find_issues' label searches), the
    same forms combined, and forms the index cannot narrow (answered by the scan)."""
    stamp = (now - timedelta(minutes=4)).strftime("%Y-%m-%d %H:%M")
    return [
        poll_query(["OPS", "WEB"], timedelta(minutes=5)),
        poll_query(["OPS"], timedelta(minutes=1)),
        'labels = "zendesk-3" ORDER BY created ASC',
        labels_query([1, 2, 7]),
        'labels in ("Zendesk-1", "nobody") ORDER BY created ASC',
        f'updated >= "{stamp}" ORDER BY updated DESC',
        'updated > "-3m" AND labels = "from-zendesk" ORDER BY key DESC',
        'labels = "zendesk-1" OR updated >= "-1m" ORDER BY priority DESC, created ASC',
        'NOT labels = "zendesk-2" AND updated >= "-10m" AND status != "Done"',
        'labels = "zendesk-4" OR status = "Done" ORDER BY created ASC',
        'project = "WEB" ORDER BY key ASC',
    ]


@pytest.fixture(params=["Cloud", "Server"])
def twin(request: pytest.FixtureRequest) -> Iterator[JiraTwin]:
    twin = JiraTwin(ManualClock(START), search_lag=LAG, deployment_type=request.param)
    twin.add_project("OPS", "Operations")
    twin.add_project("WEB", "Website", issue_types=("Task",))
    with twin:
        yield twin


@pytest.fixture
def client(twin: JiraTwin) -> Iterator[JIRA]:
    jira = JIRA(server=twin.base_url, basic_auth=("bot@example.com", "x"),
                options={"check_update": False}, max_retries=0, timeout=5)
    yield jira
    jira.close()  # type: ignore[no-untyped-call]


def _clock(twin: JiraTwin) -> ManualClock:
    assert isinstance(twin.clock, ManualClock)
    return twin.clock


def _post(client: JIRA, path: str, body: Any) -> Any:
    answer = client._session.post(f"{client.server_url}/rest/api/2/{path}",
                                  data=json.dumps(body))
    return answer.json() if answer.content else None


def _fields(rng: random.Random) -> dict[str, Any]:
    project = rng.choice(["OPS", "WEB"])
    return {"project": {"key": project}, "summary": f"Issue {rng.randrange(1000)}",
            "issuetype": {"name": "Bug" if project == "OPS" else "Task"},
            "labels": rng.sample(LABELS, rng.randrange(3)),
            "priority": {"name": rng.choice(["High", "Medium", "Low"])}}


def _write(twin: JiraTwin, client: JIRA, rng: random.Random) -> None:
    """One write of any kind the twin knows, through the API or as an engineer would."""
    keys = [i["key"] for i in twin.issues()]
    kind = rng.choice(["create", "bulk", "labels", "set labels", "engineer label",
                       "transition", "comment", "link", "assign"] if keys else ["create"])
    key = rng.choice(keys) if keys else ""
    if kind == "create":
        _post(client, "issue", {"fields": _fields(rng)})
    elif kind == "bulk":
        _post(client, "issue/bulk", {"issueUpdates": [{"fields": _fields(rng)}
                                                      for _ in range(rng.randrange(1, 4))]})
    elif kind in ("labels", "set labels"):
        change = ({"update": {"labels": [{"add": rng.choice(LABELS)},
                                         {"remove": rng.choice(LABELS)}]}}
                  if kind == "labels" else {"fields": {"labels": rng.sample(LABELS, 2)}})
        client._session.put(f"{client.server_url}/rest/api/2/issue/{key}",
                            data=json.dumps(change))
    elif kind == "engineer label":
        twin.add_label(key, rng.choice(LABELS))
    elif kind == "transition":
        twin.transition(key, rng.choice(STATUSES))
    elif kind == "comment":
        _post(client, f"issue/{key}/comment", {"body": "Looking into it"})
    elif kind == "link":
        _post(client, f"issue/{key}/remotelink",
              {"globalId": f"zendesk-{rng.randrange(3)}",
               "object": {"url": "https://acme.zendesk.com/agent/tickets/1", "title": "T"}})
    else:
        twin.assign(key, rng.choice([None, "Dana Engineer"]))


def _every_page(twin: JiraTwin, client: JIRA, jql: str, reconcile: list[int]) -> list[Any]:
    """Every page of the search, 3 issues a page, as the deployment pages it."""
    pages: list[Any] = []
    if twin.deployment_type == "Cloud":
        body: dict[str, Any] = {"jql": jql, "maxResults": 3, "fields": ["labels", "updated"],
                                "reconcileIssues": reconcile}
        while True:
            pages.append(_post(client, "search/jql", body))
            if pages[-1].get("isLast", True):
                return pages
            body["nextPageToken"] = pages[-1]["nextPageToken"]
    start = 0
    while True:
        pages.append(client._get_json("search", params={
            "jql": jql, "startAt": start, "maxResults": 3, "fields": "labels,updated"}))
        start += 3
        if start >= pages[-1]["total"]:
            return pages


def _same_either_way(twin: JiraTwin, client: JIRA, rng: random.Random) -> None:
    # Reconciled: the issues written last (their live version may be ahead of the index's).
    latest = sorted(twin.issues(), key=lambda i: str(i["fields"]["updated"]))[-4:]
    for jql in _queries(_clock(twin)()):
        reconcile = [int(i["id"]) for i in rng.sample(latest, min(3, len(latest)))]
        twin.use_index = True
        indexed = _every_page(twin, client, jql, reconcile)
        twin.use_index = False
        scanned = _every_page(twin, client, jql, reconcile)
        assert indexed == scanned, jql


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_indexed_search_answers_as_the_scan_does(twin: JiraTwin, client: JIRA,
                                                 seed: int) -> None:
    rng = random.Random(seed)
    clock = _clock(twin)
    for step in range(60):
        _write(twin, client, rng)
        clock.advance(timedelta(seconds=rng.randrange(0, 50)))
        if step % 15 == 14:  # writes still inside the lag, and some past it
            _same_either_way(twin, client, rng)
    for after in (timedelta(seconds=30), LAG, timedelta(minutes=10)):
        clock.advance(after)
        _same_either_way(twin, client, rng)


def test_searches_examine_the_issues_they_may_match(twin: JiraTwin, client: JIRA) -> None:
    clock = _clock(twin)
    _post(client, "issue/bulk", {"issueUpdates": [
        {"fields": {"project": {"key": "OPS"}, "summary": f"Issue {n}",
                    "issuetype": {"name": "Bug"}, "labels": [f"zendesk-{n}"]}}
        for n in range(40)]})
    clock.advance(timedelta(hours=1))
    twin.add_label("OPS-3", "from-zendesk")
    twin.transition("OPS-4", "Done")
    clock.advance(LAG)

    def found(jql: str) -> list[str]:
        pages = _every_page(twin, client, jql, [])
        return [i["key"] for page in pages for i in page["issues"]]

    assert found(poll_query(["OPS"], timedelta(minutes=5))) == ["OPS-3", "OPS-4"]
    assert twin.examined == 2
    assert found('labels = "zendesk-7" ORDER BY created ASC') == ["OPS-8"]
    assert twin.examined == 1
    assert found(labels_query([40, 41, 99])) == []  # the issues' run zendesk-0 to 39
    assert twin.examined == 0
    assert found(labels_query([2, 3, 39])) == ["OPS-3", "OPS-4", "OPS-40"]
    assert twin.examined == 3
    # The old version (without the label) is kept while the new one is inside the lag.
    twin.add_label("OPS-5", "from-zendesk")
    assert found('labels = "from-zendesk"') == ["OPS-3"]
    assert twin.examined == 2
    clock.advance(LAG)
    assert found('labels = "from-zendesk" ORDER BY key DESC') == ["OPS-5", "OPS-3"]
    # What the index cannot narrow is matched against every issue.
    assert found('status = "Done"') == ["OPS-4"]
    assert twin.examined == 40
