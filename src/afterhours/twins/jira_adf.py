"""How the Jira twin checks a description: ADF on REST v3, a string on v2, and the length.

Jira Cloud's v3 takes rich text only as an Atlassian Document Format document and refuses a
string; v2 (and Data Center) takes only a string. Both refuse a description over 32,767
characters (for ADF, of the document's JSON). The ADF checks follow the structure documented
at developer.atlassian.com/cloud/jira/platform/apis/document/structure/: which nodes may hold
which, text nodes never empty, marks with their required attributes. It is a subset of the
schema (tables, panels and media are known by name, their insides are not checked).
"""

from __future__ import annotations

import json
from typing import Any

LIMIT = 32_767
NOT_ADF = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
NOT_STRING = "Operation value must be a string"
TOO_LONG = "The entered text is too long. It exceeds the allowed limit of 32,767 characters."

_INLINE = frozenset({"text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status",
                     "mediaInline", "placeholder"})
_BLOCK = frozenset({"paragraph", "heading", "blockquote", "bulletList", "orderedList",
                    "codeBlock", "rule", "panel", "table", "mediaSingle", "mediaGroup",
                    "expand", "blockCard", "embedCard", "nestedExpand", "taskList",
                    "decisionList", "layoutSection"})
# What each node may hold; None: not checked further (known, but beyond what the twin models).
_CHILDREN: dict[str, frozenset[str] | None] = {
    "doc": _BLOCK,
    "paragraph": _INLINE,
    "heading": _INLINE,
    "blockquote": frozenset({"paragraph", "orderedList", "bulletList", "codeBlock",
                             "mediaGroup", "mediaSingle"}),
    "bulletList": frozenset({"listItem"}),
    "orderedList": frozenset({"listItem"}),
    "listItem": frozenset({"paragraph", "bulletList", "orderedList", "codeBlock",
                           "mediaSingle"}),
    "codeBlock": frozenset({"text"}),
    "rule": frozenset(),
    "hardBreak": frozenset(),
}
_MARKS = frozenset({"strong", "em", "code", "strike", "underline", "link", "textColor",
                    "subsup", "backgroundColor"})


class _InvalidError(ValueError):
    pass


def description_error(value: Any, *, api: str) -> str | None:
    """What Jira says about a description sent on REST `api` ("2" or "3"); None when fine."""
    if value is None:
        return None
    if api == "2":
        if not isinstance(value, str):
            return NOT_STRING
        return TOO_LONG if _units(value) > LIMIT else None
    try:
        _node(value, "doc", top=True)
    except _InvalidError:
        return NOT_ADF
    return TOO_LONG if _units(json.dumps(value, separators=(",", ":"),
                                         ensure_ascii=False)) > LIMIT else None


def _units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _node(node: Any, expected: str | None, *, top: bool = False) -> None:
    if not isinstance(node, dict) or not isinstance(node.get("type"), str):
        raise _InvalidError
    kind = node["type"]
    if expected is not None and kind != expected:
        raise _InvalidError
    if top and node.get("version") != 1:
        raise _InvalidError
    if kind == "text":
        _text(node)
        return
    if kind not in _CHILDREN and kind not in _BLOCK | _INLINE:
        raise _InvalidError
    allowed = _CHILDREN.get(kind)
    content = node.get("content", [])
    if not isinstance(content, list):
        raise _InvalidError
    attrs = node.get("attrs", {})
    if kind == "heading" and not (isinstance(attrs, dict) and attrs.get("level") in range(1, 7)):
        raise _InvalidError
    if allowed is None:
        return
    for child in content:
        if not isinstance(child, dict) or child.get("type") not in allowed:
            raise _InvalidError
        if kind == "codeBlock" and child.get("marks"):
            raise _InvalidError  # code is plain text
        _node(child, None)


def _text(node: dict[str, Any]) -> None:
    if not isinstance(node.get("text"), str) or not node["text"]:
        raise _InvalidError
    marks = node.get("marks", [])
    if not isinstance(marks, list):
        raise _InvalidError
    for mark in marks:
        if not isinstance(mark, dict) or mark.get("type") not in _MARKS:
            raise _InvalidError
        if mark["type"] == "link":
            attrs = mark.get("attrs")
            if not isinstance(attrs, dict) or not isinstance(attrs.get("href"), str):
                raise _InvalidError
