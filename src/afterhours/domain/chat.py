"""Chat messages (Slack's mrkdwn and Block Kit) that customer text cannot ping, link or forge.

Ticket text goes through `escape` before it is put in a message:
- `&`, `<` and `>` are escaped, so `<!channel>`, `<!here>`, `<@U123>`, `<#C123>`,
  `<!subteam^...>` and `<https://evil|a real-looking link>` are shown as typed;
- `@channel`, `@here`, `@everyone` and any `@name` or `#channel` at the start of a word get
  the full-width at and number signs (U+FF20, U+FF03), which no chat tool reads as a
  mention (an email's @ stays);
- URLs and domain names are defanged (`https[:]//evil[.]example`), so they are not linked.
The only links in a message are afterhours' own (the ticket, the Jira issue), written as
`<url>`. The Block Kit blocks carry the same text with `verbatim` set, so Slack does not
link or mention anything in them on its own either.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from afterhours.domain.issue_text import own_link
from afterhours.domain.text import clean_text, cluster_boundary, defang_schemes

FULLWIDTH_AT = "\uff20"  # reads as @, and no chat tool takes it for a mention
FULLWIDTH_HASH = "\uff03"
# Slack refuses a section's text over 3,000 characters.
SECTION_LIMIT = 3_000
_MENTION = re.compile(r"(?<![\w@.+-])@(?=\w)")  # @name at a word's start; not in an email
# The broadcasts ping a whole channel wherever they stand, even glued to a word ("x.@HERE").
_BROADCAST = re.compile(r"@(?=(?:here|channel|everyone)(?!\w))", re.IGNORECASE)
_CHANNEL = re.compile(r"(?<![\w&#])#(?=[^\W\d_])")  # #general; #4411 is a number, left be
# A host name: labels of letters or digits (any script) and a last label that starts with a
# letter, as chat tools link it ("evil.example", "bücher.de").
_DOMAIN = re.compile(r"(?<![\w-])((?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+)"
                     r"([^\W\d_][\w-]{0,61}[^\W_])(?![\w-])")
_WWW = re.compile(r"\bwww\.", re.IGNORECASE)
# A link or an entity cut in two at the end of a shortened text.
_TORN = re.compile(r"(&[a-z]*|<[^>]*)$")


@lru_cache(maxsize=256)  # a plan writes the same subject and link into several messages
def escape(text: str) -> str:
    """Ticket text as mrkdwn that shows as written: no ping, mention, link or markup of
    Slack's angle-bracket syntax (see the module's docstring). `text` is cleaned first."""
    text = clean_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _BROADCAST.sub(FULLWIDTH_AT, _MENTION.sub(FULLWIDTH_AT, text))
    text = _CHANNEL.sub(FULLWIDTH_HASH, text)
    text = _WWW.sub("www[.]", defang_schemes(text))
    return _DOMAIN.sub(lambda m: m.group().replace(".", "[.]"), text)


@lru_cache(maxsize=256)
def link(url: str, label: str | None = None) -> str:
    """One of afterhours' own URLs as a mrkdwn link (`<url>` or `<url|label>`); a URL that
    cannot be linked safely is shown escaped instead."""
    href = own_link(url)
    if href is None:
        return escape(url)
    return f"<{href}|{escape(label)}>" if label else f"<{href}>"


ACKNOWLEDGE = "afterhours.acknowledge"  # the buttons' action ids: what a click says
TAKE = "afterhours.take"


def buttons(key: str) -> dict[str, Any]:
    """The Acknowledge and Take it buttons of an escalation message whose ledger key is
    `key` (each button's value: the click names the message, so its ticket)."""
    return {"type": "actions", "block_id": "afterhours.acknowledgement", "elements": [
        {"type": "button", "action_id": ACKNOWLEDGE, "style": "primary", "value": key,
         "text": {"type": "plain_text", "text": "Acknowledge"}},
        {"type": "button", "action_id": TAKE, "value": key,
         "text": {"type": "plain_text", "text": "Take it"}}]}


def blocks(text: str) -> list[dict[str, Any]]:
    """Block Kit blocks for a message whose mrkdwn is `text` (already escaped): the same
    words, `verbatim` so that Slack links and mentions nothing of its own accord."""
    if len(text) > SECTION_LIMIT:
        text = _TORN.sub("", text[: cluster_boundary(text, SECTION_LIMIT - 1)]) + "…"
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}},
        {"type": "context", "elements": [
            {"type": "mrkdwn", "text": "sent by afterhours", "verbatim": True}]},
    ]
