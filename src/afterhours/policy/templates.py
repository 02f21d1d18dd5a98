"""Placeholders in reply templates and notes: which exist, and finding them in a text.

Templates are filled by plain substitution of `{name}`, never by `str.format`, so a template
cannot reach into objects, and a customer's subject put into a reply is never re-read as one.
"""

from __future__ import annotations

import re

PLACEHOLDERS: dict[str, str] = {
    "ticket_id": "the ticket's number",
    "subject": "the ticket's subject",
    "requester_email": "the requester's email",
    "priority": "the ticket's priority (as set by this policy's priority rules)",
    "reply_by": "when the first reply is promised, by reply_promises:, in the schedule's zone",
    "next_open": "when the desk next opens, in the schedule's zone",
}
PLACEHOLDER_HELP = ", ".join("{" + name + "}" for name in PLACEHOLDERS) + "; {{ and }} for braces."
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def placeholders(text: str) -> list[str]:
    """The placeholder names used in `text`, in order; `{{` and `}}` are literal braces."""
    return [m.group(1) for m in _PLACEHOLDER.finditer(text) if m.group(1) is not None]


def unknown_placeholders(text: str) -> list[str]:
    """The placeholders in `text` that afterhours cannot fill."""
    return [name for name in placeholders(text) if name not in PLACEHOLDERS]


def fill(text: str, values: dict[str, str]) -> str:
    """`text` with each `{name}` replaced by `values[name]` (unknown ones left as written)."""

    def one(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole in ("{{", "}}"):
            return whole[0]
        return values.get(match.group(1), whole)

    return _PLACEHOLDER.sub(one, text)
