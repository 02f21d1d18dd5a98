"""HTTP endpoints of the Jira twin: REST v2 paths mapped onto `JiraTwin`'s state.

Each handler runs under the server lock (see `TwinServer.dispatch`), so it may
read and write the twin's state directly.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from afterhours.twins import jira_search as search
from afterhours.twins import jira_shapes as shapes
from afterhours.twins._http import HttpError, Request, Response
from afterhours.twins.jira_activity_routes import register_activity, visibility_of

if TYPE_CHECKING:
    from afterhours.twins.jira import JiraTwin

API = "/rest/api/2"
BULK_CREATE_LIMIT = 50


def _int_arg(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise shapes.error(400, [f"The value '{value}' is invalid for the parameter "
                                 f"'{name}'."]) from None


def _list_arg(request: Request, name: str) -> list[str] | None:
    values = request.query.get(name)
    return [v for item in values for v in item.split(",")] if values else None


def _refused_bulk(message: str, failed: int | None = None) -> Response:
    error: dict[str, Any] = {"status": 400,
                             "elementErrors": {"errorMessages": [message], "errors": {}}}
    if failed is not None:
        error["failedElementNumber"] = failed
    return Response(400, {"issues": [], "errors": [error]})


def register(twin: JiraTwin) -> None:
    """Attach every endpoint to `twin.server`."""
    _meta_routes(twin)
    _issue_routes(twin)
    _link_routes(twin)
    _workflow_routes(twin)
    register_activity(twin)


def _meta_routes(twin: JiraTwin) -> None:
    route = twin.server.route

    @route("GET", f"{API}/serverInfo")
    def server_info(request: Request) -> Response:
        return Response(200, shapes.server_info(twin.base_url, twin.clock(),
                                                twin.deployment_type))

    @route("GET", f"{API}/myself")
    def myself(request: Request) -> Response:
        return Response(200, shapes.full_user(twin.bot(request)))

    @route("GET", f"{API}/field")
    def fields(request: Request) -> Response:
        return Response(200, shapes.fields(twin.base_url))

    @route("GET", f"{API}/project")
    def projects(request: Request) -> Response:
        with_types = "issueTypes" in (request.arg("expand") or "")
        return Response(200, [p.full(twin.base_url, twin.bot(request), issue_types=with_types)
                              for p in twin.projects()])

    @route("GET", f"{API}/project/{{key}}")
    def project(request: Request) -> Response:
        found = twin.project_or_404(request.params["key"])
        return Response(200, found.full(twin.base_url, twin.bot(request), issue_types=True))

    @route("GET", f"{API}/priority")
    def priorities(request: Request) -> Response:
        return Response(200, [shapes.priority_details(twin.base_url, pid, name)
                              for pid, name in twin.priorities()])

    @route("GET", f"{API}/issuetype")
    def issue_types(request: Request) -> Response:
        seen = {t for p in twin.projects() for t in p.issue_types}
        return Response(200, [shapes.issue_type(twin.base_url, tid, name)
                              for tid, name in sorted(seen)])



def _issue_routes(twin: JiraTwin) -> None:
    route = twin.server.route

    @route("POST", f"{API}/issue")
    def create_issue(request: Request) -> Response:
        issue = twin.create_issue(request)
        return Response(201, {"id": issue["id"], "key": issue["key"], "self": issue["self"]})

    @route("POST", f"{API}/issue/bulk")
    def create_issues(request: Request) -> Response:
        return _create_in_bulk(twin, request, "2")

    @route("POST", "/rest/api/3/issue/bulk")
    def create_issues_v3(request: Request) -> Response:
        # Cloud's v3: the same operation, each description in ADF.
        if twin.deployment_type != "Cloud":
            raise shapes.error(404, ["Data Center has no REST API v3."])
        return _create_in_bulk(twin, request, "3")

    @route("POST", "/rest/api/3/issue")
    def create_issue_v3(request: Request) -> Response:
        # Cloud's v3: the same operation, with the description in ADF.
        issue = twin.create_issue(request, api="3")
        return Response(201, {"id": issue["id"], "key": issue["key"], "self": issue["self"]})

    @route("GET", f"{API}/issue/{{key}}")
    def get_issue(request: Request) -> Response:
        issue = twin.for_v2(twin.find_issue(request.params["key"]))
        if "changelog" in (request.arg("expand") or "").split(","):
            issue = twin.with_changelog(issue)
        return Response(200, search.select_fields(issue, _list_arg(request, "fields"),
                                                  default_all=True))

    @route("GET", f"{API}/search/jql")
    def search_get(request: Request) -> Response:
        return Response(200, twin.search(
            request.arg("jql"),
            max_results=_int_arg(request.arg("maxResults"), "maxResults",
                                 search.DEFAULT_MAX_RESULTS),
            fields=_list_arg(request, "fields"), token=request.arg("nextPageToken"),
            reconcile=_list_arg(request, "reconcileIssues") or [],
        ))

    @route("POST", f"{API}/search/jql")
    def search_post(request: Request) -> Response:
        body, max_results, fields = posted_search(request)
        return Response(200, twin.search(
            body.get("jql"), max_results=max_results, fields=fields,
            token=body.get("nextPageToken"), reconcile=body.get("reconcileIssues") or [],
        ))


def posted_search(request: Request) -> tuple[dict[str, Any], int, list[str] | None]:
    """A search's POST body (Cloud's search/jql and Data Center's search alike), its
    maxResults and its fields."""
    body = request.body if isinstance(request.body, dict) else {}
    fields = body.get("fields")
    return (body, _int_arg(body.get("maxResults"), "maxResults", search.DEFAULT_MAX_RESULTS),
            [str(f) for f in fields] if isinstance(fields, list) else None)



def _create_in_bulk(twin: JiraTwin, request: Request, api: str) -> Response:
    """Bulk create on REST `api`: each element is created or refused on its own
    (failedElementNumber counts from 0); 201 when any was created, else 400, both answering
    CreatedIssues. A request refused as a whole answers CreatedIssues too, as the spec says."""
    body = request.body if isinstance(request.body, dict) else {}
    updates = body.get("issueUpdates")
    if not isinstance(updates, list) or not updates:
        return _refused_bulk("issueUpdates must list the issues to create.")
    if len(updates) > BULK_CREATE_LIMIT:
        return _refused_bulk(f"At most {BULK_CREATE_LIMIT} issues can be created in one "
                             "request.", failed=BULK_CREATE_LIMIT)
    issues, errors = [], []
    for number, update in enumerate(updates):
        try:
            issue = twin.create_issue(replace(request, body=update), api=api)
        except HttpError as refused:
            errors.append({"status": refused.response.status,
                           "elementErrors": refused.response.body,
                           "failedElementNumber": number})
            continue
        issues.append({"id": issue["id"], "key": issue["key"], "self": issue["self"]})
    return Response(201 if issues else 400, {"issues": issues, "errors": errors})


def _link_routes(twin: JiraTwin) -> None:
    route = twin.server.route

    @route("GET", f"{API}/issue/{{key}}/remotelink")
    def remote_links(request: Request) -> Response:
        links = twin.links_of(twin.find_issue(request.params["key"]))
        global_id = request.arg("globalId")
        if global_id is None:
            return Response(200, links)
        # Asked by globalId, Jira answers the single link rather than a list.
        for link in links:
            if link.get("globalId") == global_id:
                return Response(200, link)
        raise shapes.error(404, ["No remote link with the given globalId was found."])

    @route("GET", f"{API}/issue/{{key}}/remotelink/{{link_id}}")
    def remote_link(request: Request) -> Response:
        links = twin.links_of(twin.find_issue(request.params["key"]))
        for link in links:
            if str(link["id"]) == request.params["link_id"]:
                return Response(200, link)
        raise shapes.error(404, ["Remote link with the given id does not exist."])

    @route("POST", f"{API}/issue/{{key}}/remotelink")
    def upsert_remote_link(request: Request) -> Response:
        return twin.upsert_link(twin.find_issue(request.params["key"]), request.body)

    @route("GET", "/rest/applinks/latest/listApplicationlinks")
    def application_links(request: Request) -> Response:
        # The bot is no Jira admin, and listing application links needs one; the client's
        # add_remote_link asks anyway (see tests for what that costs).
        raise shapes.error(401, ["You are not authorized to list application links."])



def _workflow_routes(twin: JiraTwin) -> None:
    route = twin.server.route

    @route("GET", f"{API}/issue/{{key}}/transitions")
    def transitions(request: Request) -> Response:
        issue = twin.find_issue(request.params["key"])
        current = issue["fields"]["status"]["name"]
        wanted = request.arg("transitionId")
        available = [shapes.transition(twin.base_url, name) for name in shapes.STATUSES
                     if name != current]
        return Response(200, {"expand": "transitions", "transitions": [
            t for t in available if wanted is None or t["id"] == wanted]})

    @route("POST", f"{API}/issue/{{key}}/transitions")
    def do_transition(request: Request) -> Response:
        issue = twin.find_issue(request.params["key"])
        body = request.body if isinstance(request.body, dict) else {}
        ref = body.get("transition")
        if not isinstance(ref, dict) or ref.get("id") is None:
            raise shapes.error(400, ["Missing 'transition' identifier"])
        current = issue["fields"]["status"]["name"]
        target = next((name for name, s in shapes.STATUSES.items()
                       if s[5] == str(ref["id"]) and name != current), None)
        if target is None:
            raise shapes.error(400, [f"Transition id '{ref['id']}' is not valid for this issue."])
        resolution = ((body.get("fields") or {}).get("resolution") or {}).get("name", "Done")
        if resolution not in shapes.RESOLUTIONS:
            raise shapes.error(400, [], {"resolution": f"Resolution '{resolution}' is not "
                                                      "valid."})
        for item in (body.get("update") or {}).get("comment") or []:
            text = (item.get("add") or {}).get("body")
            if isinstance(text, str) and text.strip():
                twin.comment_on(issue, text, twin.bot(request))
        twin.set_status(issue, target, twin.bot(request), resolution=resolution)
        return Response(204, None)

    @route("GET", f"{API}/issue/{{key}}/comment")
    def comments(request: Request) -> Response:
        issue = twin.for_v2(twin.find_issue(request.params["key"]))
        page = issue["fields"]["comment"]["comments"]
        start = _int_arg(request.arg("startAt"), "startAt", 0)
        size = _int_arg(request.arg("maxResults"), "maxResults", 5000)
        chosen = page[start:start + size]
        return Response(200, {"startAt": start, "maxResults": len(chosen),
                              "total": len(page), "comments": chosen})

    @route("POST", f"{API}/issue/{{key}}/comment")
    def add_comment(request: Request) -> Response:
        issue = twin.find_issue(request.params["key"])
        text = request.body.get("body") if isinstance(request.body, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise shapes.error(400, [], {"comment": "Comment body can not be empty!"})
        return Response(201, twin.comment_on(issue, text, twin.bot(request),
                                             visibility=visibility_of(request.body)))
