"""A stateful twin of Jira's REST API (v2, and v3 issue creation with ADF), for the real `jira`
client over real HTTP; Jira Cloud by default, Jira Data Center when told (`deployment_type`).

It serves what the daemon uses: server info, the bot's identity, fields,
projects with their issue types and components, priorities, issue creation
with Jira's validation, search with an eventually consistent index (`search_lag`):
Cloud's enhanced search with `reconcileIssues`, Data Center's by startAt; remote-link
upserts, transitions and comments. Time comes from an injected clock so tests
and demos can run nights in seconds.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from afterhours.twins import jira_search as search
from afterhours.twins import jira_shapes as shapes
from afterhours.twins._http import Request, Response, Twin, TwinServer
from afterhours.twins.jira_activity import JiraActivity
from afterhours.twins.jira_index import SearchIndex
from afterhours.twins.jira_issues import Project, validate
from afterhours.twins.jira_routes import register
from afterhours.twins.jira_search_routes import register_search
from afterhours.twins.jira_search_view import GONE, JiraSearchView
from afterhours.twins.webhooks import JiraWebhook

Clock = Callable[[], datetime]
NOT_FOUND = "Issue does not exist or you do not have permission to see it."


def _utc_now() -> datetime:
    return datetime.now(UTC)


class JiraTwin(Twin, JiraActivity, JiraSearchView):
    """Jira Cloud as the daemon sees it; state lives in memory behind `server.lock`."""

    def __init__(self, clock: Clock | None = None, *, search_lag: timedelta = timedelta(0),
                 priorities: Sequence[str] = tuple(shapes.PRIORITIES),
                 deployment_type: str = "Cloud") -> None:
        """Create a stopped twin; `search_lag` delays what search sees after each write.

        `deployment_type` is what serverInfo says: "Cloud" (REST v3 takes ADF descriptions,
        search is search/jql), or "Server" for Jira Data Center, which has no v3 (its creates
        are v2, wiki markup) and no search/jql (it searches on v2 `search`, by startAt).

        `priorities` are the site's priority names, highest first (Cloud's stock five by
        default). Stock names keep their stock ids; others get ids from 10000 as in Cloud,
        so JQL's ORDER BY priority (by id in the twin) ranks them below Lowest.
        """
        if not priorities:
            raise ValueError("a Jira site has at least one priority")
        self.clock: Clock = clock or _utc_now
        self.search_lag = search_lag
        self.deployment_type = deployment_type
        self.server = TwinServer("jira")
        self._priorities = [(shapes.PRIORITIES[name][0] if name in shapes.PRIORITIES
                             else str(10000 + n), name) for n, name in enumerate(priorities)]
        self._default_priority = next(
            (p for p in self._priorities if p[1] == shapes.DEFAULT_PRIORITY),
            self._priorities[len(self._priorities) // 2])
        self._projects: list[Project] = []
        self._type_ids: dict[str, str] = {}  # issue type name -> id, shared by projects
        self._issues: dict[str, dict[str, Any]] = {}  # id -> IssueBean, in creation order
        self._keys: dict[str, str] = {}  # KEY -> id
        self._indexed: dict[str, list[tuple[datetime, dict[str, Any]]]] = {}
        self._index = SearchIndex()  # over the versions in _indexed
        # False answers every search by matching every issue, as Jira without an index would:
        # tests compare the two. `examined` counts the issues the last search matched.
        self.use_index = True
        self.examined = 0
        self._links: dict[str, list[dict[str, Any]]] = {}
        self._next_id = {"issue": 10000, "link": 10000, "comment": 10000, "component": 10000}
        self._start_activity()
        register(self)
        register_search(self)

    def _base(self) -> str:
        try:
            return self.server.base_url
        except RuntimeError:  # projects may be set up before the server starts
            return ""

    # -- the engineer's side (what people do in Jira's UI) ---------------------------------

    def add_project(self, key: str, name: str, *,
                    issue_types: Sequence[str] = ("Bug", "Task", "Story"),
                    components: Sequence[str] = ()) -> dict[str, Any]:
        """Create a project with the given issue types (and components); return its JSON."""
        with self.server.lock:
            if self._project(key) is not None:
                raise ValueError(f"project {key} exists")
            types = [(self._type_ids.setdefault(t, str(10001 + len(self._type_ids))), t)
                     for t in issue_types]
            comps = [(self._new_id("component"), c) for c in components]
            project = Project(str(10000 + len(self._projects)), key.upper(), name, types, comps)
            self._projects.append(project)
            return project.full(self._base(), self.bot(), issue_types=True)

    def issue(self, key: str) -> dict[str, Any]:
        """The issue's current JSON (a copy), by key or id."""
        with self.server.lock:
            return copy.deepcopy(self.find_issue(key))

    def issues(self) -> list[dict[str, Any]]:
        """All issues (copies) in creation order."""
        with self.server.lock:
            return copy.deepcopy(list(self._issues.values()))

    def webhook(self, url: str, secret: str) -> JiraWebhook:
        """An admin webhook that delivers issue events to `url`, signed with `secret`."""
        return JiraWebhook(self, url, secret)

    def remote_links(self, key: str) -> list[dict[str, Any]]:
        """The issue's remote links (copies)."""
        with self.server.lock:
            return copy.deepcopy(self._links[self.find_issue(key)["id"]])

    # -- state shared with the route handlers (call under server.lock) ---------------------

    def bot(self, request: Request | None = None) -> dict[str, Any]:
        """The authenticated user: whoever the Basic credentials name (on Data Center, the
        username they log in with)."""
        email = "bot@example.com"
        auth = (request.headers.get("authorization", "") if request else "").split(" ", 1)
        if len(auth) == 2 and auth[0].lower() == "basic":
            with contextlib.suppress(ValueError):
                email = base64.b64decode(auth[1]).decode().split(":", 1)[0] or email
        shown = email.split("@")[0].title()
        if self.deployment_type != "Cloud":  # Data Center's username is the login itself
            return shapes.data_center_user(self._base(), email, shown, email)
        account = "712020:" + str(uuid.uuid5(uuid.NAMESPACE_URL, email))
        return shapes.user(self._base(), account, shown, email)

    def _project(self, key_or_id: str) -> Project | None:
        wanted = key_or_id.upper()
        return next((p for p in self._projects if wanted in (p.key, p.id)), None)

    def project_or_404(self, key_or_id: str) -> Project:
        """The project, or Jira's 404."""
        project = self._project(key_or_id)
        if project is None:
            raise shapes.error(404, [f"No project could be found with key '{key_or_id}'."])
        return project

    def projects(self) -> list[Project]:
        """All projects, in creation order."""
        return list(self._projects)

    def priorities(self) -> list[tuple[str, str]]:
        """The site's priorities as (id, name), highest first."""
        return list(self._priorities)

    def find_issue(self, key_or_id: str) -> dict[str, Any]:
        """The live issue by key or id, or Jira's 404 (raised as HttpError)."""
        issue_id = self._keys.get(key_or_id.upper(), key_or_id)
        if issue_id not in self._issues:
            raise shapes.error(404, [NOT_FOUND])
        return self._issues[issue_id]

    def _new_id(self, kind: str) -> str:
        self._next_id[kind] += 1
        return str(self._next_id[kind] - 1)

    def create_issue(self, request: Request, api: str = "2") -> dict[str, Any]:
        """Validate a create-issue body sent on REST `api` ("2" or "3") and store the new
        issue; its description is kept as sent (a string, or an ADF document)."""
        if api == "3" and self.deployment_type != "Cloud":
            raise shapes.error(404, ["Data Center has no REST API v3."])
        project, clean = validate(request.body, self._project, self._priorities,
                                  self._default_priority, api=api)
        base, now = self._base(), shapes.jira_time(self.clock())
        issue_id = self._new_id("issue")
        key = f"{project.key}-{project.next_number}"
        project.next_number += 1
        type_id, type_name = clean["issuetype"]
        bot = self.bot(request)
        issue = {
            "expand": search.ISSUE_EXPAND, "id": issue_id,
            "self": f"{base}/rest/api/{api}/issue/{issue_id}", "key": key,
            "fields": {
                "summary": clean["summary"], "description": clean["description"],
                "issuetype": shapes.issue_type(base, type_id, type_name),
                "project": project.ref(base), "labels": clean["labels"],
                "priority": shapes.priority(base, *clean["priority"]),
                "status": shapes.status(base, "To Do"),
                "components": [Project.component(base, *c) for c in clean["components"]],
                "created": now, "updated": now, "resolution": None, "resolutiondate": None,
                "statuscategorychangedate": now, "reporter": bot, "creator": bot,
                "assignee": None, "fixVersions": [],
                "comment": {"comments": [], "self": f"{base}/rest/api/2/issue/{issue_id}/comment",
                            "maxResults": 0, "total": 0, "startAt": 0},
            },
        }
        self._issues[issue_id] = issue
        self._keys[key] = issue_id
        self._links[issue_id] = []
        self._index.add_issue(issue)
        self.touch(issue)
        return issue

    def upsert_link(self, issue: dict[str, Any], body: Any) -> Response:
        """Create a remote link, or update the one with the same globalId (200 vs 201)."""
        obj = body.get("object") if isinstance(body, dict) else None
        if not isinstance(obj, dict):
            raise shapes.error(400, [], {"object": "'object' is required."})
        missing = {f: f"'{f}' is required." for f in ("url", "title") if not obj.get(f)}
        if missing:
            raise shapes.error(400, [], missing)
        links = self._links[issue["id"]]
        global_id = body.get("globalId")
        existing = next((x for x in links if global_id and x.get("globalId") == global_id), None)
        link_id = existing["id"] if existing else int(self._new_id("link"))
        link: dict[str, Any] = {
            "id": link_id,
            "self": f"{self._base()}/rest/api/2/issue/{issue['key']}/remotelink/{link_id}",
            "application": body.get("application") or {}, "object": obj,
        }
        for name in ("globalId", "relationship"):
            if body.get(name) is not None:
                link[name] = body[name]
        if existing:
            links[links.index(existing)] = link
        else:
            links.append(link)
        self.touch(issue)
        return Response(200 if existing else 201, {"id": link_id, "self": link["self"]})

    def links_of(self, issue: dict[str, Any]) -> list[dict[str, Any]]:
        """The live remote-link list of `issue`."""
        return self._links[issue["id"]]


__all__ = ["GONE", "Clock", "JiraTwin"]
