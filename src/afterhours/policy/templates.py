"""Placeholders in reply templates and notes: which exist, and finding them in a text.

Templates are filled by plain substitution of `{name}`, never by `str.format`, so a template
cannot reach into objects, and a customer's subject put into a reply is never re-read as one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

PLACEHOLDERS: dict[str, str] = {
    "ticket_id": "the ticket's number",
    "subject": "the ticket's subject",
    "requester_email": "the requester's email",
    "priority": "the ticket's priority (as set by this policy's priority rules)",
    "reply_by": "when the first reply is promised, by reply_promises:, in the schedule's zone",
    "next_open": "when the desk next opens, in the schedule's zone",
    "known_issue": "the status of the known issue the ticket is about (known_issues:), or "
    "nothing",
    "articles": "help-center articles found for the ticket (articles:), a title and link a "
    "line, or nothing",
}
# What only a sync-back reply (policy sync_back: on_resolution: reply:) can say: the issue.
SYNC_PLACEHOLDERS: dict[str, str] = {
    "issue_key": "the Jira issue's key, such as ENG-42",
    "issue_url": "where the Jira issue is opened",
    "fix_version": "the versions the issue is fixed in, such as 4.2",
    "resolution": "the issue's resolution, such as Done",
}
# What a comment afterhours leaves in Jira (sync_back: in_jira:) may say.
JIRA_COMMENT_PLACEHOLDERS: dict[str, str] = {
    "ticket_id": "the ticket's number", "issue_key": "the Jira issue's key"}
PLACEHOLDER_HELP = ", ".join("{" + name + "}" for name in PLACEHOLDERS) + "; {{ and }} for braces."
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def placeholders(text: str) -> list[str]:
    """The placeholder names used in `text`, in order; `{{` and `}}` are literal braces."""
    return [m.group(1) for m in _PLACEHOLDER.finditer(text) if m.group(1) is not None]


def unknown_placeholders(text: str, known: Mapping[str, str] = PLACEHOLDERS) -> list[str]:
    """The placeholders in `text` that afterhours cannot fill (from `known`)."""
    return [name for name in placeholders(text) if name not in known]


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each `{name}` replaced by `values[name]` (unknown ones left as written)."""
    # A loop, not a comprehension (a comprehension is a call of its own): filled per plan.
    filled: list[str] = []
    for part, name in _parts(text):
        filled.append(part if name is None else values.get(name, part))
    return "".join(filled)


@lru_cache(maxsize=256)  # a policy has a few templates and notes, filled on every plan
def _parts(text: str) -> tuple[tuple[str, str | None], ...]:
    """`text` cut into literal parts (name None) and placeholders (as written, and name)."""
    parts: list[tuple[str, str | None]] = []
    at = 0
    for match in _PLACEHOLDER.finditer(text):
        parts.append((text[at:match.start()], None))
        whole = match.group(0)
        parts.append((whole[0], None) if whole in ("{{", "}}") else (whole, match.group(1)))
        at = match.end()
    parts.append((text[at:], None))
    return tuple(parts)
