"""An issue's life in the Jira twin after it is filed: the workflow, the assignee, fix
versions, labels and comments (with their visibility), each change written to the issue's
changelog as Jira writes it (who, when, which field from what to what).

The engineers' side (what people do in Jira's UI) is the public methods; the REST routes
(twins/jira_routes.py, twins/jira_activity_routes.py) use the same rules with the bot as the
author. Every change bumps the issue's `updated` and queues it for the search index.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from afterhours.twins import jira_shapes as shapes
from afterhours.twins._http import TwinServer

if TYPE_CHECKING:
    from afterhours.twins.jira_issues import Project

Json = dict[str, Any]
# One changed field: (field, from, fromString, to, toString).
Item = tuple[str, str | None, str | None, str | None, str | None]
# The changelog's field names and ids, as Jira Cloud writes them.
_FIELD_IDS = {"status": "status", "resolution": "resolution", "assignee": "assignee",
              "Fix Version": "fixVersions", "labels": "labels"}


def adf_text(node: Any) -> str:
    """The text of an ADF document, a paragraph per line: roughly what REST v2 shows of a
    comment written in ADF (Cloud renders it as wiki markup)."""
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        return str(node.get("text", ""))
    if node.get("type") == "hardBreak":
        return "\n"
    joiner = "\n" if node.get("type") in ("doc", "blockquote") else ""
    return joiner.join(adf_text(child) for child in node.get("content", []))


def _named(value: Json | None, id_field: str, name_field: str) -> tuple[str | None, str | None]:
    """An object's id and name as a changelog item's from/fromString (or to/toString)."""
    if value is None:
        return None, None
    return str(value[id_field]), str(value[name_field])


class JiraActivity:
    """The twin's workflow, assignees, fix versions, labels, comments and changelog."""

    server: TwinServer
    clock: Callable[[], datetime]
    deployment_type: str  # "Cloud", or Data Center's (users named by key, not accountId)
    _changelogs: dict[str, list[Json]]  # issue id -> its histories, oldest first
    _versions: dict[str, list[Json]]  # project key -> its versions
    _next_history: int

    if TYPE_CHECKING:
        def _base(self) -> str: ...
        def find_issue(self, key_or_id: str) -> Json: ...
        def touch(self, issue: Json) -> None: ...
        def project_or_404(self, key_or_id: str) -> Project: ...
        def _new_id(self, kind: str) -> str: ...
        _issues: dict[str, Json]
        _keys: dict[str, str]
        _indexed: dict[str, list[tuple[datetime, Json]]]

    def _start_activity(self) -> None:
        self._changelogs, self._versions, self._next_history = {}, {}, 10000

    # -- the engineer's side ---------------------------------------------------------------

    def person(self, name: str) -> Json:
        """A human Jira user called `name` (never the bot), as embedded in issues; on Data
        Center with the username `name` lower-cased, dotted (Dana Engineer: dana.engineer)."""
        if self.deployment_type != "Cloud":
            username = ".".join(name.lower().split())
            return shapes.data_center_user(self._base(), username, name,
                                           f"{username}@example.com")
        account = "557058:" + str(uuid.uuid5(uuid.NAMESPACE_URL, name))
        return shapes.user(self._base(), account, name, None)

    def transition(self, key: str, status: str, *, resolution: str = "Done",
                   author: str = "Engineer") -> Json:
        """Move an issue to a workflow status (To Do, In Progress, In Review, Done) as
        `author` would; entering Done sets `resolution`, leaving it clears it."""
        if status not in shapes.STATUSES:
            raise ValueError(f"unknown status {status!r}; known: {sorted(shapes.STATUSES)}")
        if resolution not in shapes.RESOLUTIONS:
            raise ValueError(f"unknown resolution {resolution!r}")
        with self.server.lock:
            issue = self.find_issue(key)
            self.set_status(issue, status, self.person(author), resolution=resolution)
            return copy.deepcopy(issue)

    def assign(self, key: str, name: str | None, *, author: str = "Engineer") -> Json:
        """Assign the issue to the person called `name` (None: unassign)."""
        with self.server.lock:
            issue = self.find_issue(key)
            before = issue["fields"]["assignee"]
            after = None if name is None else self.person(name)
            issue["fields"]["assignee"] = after
            # The changelog names users by their id: Cloud's accountId, Data Center's key.
            user_id = "accountId" if self.deployment_type == "Cloud" else "key"
            self.record(issue, self.person(author), [("assignee", *_named(before, user_id,
                                                                          "displayName"),
                                                       *_named(after, user_id,
                                                               "displayName"))])
            return copy.deepcopy(issue)

    def add_version(self, project: str, name: str, *, released: bool = False) -> Json:
        """Create a version of `project` (such as 4.2) that issues can be fixed in."""
        with self.server.lock:
            found = self.project_or_404(project)
            self._next_history += 1  # one sequence serves versions too: ids stay unique
            version = shapes.version(self._base(), str(self._next_history), name, found.id,
                                     released=released)
            self._versions.setdefault(found.key, []).append(version)
            return copy.deepcopy(version)

    def versions_of(self, project_key: str) -> list[Json]:
        """The versions of a project (copies), oldest first."""
        return copy.deepcopy(self._versions.get(project_key, []))

    def set_fix_versions(self, key: str, names: Sequence[str], *,
                         author: str = "Engineer") -> Json:
        """Set the issue's fix versions to the versions of its project called `names`."""
        with self.server.lock:
            issue = self.find_issue(key)
            known = {v["name"]: v for v in self._versions.get(
                issue["fields"]["project"]["key"], [])}
            missing = [n for n in names if n not in known]
            if missing:
                raise ValueError(f"no version {missing[0]!r} in the issue's project")
            before = {v["name"]: v for v in issue["fields"]["fixVersions"]}
            issue["fields"]["fixVersions"] = [copy.deepcopy(known[n]) for n in names]
            items: list[Item] = [("Fix Version", v["id"], n, None, None)
                                 for n, v in before.items() if n not in names]
            items += [("Fix Version", None, None, known[n]["id"], n)
                      for n in names if n not in before]
            self.record(issue, self.person(author), items)
            return copy.deepcopy(issue)

    def add_label(self, key: str, label: str, *, author: str = "Engineer") -> Json:
        """Add a label to the issue, as `author`."""
        with self.server.lock:
            issue = self.find_issue(key)
            self.edit_labels(issue, [label], [], self.person(author))
            return copy.deepcopy(issue)

    def add_comment(self, key: str, body: str, *, author: str = "Engineer",
                    visibility: tuple[str, str] | None = None) -> Json:
        """Add a comment by `author` (a human, not the bot); `visibility` restricts it to a
        role or group, as ("role", "Developers"). Return it."""
        with self.server.lock:
            shown = None if visibility is None else {"type": visibility[0],
                                                     "value": visibility[1]}
            return copy.deepcopy(self.comment_on(self.find_issue(key), body,
                                                 self.person(author), visibility=shown))

    def delete_issue(self, key: str) -> None:
        """Delete the issue, as an admin would: its key (any it had) answers 404 from then
        on and search no longer shows it."""
        with self.server.lock:
            issue_id = self.find_issue(key)["id"]
            del self._issues[issue_id]
            self._indexed.pop(issue_id, None)

    def move_issue(self, key: str, project: str) -> Json:
        """Move the issue to `project`, as Jira's Move does: it gets the next key there and
        its old key still finds it (Jira answers it with the new key)."""
        with self.server.lock:
            issue, target = self.find_issue(key), self.project_or_404(project)
            moved = f"{target.key}-{target.next_number}"
            target.next_number += 1
            issue["key"] = moved
            issue["fields"]["project"] = target.ref(self._base())
            self._keys[moved] = issue["id"]
            self.touch(issue)
            return copy.deepcopy(issue)

    def changelog(self, key: str) -> list[Json]:
        """The issue's changelog histories, oldest first (copies)."""
        with self.server.lock:
            return copy.deepcopy(self._changelogs.get(self.find_issue(key)["id"], []))

    # -- rules shared with the route handlers (call under server.lock) ---------------------

    def record(self, issue: Json, author: Json, items: Sequence[Item]) -> None:
        """Write one changelog history of `items` by `author` and touch the issue."""
        if not items:
            return
        self._next_history += 1
        self._changelogs.setdefault(issue["id"], []).append({
            "id": str(self._next_history), "author": author,
            "created": shapes.jira_time(self.clock()),
            "items": [{"field": field, "fieldtype": "jira", "fieldId": _FIELD_IDS[field],
                       "from": was, "fromString": was_text, "to": now, "toString": now_text}
                      for field, was, was_text, now, now_text in items],
        })
        self.touch(issue)

    def set_status(self, issue: Json, name: str, author: Json, *,
                   resolution: str = "Done") -> None:
        """Move `issue` to status `name`; Done sets the resolution, leaving Done clears it."""
        fields = issue["fields"]
        now = shapes.jira_time(self.clock())
        before, before_resolution = fields["status"], fields["resolution"]
        if before["statusCategory"]["key"] != shapes.STATUSES[name][2]:
            fields["statuscategorychangedate"] = now
        fields["status"] = shapes.status(self._base(), name)
        done = name == "Done"
        after_resolution = shapes.resolution(self._base(), resolution) if done else None
        fields["resolution"] = after_resolution
        fields["resolutiondate"] = now if done else None
        items: list[Item] = [("status", before["id"], before["name"], fields["status"]["id"],
                              name)]
        if (before_resolution or {}).get("id") != (after_resolution or {}).get("id"):
            items.append(("resolution", *_named(before_resolution, "id", "name"),
                          *_named(after_resolution, "id", "name")))
        self.record(issue, author, items)

    def comment_on(self, issue: Json, body: Any, author: Json, *,
                   visibility: Json | None = None) -> Json:
        """Append a comment to `issue` and return it; `body` is a string (REST v2) or an ADF
        document (v3), kept as sent."""
        comment_id = self._new_id("comment")
        now = shapes.jira_time(self.clock())
        comment: Json = {
            "self": f"{self._base()}/rest/api/2/issue/{issue['id']}/comment/{comment_id}",
            "id": comment_id, "author": author, "body": body, "updateAuthor": author,
            "created": now, "updated": now, "jsdPublic": True,
        }
        if visibility is not None:
            comment["visibility"] = visibility
        page = issue["fields"]["comment"]
        page["comments"].append(comment)
        page["total"] = page["maxResults"] = len(page["comments"])
        self.touch(issue)
        return comment

    def edit_labels(self, issue: Json, add: Sequence[str], remove: Sequence[str],
                    author: Json) -> None:
        """Add and remove labels (each at most once), writing the change to the changelog."""
        before = list(issue["fields"]["labels"])
        after = [label for label in before if label not in remove]
        after += [label for label in dict.fromkeys(add) if label not in after]
        if after == before:
            return
        issue["fields"]["labels"] = after
        self.record(issue, author, [("labels", None, " ".join(before), None, " ".join(after))])

    def with_changelog(self, issue: Json) -> Json:
        """`issue` with its changelog expanded (expand=changelog), as a PageOfChangelogs."""
        histories = copy.deepcopy(self._changelogs.get(issue["id"], []))
        return {**issue, "changelog": {"startAt": 0, "maxResults": len(histories),
                                       "total": len(histories), "histories": histories}}

    def for_v2(self, issue: Json) -> Json:
        """`issue` as REST v2 shows it: comments written in ADF (on v3) as text."""
        comments = issue["fields"].get("comment", {}).get("comments", [])
        if not any(isinstance(c.get("body"), dict) for c in comments):
            return issue
        shown = copy.deepcopy(issue)
        for comment in shown["fields"]["comment"]["comments"]:
            if isinstance(comment["body"], dict):
                comment["body"] = adf_text(comment["body"])
        return shown
