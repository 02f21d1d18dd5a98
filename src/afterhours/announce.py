"""What a chat message says as it is sent: the Jira issue its plan filed, or that none is.

The planner writes a message before the Jira create of the same plan is tried; by the time
the message goes out (the create goes first) the state knows whether it landed. The message
says what happened: "Jira: ENG-12", "(not yet filed in Jira)" or why filing failed.
"""

from __future__ import annotations

from afterhours.adapters.state import StateStore
from afterhours.domain import render
from afterhours.domain.actions import NotifyChannel


def as_sent(text: str, action: NotifyChannel, state: StateStore) -> str:
    """`text` (the message, its group claim settled) with the outcome of its plan's filing."""
    if action.filing is None:
        return text
    issue = state.history(action.ticket_id).jira_issue
    if issue is not None:
        return render.with_issue(text, issue.key, issue.url)
    entry = state.ledger_entry(action.filing)
    failure = entry[1] if entry is not None and entry[0] == "failed" else None
    return render.without_issue(text, failure)
