"""Customer text made safe to keep, to match and to write: pure string functions.

Every ticket's text comes from outside the company. Three things are done to it:
- `clean_text` when it is read and again whenever afterhours writes it: lone surrogates
  (which no UTF-8 encoder takes) become U+FFFD, control characters go (line breaks become
  "\\n"), and bidirectional controls go (a right-to-left override would reorder what an
  engineer reads in Jira, chat or a terminal);
- `for_matching` before a rule looks at it: NFKC (full-width and other compatibility forms
  read as their plain letters) and zero-width characters removed, so `re\\u200bfund` is the
  word refund;
- `cut` when it must fit a limit: never inside a character cluster (an accent, an emoji
  sequence, a flag), and at a line or word break when one is close.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Bidirectional controls: embeddings, overrides, isolates and the marks (Unicode's Bidi_Control).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")
# Characters that take no space: a rule must see through them (`re\u200bfund`).
ZERO_WIDTH = frozenset("\u00ad\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff")
# Tag characters: invisible, and able to spell a hidden word (U+E0020 to U+E007F).
_TAGS = "\U000e0000-\U000e007f"
LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
# C0 and C1 controls but tab and newline, the bidirectional controls and lone surrogates.
_UNSAFE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f"
    + "".join(sorted(BIDI_CONTROLS))
    + "\ud800-\udfff]"
)
_ZERO_WIDTH = re.compile("[" + "".join(sorted(ZERO_WIDTH)) + _TAGS + "]")
_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"
# How far back `cut` looks for a line or word break before cutting mid-word.
_BREAK_WINDOW = 80


def clean_text(text: str) -> str:
    """`text` safe to store and write: lone surrogates as U+FFFD, line breaks as "\\n",
    and no control characters (tab and newline aside) or bidirectional controls."""
    if text.isascii() and text.isprintable():
        return text  # the common case, at no cost
    text = LINE_BREAKS.sub("\n", text)
    return _UNSAFE.sub(lambda m: REPLACEMENT if _SURROGATE.match(m.group()) else "", text)


@lru_cache(maxsize=32)  # one ticket's texts at a time: a plan reads each many times
def for_matching(text: str) -> str:
    """`text` as the policy's rules read it: clean, NFKC, without zero-width characters."""
    if text.isascii() and text.isprintable():
        return text
    return unicodedata.normalize("NFKC", _ZERO_WIDTH.sub("", clean_text(text)))


def visible(text: str) -> bool:
    """Whether `text` shows anything: not empty once white space and zero-width characters
    are taken out."""
    return bool(_ZERO_WIDTH.sub("", text).strip())


def utf16_len(text: str) -> int:
    """Length as Jira counts it (Java strings: UTF-16 code units, two per emoji)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _joins_previous(char: str) -> bool:
    # Marks, joiners and variation selectors belong to the character before them.
    return (unicodedata.category(char) in ("Mn", "Me", "Mc") or char in "\u200d\u200c"
            or "\ufe00" <= char <= "\ufe0f" or "\U000e0100" <= char <= "\U000e01ef"
            or "\U0001f3fb" <= char <= "\U0001f3ff")  # skin tones


def _is_regional(char: str) -> bool:
    return "\U0001f1e6" <= char <= "\U0001f1ff"


def cluster_boundary(text: str, index: int) -> int:
    """The greatest index <= `index` that does not split a character cluster."""
    index = max(0, min(index, len(text)))
    while 0 < index < len(text) and (_joins_previous(text[index]) or text[index - 1] == "\u200d"):
        index -= 1
    if 0 < index < len(text) and _is_regional(text[index]):
        run = 0  # flags are pairs of regional indicators: never keep half of one
        while index - run - 1 >= 0 and _is_regional(text[index - run - 1]):
            run += 1
        index -= run % 2
    return index


def cut(text: str, limit: int) -> str:
    """The longest clean prefix of `text` of at most `limit` UTF-16 units: whole character
    clusters only, ending at a line or word break when there is one near the end."""
    if utf16_len(text) <= limit:
        return text
    index, units = 0, 0
    for index, char in enumerate(text):  # noqa: B007  (index is used after the loop)
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            break
    index = cluster_boundary(text, index)
    window = text[max(0, index - _BREAK_WINDOW):index]
    for breaks in ("\n", " "):
        found = window.rfind(breaks)
        if found > 0:
            return text[: index - len(window) + found].rstrip()
    return text[:index]


# The schemes that make a link without "//" (followed by something).
_BARE_SCHEME = re.compile(r"(mailto|javascript|vbscript|data|tel|sms|news):(?=\S)",
                          re.IGNORECASE)


def defang_schemes(text: str) -> str:
    """`text` with every "://" written "[:]//" and `mailto:`... as `mailto[:]`: readable,
    and no longer a link to Jira's wiki renderer or a chat tool."""
    return _BARE_SCHEME.sub(r"\1[:]", text.replace("://", "[:]//"))


def one_line(text: str, limit: int) -> str:
    """`text` clean, on one line (runs of white space as one space), trimmed, and cut to
    `limit` characters with "…" when longer."""
    flat = " ".join(clean_text(text).split())
    if len(flat) <= limit:
        return flat
    return flat[: cluster_boundary(flat, limit - 1)].rstrip() + "…"
