"""Jira Cloud descriptions in Atlassian Document Format (ADF), built as plain data.

ADF is inert by construction where wiki markup is not: the customer's words go only into
text nodes without marks, so nothing they write can become a mention, an image, a card, a
macro or a link. The only links are afterhours' own (the ticket, the requester's
organization), as link marks on text afterhours wrote. The document's JSON is kept within
Jira's 32,767 characters and `MAX_NODES` nodes, the customer's words cut to fit, with a
note and the link to the full ticket.
"""

from __future__ import annotations

import json
import re
from typing import Any

from afterhours.domain.issue_text import (
    DESCRIPTION_LIMIT,
    NO_DESCRIPTION,
    IssueBody,
    cut_note,
    fit,
    own_link,
)
from afterhours.domain.text import utf16_len

Node = dict[str, Any]
# A generous bound on a description's nodes: Jira renders a document of thousands of hard
# breaks slowly, and a 1 MB body of empty lines would otherwise be one node per line.
MAX_NODES = 2_000
# The node and mark types afterhours ever writes (tests check documents against it).
NODE_TYPES = frozenset({"doc", "paragraph", "text", "hardBreak", "blockquote"})
MARK_TYPES = frozenset({"link", "strong", "em"})
_BLANK_LINES = re.compile(r"\n[ \t]*\n")


def text(value: str, *marks: Node) -> Node:
    """A text node (never empty: ADF refuses one)."""
    node: Node = {"type": "text", "text": value or " "}
    if marks:
        node["marks"] = list(marks)
    return node


def link(url: str) -> Node:
    """A link mark to `url`: only ever one of afterhours' own URLs."""
    return {"type": "link", "attrs": {"href": url}}


EM: Node = {"type": "em"}
STRONG: Node = {"type": "strong"}


def linked(label: str, url: str | None, *marks: Node) -> Node:
    """`label` linked to `url` when afterhours may link there (see own_link), else plain."""
    href = own_link(url)
    return text(label, *marks, link(href)) if href else text(label, *marks)


def paragraph(*inline: Node) -> Node:
    """A paragraph of inline nodes."""
    return {"type": "paragraph", "content": list(inline)}


def quoted(words: str) -> list[Node]:
    """The customer's words as paragraphs of text nodes: a blank line starts a paragraph, a
    line break is a hardBreak. No marks, no links: text only."""
    paragraphs = []
    for block in _BLANK_LINES.split(words):
        inline: list[Node] = []
        for line in block.split("\n"):
            if not line.strip():
                continue
            if inline:
                inline.append({"type": "hardBreak"})
            inline.append(text(line))
        if inline:
            paragraphs.append(paragraph(*inline))
    return paragraphs


def document(body: IssueBody) -> Node:
    """The issue's description as an ADF document that Jira Cloud accepts."""
    return fit(lambda shown: _document(body, shown), fits, body.text)


def fits(doc: Node) -> bool:
    """Whether Jira takes `doc`: its JSON within the description limit, its nodes within
    MAX_NODES. The JSON is measured as spaced out as json.dumps writes it, which is longer
    than what Jira stores."""
    return (utf16_len(json.dumps(doc, ensure_ascii=False)) <= DESCRIPTION_LIMIT
            and count_nodes(doc) <= MAX_NODES)


def count_nodes(node: Node) -> int:
    """How many nodes `node` holds, itself included."""
    return 1 + sum(count_nodes(child) for child in node.get("content", ()))


def _document(body: IssueBody, shown: str) -> Node:
    ticket = f"Zendesk ticket #{body.ticket_id}"
    requester = [text(f"Requester: {body.requester}")]
    if body.organization:
        requester += [text(" ("), linked(body.organization, body.organization_url), text(")")]
    content = [
        paragraph(text("Filed by afterhours from "), linked(ticket, body.ticket_url)),
        paragraph(*requester),
        paragraph(text(f"Priority: {body.priority}; channel: {body.channel}")),
        paragraph(text(f"Why: {body.reason}")),
    ]
    words = quoted(shown)
    if words:
        content.append(paragraph(text("The customer wrote:", STRONG)))
        content.append({"type": "blockquote", "content": words})
    else:
        content.append(paragraph(text(NO_DESCRIPTION, EM)))
    note = cut_note(body, shown)
    if note is not None:
        content.append(paragraph(text(note, EM), linked(ticket, body.ticket_url, EM),
                                 text(".", EM)))
    return {"version": 1, "type": "doc", "content": content}
