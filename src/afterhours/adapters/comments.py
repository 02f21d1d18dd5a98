"""Finding text afterhours wrote in a ticket's comments, as Zendesk stores them.

Zendesk does not keep a comment byte for byte: line endings become "\\n", surrounding
whitespace goes, runs of blank lines may be folded, and `plain_body` is rendered from HTML
(entities and all). A reply is recognised by its own text (see afterhours.reconcile), so
texts are compared with whitespace folded and Unicode composed.
"""

from __future__ import annotations

import html
import unicodedata


def fold(text: str) -> str:
    """`text` with every run of whitespace one space, trimmed, in Unicode NFC."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def contains_text(stored: str | None, wanted: str) -> bool:
    """Whether `stored` (a comment body, maybe HTML-escaped) contains `wanted`, whitespace aside."""
    needle = fold(wanted)
    if not needle or not stored:
        # An empty marker would match every comment: nothing can be said to have landed.
        return False
    return needle in fold(stored) or needle in fold(html.unescape(stored))
