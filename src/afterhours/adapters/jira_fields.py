"""The fields that file a Jira issue, as the server takes them: Cloud's REST v3 with the
description in ADF, Data Center's v2 with it in wiki markup (jira.py, jira_bulk.py)."""

from __future__ import annotations

from typing import Any

from afterhours.domain import adf, wiki
from afterhours.domain.actions import CreateJiraIssue


def issue_fields(action: CreateJiraIssue, *, cloud: bool) -> tuple[str, dict[str, Any]]:
    """The REST version and the fields that file `action`: on Jira Cloud v3 with the
    description in ADF (customer text only in text nodes), elsewhere (Data Center, which
    has no v3) v2 with it in wiki markup, escaped in full."""
    fields: dict[str, Any] = {
        "project": {"key": action.project},
        "issuetype": {"name": action.issue_type},
        "summary": action.summary,
        "description": adf.document(action.description) if cloud
        else wiki.description(action.description),
        "labels": list(action.labels),
    }
    # Absent rather than null or empty: Jira then applies the project's defaults.
    if action.priority is not None:
        fields["priority"] = {"name": action.priority}
    if action.components:
        fields["components"] = [{"name": name} for name in action.components]
    return ("3" if cloud else "2"), fields
