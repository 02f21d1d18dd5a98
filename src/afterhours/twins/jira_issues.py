"""Issue creation for the Jira twin: Jira's field validation and the IssueBean it stores.

Kept apart from the HTTP wiring so the validation rules read as one list, in
the order Jira reports them, with Jira's own messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from afterhours.twins import jira_shapes as shapes
from afterhours.twins.jira_adf import description_error
from afterhours.twins.jira_shapes import error

MAX_TEXT = 255


@dataclass
class Project:
    """A project as the twin keeps it; rendered to JSON per request."""

    id: str
    key: str
    name: str
    issue_types: list[tuple[str, str]]  # (id, name)
    components: list[tuple[str, str]]  # (id, name)
    next_number: int = 1

    def ref(self, base: str) -> dict[str, Any]:
        """The short project object embedded in issues."""
        return {
            "self": f"{base}/rest/api/2/project/{self.id}", "id": self.id, "key": self.key,
            "name": self.name, "projectTypeKey": "software", "simplified": False,
            "avatarUrls": {size: f"{base}/rest/api/2/universal_avatar/view/type/project/"
                                 f"avatar/10400?size={size}"
                           for size in ("48x48", "24x24", "16x16", "32x32")},
        }

    def full(self, base: str, lead: dict[str, Any], *, issue_types: bool) -> dict[str, Any]:
        """The Project object of GET /project/{key} (issueTypes only when asked for)."""
        out = {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            **self.ref(base), "description": "", "lead": lead, "assigneeType": "UNASSIGNED",
            "components": [self.component(base, cid, name) for cid, name in self.components],
            "versions": [], "roles": {}, "style": "classic", "isPrivate": False,
            "properties": {},
        }
        if issue_types:
            out["issueTypes"] = [shapes.issue_type(base, tid, name)
                                 for tid, name in self.issue_types]
        return out

    @staticmethod
    def component(base: str, cid: str, name: str) -> dict[str, Any]:
        """A component as embedded in issues and projects."""
        return {"self": f"{base}/rest/api/2/component/{cid}", "id": cid, "name": name}


def _pick(ref: Any, options: list[tuple[str, str]]) -> tuple[str, str] | None:
    # Jira accepts {"id": ...} or {"name": ...}; ids may arrive as numbers.
    if not isinstance(ref, dict):
        return None
    for oid, name in options:
        if ("id" in ref and str(ref["id"]) == oid) or ref.get("name") == name:
            return oid, name
    return None


def _check_text(name: str, value: Any, errors: dict[str, str], *, required: bool) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[name] = "You must specify a summary of the issue."
    elif not isinstance(value, str):
        errors[name] = "Operation value must be a string"
    elif name == "summary" and len(value.encode("utf-16-le", "surrogatepass")) > 2 * MAX_TEXT:
        errors[name] = "Summary must be less than 255 characters."  # Java's characters
    elif name == "summary" and ("\n" in value or "\r" in value):
        errors[name] = "The summary is invalid because it contains newline characters."


def _check_labels(labels: Any, errors: dict[str, str]) -> None:
    if labels is None:
        return
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        errors["labels"] = "Operation value must be a string"
        return
    for label in labels:
        if any(c.isspace() for c in label):
            errors["labels"] = f"The label '{label}' contains spaces which is invalid."
        elif len(label) > MAX_TEXT:
            errors["labels"] = (f"The label '{label}' exceeds the maximum length for a single "
                                "label of 255 characters.")


def _check_project(ref: Any, find_project: Callable[[str], Project | None],
                   errors: dict[str, str]) -> Project | None:
    if not isinstance(ref, dict) or not ({"id", "key"} & set(ref)):
        errors["project"] = "Specify a valid project ID or key"
        return None
    project = find_project(str(ref.get("key") or ref.get("id")))
    if project is None:
        errors["project"] = "valid project is required"
    return project


def _check_priority(ref: Any, priorities: list[tuple[str, str]], default: tuple[str, str],
                    errors: dict[str, str]) -> tuple[str, str]:
    if ref is None:
        return default
    given = ref.get("id", ref.get("name")) if isinstance(ref, dict) else None
    if not isinstance(given, str | int) or isinstance(given, bool):
        errors["priority"] = "Specify the Priority (id or name) in the string format"
    elif (match := _pick(ref, priorities)) is not None:
        return match
    elif "id" in ref:
        # An unknown id fails the field's own check; an unknown name already fails when the
        # REST layer resolves it to an id, with the other message.
        errors["priority"] = "The priority selected is invalid."
    else:
        errors["priority"] = f"Priority name '{given}' is not valid"
    return default


def _check_in_project(given: dict[str, Any], project: Project, clean: dict[str, Any],
                      errors: dict[str, str]) -> None:
    issue_type = given.get("issuetype")
    if issue_type is None:
        errors["issuetype"] = "Specify an issue type"
    elif (match := _pick(issue_type, project.issue_types)) is None:
        errors["issuetype"] = "Specify a valid issue type"
    else:
        clean["issuetype"] = match
    clean["components"] = []
    for comp in given.get("components") or []:
        if (found := _pick(comp, project.components)) is None:
            label = comp.get("name", comp.get("id")) if isinstance(comp, dict) else comp
            errors["components"] = f"Component name '{label}' is not valid"
        else:
            clean["components"].append(found)


def validate(body: Any, find_project: Callable[[str], Project | None],
             priorities: list[tuple[str, str]], default_priority: tuple[str, str],
             *, api: str = "2") -> tuple[Project, dict[str, Any]]:
    """Check a create-issue body like Jira; return the project and the cleaned fields.

    `priorities` are the site's (id, name) pairs; `default_priority` is what an issue sent
    without one gets. The cleaned priority and components are (id, name) pairs. `api` is
    the REST version it came on: "3" takes the description in ADF, "2" as a string.
    """
    given = body.get("fields") if isinstance(body, dict) else None
    if not isinstance(given, dict):
        raise error(400, ["No fields were given for the issue."])
    errors: dict[str, str] = {
        name: f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
        for name in given if name not in shapes.SETTABLE_FIELDS
    }
    project = _check_project(given.get("project"), find_project, errors)
    _check_text("summary", given.get("summary"), errors, required=True)
    described = description_error(given.get("description"), api=api)
    if described is not None:
        errors["description"] = described
    _check_labels(given.get("labels"), errors)
    clean: dict[str, Any] = {
        "summary": given.get("summary"), "description": given.get("description"),
        "labels": list(given.get("labels") or []),
        "priority": _check_priority(given.get("priority"), priorities, default_priority,
                                    errors),
    }
    if project is not None:
        _check_in_project(given, project, clean, errors)
    if errors or project is None:
        raise error(400, [], errors)
    return project, clean
