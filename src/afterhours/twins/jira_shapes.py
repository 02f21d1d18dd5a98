"""JSON shapes of Jira Cloud objects (REST v2), built the way the real service spells them
(users also as Jira Data Center spells them).

Field names and types follow Atlassian's OpenAPI spec (ServerInformation,
IssueBean, StatusDetails, FieldDetails, ErrorCollection...), so the client's
resource classes and a later spec check see what they would see in production.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from afterhours.twins._http import HttpError

# Jira Cloud's stock workflow: status name -> (status id, category id, category key,
# category name, colour, transition id). Transition ids are the ones Cloud's simplified
# workflow uses for its "any status -> X" global transitions.
STATUSES: dict[str, tuple[str, int, str, str, str, str]] = {
    "To Do": ("10000", 2, "new", "To Do", "blue-gray", "11"),
    "In Progress": ("3", 4, "indeterminate", "In Progress", "yellow", "21"),
    "In Review": ("10002", 4, "indeterminate", "In Progress", "yellow", "41"),
    "Done": ("10001", 3, "done", "Done", "green", "31"),
}
# Cloud's stock priorities, highest first: name -> (id, status colour, description).
PRIORITIES: dict[str, tuple[str, str, str]] = {
    "Highest": ("1", "#d04437", "This problem will block progress."),
    "High": ("2", "#f15C75", "Serious problem that could block progress."),
    "Medium": ("3", "#f79232", "Has the potential to affect progress."),
    "Low": ("4", "#707070", "Minor problem or easily worked around."),
    "Lowest": ("5", "#999999", "Trivial problem with little or no impact on progress."),
}
DEFAULT_PRIORITY = "Medium"
DONE_RESOLUTION = ("10000", "Done", "Work has been completed on this issue.")
# Cloud's stock resolutions: name -> (id, description). Entering Done sets one (Done unless
# the transition names another).
RESOLUTIONS: dict[str, tuple[str, str]] = {
    "Done": (DONE_RESOLUTION[0], DONE_RESOLUTION[2]),
    "Won't Do": ("10001", "This issue won't be actioned."),
    "Duplicate": ("10002", "The problem is a duplicate of an existing issue."),
    "Cannot Reproduce": ("10003", "All attempts at reproducing this issue failed."),
}

# System fields: id -> (name, schema type, items type, orderable, searchable).
_SYSTEM_FIELDS: dict[str, tuple[str, str, str | None, bool, bool]] = {
    "summary": ("Summary", "string", None, True, True),
    "description": ("Description", "string", None, True, True),
    "issuetype": ("Issue Type", "issuetype", None, True, True),
    "project": ("Project", "project", None, False, True),
    "labels": ("Labels", "array", "string", True, True),
    "priority": ("Priority", "priority", None, True, True),
    "status": ("Status", "status", None, False, True),
    "components": ("Components", "array", "component", True, True),
    "created": ("Created", "datetime", None, False, True),
    "updated": ("Updated", "datetime", None, False, True),
    "resolution": ("Resolution", "resolution", None, True, True),
    "resolutiondate": ("Resolved", "datetime", None, False, True),
    "statuscategorychangedate": ("Status Category Changed", "datetime", None, False, True),
    "reporter": ("Reporter", "user", None, True, True),
    "creator": ("Creator", "user", None, False, True),
    "assignee": ("Assignee", "user", None, True, True),
    "fixVersions": ("Fix versions", "array", "version", True, True),
    "comment": ("Comment", "comments-page", None, True, True),
    "issuekey": ("Key", "string", None, False, False),
}
_CLAUSE_NAMES = {
    "issuetype": ["issuetype", "type"],
    "components": ["component"],
    "created": ["created", "createdDate"],
    "updated": ["updated", "updatedDate"],
    "resolutiondate": ["resolutiondate", "resolved"],
    "issuekey": ["id", "issue", "issuekey", "key"],
    "labels": ["labels"],
    "fixVersions": ["fixVersion"],
}
SETTABLE_FIELDS = {"project", "summary", "description", "issuetype", "labels", "priority",
                   "components", "reporter", "assignee"}


def jira_time(moment: datetime) -> str:
    """Format like Jira: 2026-11-23T04:42:00.000+0000."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def error(status: int, messages: list[str] | None = None,
          errors: dict[str, str] | None = None) -> HttpError:
    """An ErrorCollection answer, as every Jira endpoint shapes its failures."""
    return HttpError(status, {"errorMessages": messages or [], "errors": errors or {}})


def fields(base: str) -> list[dict[str, Any]]:
    """GET /field: the system fields the daemon touches (FieldDetails)."""
    del base  # system fields carry no self link
    out = []
    for field_id, (name, kind, items, orderable, searchable) in _SYSTEM_FIELDS.items():
        schema: dict[str, Any] = {"type": kind, "system": field_id}
        if items is not None:
            schema["items"] = items
        out.append({
            "id": field_id, "key": field_id, "name": name, "custom": False,
            "orderable": orderable, "navigable": True, "searchable": searchable,
            "clauseNames": _CLAUSE_NAMES.get(field_id, [field_id]), "schema": schema,
        })
    return out


def user(base: str, account_id: str, display_name: str, email: str | None) -> dict[str, Any]:
    """A Cloud user as embedded in issues and comments (UserDetails): accountId based.

    UserDetails has no `locale` (and forbids extra properties); only the full User that
    /myself answers carries one, see `full_user`.
    """
    out: dict[str, Any] = {
        "self": f"{base}/rest/api/2/user?accountId={account_id}",
        "accountId": account_id, "accountType": "atlassian", "displayName": display_name,
        "active": True, "timeZone": "Etc/UTC",
        "avatarUrls": _avatars("https://secure.gravatar.com/avatar/0?d=mm&s="),
    }
    if email is not None:
        out["emailAddress"] = email
    return out


def data_center_user(base: str, username: str, display_name: str,
                     email: str) -> dict[str, Any]:
    """A Jira Data Center user (REST v2): no accountId; `name` is the username (which an
    admin may rename) and `key` the user key (JIRAUSER..., which stays)."""
    return {
        "self": f"{base}/rest/api/2/user?username={quote(username)}",
        "name": username, "key": user_key(username), "emailAddress": email,
        "avatarUrls": _avatars(f"{base}/secure/useravatar?avatarId=10122&s="),
        "displayName": display_name, "active": True, "timeZone": "Etc/UTC",
    }


def user_key(username: str) -> str:
    """The user key Data Center gave `username` (JIRAUSER and a number since Jira 8)."""
    return f"JIRAUSER{10000 + uuid.uuid5(uuid.NAMESPACE_URL, username).int % 90000}"


def _avatars(prefix: str) -> dict[str, str]:
    return {size: f"{prefix}{size.split('x')[0]}" for size in ("48x48", "24x24", "16x16", "32x32")}


def full_user(details: dict[str, Any]) -> dict[str, Any]:
    """The User that GET /myself answers: UserDetails plus locale, groups and roles."""
    return details | {"locale": "en_US", "groups": {"size": 1, "items": []},
                      "applicationRoles": {"size": 1, "items": []},
                      "expand": "groups,applicationRoles"}


def status(base: str, name: str) -> dict[str, Any]:
    """StatusDetails with its StatusCategory."""
    status_id, cat_id, cat_key, cat_name, colour, _ = STATUSES[name]
    return {
        "self": f"{base}/rest/api/2/status/{status_id}", "description": "",
        "iconUrl": f"{base}/images/icons/statuses/generic.png", "name": name, "id": status_id,
        "statusCategory": {"self": f"{base}/rest/api/2/statuscategory/{cat_id}", "id": cat_id,
                           "key": cat_key, "colorName": colour, "name": cat_name},
    }


def priority(base: str, pid: str, name: str) -> dict[str, Any]:
    """Priority as embedded in an issue."""
    return {"self": f"{base}/rest/api/2/priority/{pid}", "name": name, "id": pid,
            "iconUrl": f"{base}/images/icons/priorities/{name.lower()}.svg"}


def priority_details(base: str, pid: str, name: str) -> dict[str, Any]:
    """Priority as GET /priority lists it: the embedded form plus colour and description."""
    _, colour, description = PRIORITIES.get(name, (pid, "#707070", ""))
    return priority(base, pid, name) | {"statusColor": colour, "description": description}


def resolution(base: str, name: str = "Done") -> dict[str, Any]:
    """A resolution (by default "Done", which Cloud's workflow sets on entering Done)."""
    rid, description = RESOLUTIONS[name]
    return {"self": f"{base}/rest/api/2/resolution/{rid}", "id": rid,
            "description": description, "name": name}


def version(base: str, version_id: str, name: str, project_id: str, *,
            released: bool) -> dict[str, Any]:
    """A project version (Version), as listed in an issue's fixVersions."""
    return {"self": f"{base}/rest/api/2/version/{version_id}", "id": version_id,
            "name": name, "archived": False, "released": released,
            "projectId": int(project_id)}


def issue_type(base: str, type_id: str, name: str) -> dict[str, Any]:
    """IssueTypeDetails (a standard, non-subtask type)."""
    return {
        "self": f"{base}/rest/api/2/issuetype/{type_id}", "id": type_id,
        "description": f"A {name.lower()}.", "name": name,
        "iconUrl": f"{base}/rest/api/2/universal_avatar/view/type/issuetype/avatar/10318",
        "subtask": False, "avatarId": 10318, "hierarchyLevel": 0,
    }


def transition(base: str, name: str) -> dict[str, Any]:
    """IssueTransition for Cloud's global "any status -> `name`" transition."""
    return {"id": STATUSES[name][5], "name": name, "to": status(base, name), "hasScreen": False,
            "isGlobal": True, "isInitial": False, "isAvailable": True,
            "isConditional": False, "looped": False}


def server_info(base: str, now: datetime, deployment_type: str = "Cloud") -> dict[str, Any]:
    """ServerInformation; deploymentType "Cloud" makes the client use Cloud search, and
    afterhours file issues on v3 with ADF ("Server": Data Center, v2 and wiki markup)."""
    cloud = deployment_type == "Cloud"
    return {
        "baseUrl": base, "displayUrl": base,
        "version": "1001.0.0-SNAPSHOT" if cloud else "9.12.2",
        "versionNumbers": [1001, 0, 0] if cloud else [9, 12, 2],
        "deploymentType": deployment_type, "buildNumber": 100290 if cloud else 9120002,
        "buildDate": "2026-11-20T00:00:00.000+0000", "serverTime": jira_time(now),
        "scmInfo": "0f5c7b2d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b", "serverTitle": "Jira",
        "serverTimeZone": "Etc/UTC",
    }
