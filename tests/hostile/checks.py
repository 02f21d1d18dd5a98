"""The hostile corpus (corpus.json) and what afterhours' writings must never contain.

Each sample tries one trick; `EVERY_TRICK` is all of them in one body. The checks return the
problems they find (an empty list is a pass), so a failing test says what got through.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from afterhours.domain import adf
from afterhours.domain.text import BIDI_CONTROLS

CORPUS = json.loads((Path(__file__).parent / "corpus.json").read_text(encoding="ascii"))
SAMPLES: dict[str, str] = {sample["name"]: sample["text"] for sample in CORPUS}
EVERY_TRICK = "\n\n".join(SAMPLES.values())
# What no text afterhours writes may hold: C0/C1 controls (tab and newline aside),
# bidirectional controls, lone surrogates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + "".join(sorted(BIDI_CONTROLS))
                     + "\ud800-\udfff]")
_PINGS = re.compile(r"(?<![\w@])@(channel|here|everyone)\b|<!|<@|<#", re.IGNORECASE)
_SLACK_LINK = re.compile(r"<([^<>]*)>")
_LINKISH = re.compile(r"://|\bwww\.|\b(mailto|javascript):|[^\W_]\.[^\W\d_][^\W_]",
                      re.IGNORECASE)


def unsafe(text: str) -> list[str]:
    """The characters of `text` nothing afterhours writes may hold, as U+XXXX."""
    return [f"U+{ord(c):04X}" for c in _UNSAFE.findall(text)]


def strings(value: Any) -> list[str]:
    """Every string (keys too) in a JSON-like value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings(k), *strings(v))]
    if isinstance(value, list | tuple):
        return [s for item in value for s in strings(item)]
    return []


def adf_text(node: dict[str, Any]) -> str:
    """The text of every text node under `node`, in order."""
    if node.get("type") == "text":
        return str(node["text"])
    return "".join(adf_text(child) for child in node.get("content", []))


def adf_problems(doc: dict[str, Any], links: set[str]) -> list[str]:
    """What is wrong with an ADF description: node or mark types afterhours never writes
    (mention, media, card...), a link anywhere but `links`, marks on the customer's words,
    unsafe characters, a document Jira would refuse for its size."""
    problems: list[str] = []

    def walk(node: dict[str, Any], quoted: bool) -> None:
        kind = node.get("type")
        if kind not in adf.NODE_TYPES:
            problems.append(f"node {kind}")
        if set(node) - {"type", "content", "text", "marks", "version", "attrs"}:
            problems.append(f"keys {sorted(node)}")
        for mark in node.get("marks", []):
            if mark["type"] not in adf.MARK_TYPES:
                problems.append(f"mark {mark['type']}")
            if quoted:
                problems.append(f"a mark on the customer's words: {mark}")
            if mark["type"] == "link" and mark["attrs"]["href"] not in links:
                problems.append(f"link to {mark['attrs']['href']}")
        for child in node.get("content", []):
            walk(child, quoted or kind == "blockquote")

    walk(doc, False)
    problems += [f"unsafe {u}" for s in strings(doc) for u in unsafe(s)]
    if not adf.fits(doc):
        problems.append("too big for Jira")
    return problems


def wiki_problems(text: str, links: set[str]) -> list[str]:
    """What is wrong with a wiki description: a {noformat} block that closes early or
    twice, markup outside it (links but ours, mentions, images, macros), unsafe
    characters, more than Jira's 32,767 characters."""
    problems = [f"unsafe {u}" for u in unsafe(text)]
    # What Jira reads as the block's start or end: an unescaped "{noformat" in any case.
    opened = [m.start() for m in re.finditer(r"(?<!\\)\{noformat", text, re.IGNORECASE)]
    outside = text
    if opened:
        if len(opened) != 2 or text.count("{noformat}") != 2:
            problems.append(f"{len(opened)} noformat markers")
        outside = text[: opened[0]] + text[opened[-1]:]
    unescaped = re.sub(r"\\.", "_", outside)  # an escaped character is markup no more
    for target in re.findall(r"\[[^\]]*\|([^\]]*)\]", unescaped):
        if target not in links:
            problems.append(f"link to {target}")
    for trick in ("[~", "!http", "{color", "{html", "{code", "://"):
        without_links = re.sub(r"\[[^\]]*\|[^\]]*\]", "", unescaped)
        if trick in without_links:
            problems.append(f"{trick} outside the block")
    if len(text.encode("utf-16-le", "surrogatepass")) // 2 > 32_767:
        problems.append("over 32,767 characters")
    return problems


def chat_problems(text: str, links: set[str], mentions: frozenset[str] = frozenset()) -> list[str]:
    """What is wrong with a chat message: a ping or mention but the policy's `mentions`
    (`<!subteam^S...>`), an angle-bracket link but to one of `links`, anything a chat tool
    would link, an unescaped &, unsafe characters."""
    problems = [f"unsafe {u}" for u in unsafe(text)]
    for target in _SLACK_LINK.findall(text):
        if target.split("|")[0] not in links and f"<{target}>" not in mentions:
            problems.append(f"<{target}>")
    rest = _SLACK_LINK.sub("", text)
    problems += [f"ping {m.group()}" for m in _PINGS.finditer(rest)]
    problems += [f"linkable {m.group()!r}" for m in _LINKISH.finditer(rest)]
    problems += [f"bare & at {m.start()}" for m in re.finditer(r"&(?!amp;|lt;|gt;)", text)]
    return problems


def block_problems(payload: dict[str, Any], links: set[str],
                   mentions: frozenset[str] = frozenset()) -> list[str]:
    """What is wrong with a webhook payload's Block Kit blocks: text other than the
    message's, text Slack would link or mention in on its own (not verbatim)."""
    problems = []
    for block in payload["blocks"]:
        texts = [block["text"]] if "text" in block else block.get("elements", [])
        for text in texts:
            if not text.get("verbatim"):
                problems.append(f"{block['type']} text is not verbatim")
            problems += chat_problems(text["text"], links, mentions)
    if payload["blocks"][0]["text"]["text"] != payload["text"]:
        problems.append("the section's words are not the message's")
    return problems
