"""HTTP endpoints of the Jira twin for an issue's life after filing: editing its labels,
commenting in ADF (REST v3), reading its changelog and its project's versions.

Each handler runs under the server lock (see `TwinServer.dispatch`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from afterhours.twins import jira_shapes as shapes
from afterhours.twins._http import Request, Response
from afterhours.twins.jira_adf import description_error
from afterhours.twins.jira_issues import MAX_TEXT

if TYPE_CHECKING:
    from afterhours.twins.jira import JiraTwin

API = "/rest/api/2"


def visibility_of(body: Any) -> dict[str, Any] | None:
    """A comment's `visibility` as sent (None: everyone), or Jira's 400."""
    shown = body.get("visibility") if isinstance(body, dict) else None
    if shown is None:
        return None
    if (not isinstance(shown, dict) or shown.get("type") not in ("role", "group")
            or not isinstance(shown.get("value"), str) or not shown["value"].strip()):
        raise shapes.error(400, [], {"commentLevel": "You are currently not a member of the "
                                                     "project role or group specified."})
    return {"type": shown["type"], "value": shown["value"]}


def _label_changes(body: Any) -> tuple[list[str], list[str], list[str] | None]:
    """What an edit asks of the labels: added, removed, or a whole new list (None: kept)."""
    if not isinstance(body, dict):
        raise shapes.error(400, ["No fields or updates were given for the issue."])
    fields, update = body.get("fields") or {}, body.get("update") or {}
    if not isinstance(fields, dict) or not isinstance(update, dict):
        raise shapes.error(400, ["fields and update must be objects."])
    unknown = {name: f"Field '{name}' cannot be set. It is not on the appropriate screen, "
                     "or unknown." for name in {*fields, *update} if name != "labels"}
    if unknown:
        raise shapes.error(400, [], unknown)
    add: list[str] = []
    remove: list[str] = []
    for operation in update.get("labels") or []:
        if not isinstance(operation, dict) or not set(operation) <= {"add", "remove"}:
            raise shapes.error(400, [], {"labels": "Operation must be add or remove."})
        add += [operation["add"]] if "add" in operation else []
        remove += [operation["remove"]] if "remove" in operation else []
    whole = fields.get("labels")
    for label in [*add, *remove, *(whole or [])]:
        if not isinstance(label, str) or not label or any(c.isspace() for c in label):
            raise shapes.error(400, [], {"labels": f"The label '{label}' contains spaces "
                                                   "which is invalid."})
        if len(label) > MAX_TEXT:
            raise shapes.error(400, [], {"labels": "The label exceeds the maximum length "
                                                   "for a single label of 255 characters."})
    return add, remove, whole


def register_activity(twin: JiraTwin) -> None:
    """Attach the endpoints above to `twin.server`."""
    route = twin.server.route

    @route("PUT", f"{API}/issue/{{key}}")
    def edit_issue(request: Request) -> Response:
        issue = twin.find_issue(request.params["key"])
        add, remove, whole = _label_changes(request.body)
        if whole is not None:
            remove = [label for label in issue["fields"]["labels"] if label not in whole]
            add = [*whole, *add]
        twin.edit_labels(issue, add, remove, twin.bot(request))
        return Response(204, None)

    @route("POST", "/rest/api/3/issue/{key}/comment")
    def add_comment_v3(request: Request) -> Response:
        if twin.deployment_type != "Cloud":
            raise shapes.error(404, ["Data Center has no REST API v3."])
        issue = twin.find_issue(request.params["key"])
        body = request.body.get("body") if isinstance(request.body, dict) else None
        problem = description_error(body, api="3") if body is not None else "is required"
        if problem is not None:
            raise shapes.error(400, [], {"comment": problem})
        comment = twin.comment_on(issue, body, twin.bot(request),
                                  visibility=visibility_of(request.body))
        return Response(201, {**comment, "self": comment["self"].replace("/api/2/", "/api/3/")})

    @route("GET", f"{API}/issue/{{key}}/changelog")
    def changelog(request: Request) -> Response:
        histories = twin.with_changelog(twin.find_issue(request.params["key"]))["changelog"][
            "histories"]
        start = max(0, int(request.arg("startAt") or 0))
        size = max(1, min(100, int(request.arg("maxResults") or 100)))
        page = histories[start:start + size]
        return Response(200, {"startAt": start, "maxResults": size, "total": len(histories),
                              "isLast": start + size >= len(histories), "values": page})

    @route("GET", f"{API}/project/{{key}}/versions")
    def versions(request: Request) -> Response:
        project = twin.project_or_404(request.params["key"])
        return Response(200, twin.versions_of(project.key))
