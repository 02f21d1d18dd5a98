"""Every sample of the hostile corpus, and all of them at once, through the pure core: the Jira
summary and description (ADF for Cloud, wiki markup for Data Center) and the chat messages
afterhours writes from a ticket, each checked for what it must not contain."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from afterhours.adapters.notify import payload
from afterhours.domain import adf, chat, render, wiki
from afterhours.domain.actions import AddTags, CreateJiraIssue, NotifyChannel
from afterhours.domain.issue_text import DESCRIPTION_LIMIT
from afterhours.domain.model import History, Ticket
from afterhours.domain.planner import plan_actions
from afterhours.domain.text import BIDI_CONTROLS, clean_text, for_matching, utf16_len
from afterhours.policy import load_policy, parse_policy
from factories import make_ticket
from hostile.checks import (
    EVERY_TRICK,
    SAMPLES,
    adf_problems,
    adf_text,
    block_problems,
    chat_problems,
    strings,
    unsafe,
    wiki_problems,
)

SHIPPED = load_policy(Path(__file__).parents[2] / "config" / "policy.yaml").policy
# One route that files, notifies and pages for any crash, whatever else the text says.
POLICY = parse_policy("""\
version: 1
schedule: {time_zone: UTC, hours: {}}
channels: {engineering: {}, pager: {}}
oncall:
  web:
    time_zone: UTC
    handover: mon 09:00
    starts: 2026-01-05
    channel: pager
    rotation: [{primary: alice@acme.example, backup: bob@acme.example}]
routes:
  - {name: bug, when: {keywords: [crashes]}, group: Engineering, notify: engineering,
     page: web, jira: {project: ENG, issue_type: Bug}}
""")
NIGHT = datetime(2026, 1, 17, 2, tzinfo=UTC)  # Saturday, 02:00 in London
TICKET_URL = "https://acme.zendesk.com/agent/tickets/4321"
ORG_URL = "https://acme.zendesk.com/agent/organizations/99"
OURS = {TICKET_URL, ORG_URL}
CASES = [pytest.param(text, id=name) for name, text in SAMPLES.items()]
CASES.append(pytest.param(EVERY_TRICK, id="every-trick"))


def hostile(text: str, **more: Any) -> Ticket:
    """An after-hours bug ticket (it files in Jira) whose subject and body are `text`."""
    return make_ticket(**{
        "id": 4321, "subject": f"App crashes {text}", "description": f"It crashes. {text}",
        "channel": "web", "requester_email": "mallory@evil.example", "created_at": NIGHT,
        "organization": f"Evil {text[:40]}", "organization_url": ORG_URL,
    } | more)


def filed(ticket: Ticket) -> CreateJiraIssue:
    """The issue the planner files for `ticket`."""
    plan = plan_actions(ticket, POLICY, NIGHT, History())
    (create,) = [p.action for p in plan.actions if isinstance(p.action, CreateJiraIssue)]
    return create


def messages(ticket: Ticket) -> list[str]:
    """Every chat message (route, page) the planner writes for `ticket`."""
    plan = plan_actions(ticket, POLICY, NIGHT, History())
    sent = [p.action for p in plan.actions if isinstance(p.action, NotifyChannel)]
    assert len(sent) == 2  # the route's message and the page
    texts = [text for n in sent for text in (n.text, n.claim.plain_text if n.claim else n.text)]
    texts += [render.escalation_message(ticket, "stale", 1, "no reply yet")]
    # A page ends with whom it pages: the policy's words, which are not the ticket's.
    return [text.split(" On call for web: ")[0] for text in texts]


@pytest.mark.parametrize("text", CASES)
def test_the_adf_description_holds_the_customers_words_in_text_nodes_only(text: str) -> None:
    create = filed(hostile(text))
    doc = adf.document(create.description)
    assert adf_problems(doc, OURS) == []
    quoted = next(n for n in doc["content"] if n["type"] == "blockquote")
    # Nothing is lost but what cleaning removes: the words are all there, as text.
    assert "".join(adf_text(quoted).split()) == "".join(
        clean_text(f"It crashes. {text}").split())


@pytest.mark.parametrize("text", CASES)
def test_the_wiki_description_keeps_the_customers_words_inside_noformat(text: str) -> None:
    description = wiki.description(filed(hostile(text)).description)
    assert wiki_problems(description, OURS) == []
    assert description.splitlines()[0] == (
        f"Filed by afterhours from [Zendesk ticket \\#4321|{TICKET_URL}]")


@pytest.mark.parametrize("text", CASES)
def test_the_summary_is_one_clean_trimmed_line_within_255(text: str) -> None:
    summary = filed(hostile(text)).summary
    assert "\n" not in summary
    assert summary == summary.strip()
    assert unsafe(summary) == []
    assert utf16_len(summary) <= 255
    assert summary.startswith("App crashes")
    assert summary.endswith(" (Zendesk #4321)")


@pytest.mark.parametrize("text", CASES)
def test_chat_messages_cannot_ping_mention_or_link(text: str) -> None:
    for message in messages(hostile(text)):
        assert chat_problems(message, {TICKET_URL}) == []
        assert block_problems(payload(message), {TICKET_URL}) == []


@pytest.mark.parametrize("subject", ["", "   ", "\u200b\u200b", "\u202e", "\n\t\u3000"])
def test_a_subject_of_nothing_visible_reads_no_subject(subject: str) -> None:
    assert render.jira_summary(hostile("", subject=subject)) == "(no subject) (Zendesk #4321)"


def test_a_long_subject_is_cut_cleanly_in_javas_characters() -> None:
    summary = render.jira_summary(hostile("", subject="\U0001F1EC\U0001F1E7" * 200))
    assert utf16_len(summary) <= 255
    head = summary.removesuffix("… (Zendesk #4321)")
    assert head == "\U0001F1EC\U0001F1E7" * (len(head) // 2)  # whole flags only


@pytest.mark.parametrize("body", [
    pytest.param("x" * 1_000_000, id="1MB"),
    pytest.param("line\n" * 200_000, id="1MB-lines"),
    pytest.param("\n" * 1_000_000, id="1MB-newlines"),
    pytest.param("é" * 500_000, id="1MB-utf8"),
    pytest.param("\U0001F600" * 250_000, id="1MB-emoji"),
    pytest.param(EVERY_TRICK * 300, id="every-trick-x300"),
])
def test_a_huge_body_is_cut_with_a_note_and_the_link_to_the_ticket(body: str) -> None:
    description = filed(hostile("", description=body)).description
    doc, text = adf.document(description), wiki.description(description)
    assert adf_problems(doc, OURS) == []
    assert wiki_problems(text, OURS) == []
    assert utf16_len(text) <= DESCRIPTION_LIMIT
    if body.strip():
        note = doc["content"][-1]["content"]
        assert note[0]["text"].startswith("[…] cut by afterhours:")
        assert note[1]["marks"][-1] == {"type": "link", "attrs": {"href": TICKET_URL}}
        assert "cut by afterhours" in text.splitlines()[-1]
        assert text.endswith(f"[Zendesk ticket \\#4321|{TICKET_URL}]._")


def test_our_links_are_the_only_links() -> None:
    doc = adf.document(filed(hostile("")).description)
    linked = {(n["text"], m["attrs"]["href"]) for p in doc["content"] for n in p.get("content", [])
              for m in n.get("marks", []) if m["type"] == "link"}
    assert linked == {("Zendesk ticket #4321", TICKET_URL), ("Evil", ORG_URL)}


def test_a_link_afterhours_cannot_vouch_for_is_text() -> None:
    ticket = hostile("", organization_url="javascript:alert(1)", web_url="https://x|y]")
    doc = adf.document(filed(ticket).description)
    assert adf_problems(doc, set()) == []
    assert wiki_problems(wiki.description(filed(ticket).description), set()) == []


def test_a_zero_width_refund_is_routed_to_billing() -> None:
    ticket = make_ticket(subject="re\u200bfund please", description="", created_at=NIGHT)
    plan = plan_actions(ticket, SHIPPED, NIGHT, History())
    assert AddTags(ticket.id, ("billing",)) in [p.action for p in plan.actions]


@pytest.mark.parametrize("word", ["re\u200bfund", "\uff52\uff45\uff46\uff55\uff4e\uff44",
                                  "RE\u00adFUND", "re\u2060fund", "\u202erefund\u202c"])
def test_rules_read_text_normalised(word: str) -> None:
    assert for_matching(word).casefold() == "refund"


def test_bidirectional_controls_are_in_nothing_afterhours_writes() -> None:
    ticket = hostile(SAMPLES["rtl-override"])
    plan = plan_actions(ticket, POLICY, NIGHT, History())
    written = [s for p in plan.actions for s in strings(
        adf.document(p.action.description) if isinstance(p.action, CreateJiraIssue)
        else [getattr(p.action, k, "") for k in ("text", "body", "title", "summary")])]
    written.append(wiki.description(filed(ticket).description))
    assert written
    assert [s for s in written if BIDI_CONTROLS & set(s)] == []


@pytest.mark.parametrize(("text", "escaped"), [
    ("<!channel> & <@U1>", "&lt;!channel&gt; &amp; &lt;\uff20U1&gt;"),
    ("@here @channel @everyone", "\uff20here \uff20channel \uff20everyone"),
    ("mail bob@initech.com", "mail bob@initech[.]com"),
    ("see #general, not #4411", "see \uff03general, not #4411"),
    ("https://evil.example/x", "https[:]//evil[.]example/x"),
    ("<https://evil.example|Reset>", "&lt;https[:]//evil[.]example|Reset&gt;"),
    ("v1.2 e.g. 3.14", "v1.2 e.g. 3.14"),
])
def test_chat_escape(text: str, escaped: str) -> None:
    assert chat.escape(text) == escaped


@pytest.mark.parametrize("text", [".@HERE", "x.@channel", "a+@Everyone!", "-@here"])
def test_a_broadcast_glued_to_a_word_still_pings_nobody(text: str) -> None:
    # Found by the fuzzer: the mention rule spares "@" after a dot (emails), and a broadcast
    # must not slip through that way.
    escaped = chat.escape(text)
    assert "@" not in escaped
    assert chat.FULLWIDTH_AT in escaped
