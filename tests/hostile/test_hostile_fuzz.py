"""Fuzzing (hypothesis): the Zendesk ticket parser takes any JSON without a crash, and both
renderers (Jira: ADF and wiki markup; chat: mrkdwn and Block Kit) keep their promises for
any text, the hostile corpus mixed in."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from afterhours.adapters.notify import payload
from afterhours.adapters.zendesk_lookup import TicketField
from afterhours.adapters.zendesk_parse import UNREADABLE, read_ticket
from afterhours.domain import adf, chat, render, wiki
from afterhours.domain.model import Ticket
from afterhours.domain.text import clean_text, for_matching, one_line, utf16_len
from afterhours.twins.jira_adf import description_error
from factories import make_ticket
from hostile.checks import (
    SAMPLES,
    adf_problems,
    block_problems,
    chat_problems,
    unsafe,
    wiki_problems,
)

TICKET_URL = "https://acme.zendesk.com/agent/tickets/7"
ORG_URL = "https://acme.zendesk.com/agent/organizations/3"
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Any code point, surrogates and controls included, with the corpus's tricks spliced in.
ANY_CHAR = st.characters(codec=None, exclude_categories=())
TRICKS = st.sampled_from([*SAMPLES.values(), "{noformat}", "<!channel>", "@here", "\u202e",
                          "\u200b", "\ud800", "\x00"])
TEXT = st.lists(st.one_of(st.text(ANY_CHAR, max_size=40), TRICKS), max_size=12).map("".join)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
TIME = st.one_of(st.just("2026-11-20T18:00:00Z"), st.just("2026-11-20T18:00:00+01:00"), JSON)
FIELDS = {1: TicketField("Plan", True, {"gold": "Gold"}), 2: TicketField("Region", True)}


@st.composite
def raw_tickets(draw: st.DrawFn) -> dict[str, Any]:
    """A ticket as Zendesk might send it, and as it must never be sent: any field missing,
    null, of the wrong type, or full of hostile text; custom fields known and unknown."""
    raw: dict[str, Any] = {}
    values: dict[str, st.SearchStrategy[Any]] = {
        "id": st.one_of(st.integers(min_value=1, max_value=10**9), JSON),
        "created_at": TIME, "updated_at": TIME, "subject": st.one_of(TEXT, JSON),
        "description": st.one_of(TEXT, JSON), "status": st.one_of(TEXT, JSON),
        "priority": JSON, "tags": JSON, "via": JSON, "requester_id": JSON,
        "organization_id": JSON, "group_id": JSON, "assignee_id": JSON,
        "custom_fields": st.one_of(JSON, st.lists(st.fixed_dictionaries(
            {"id": st.one_of(st.sampled_from([1, 2, 99]), JSON), "value": JSON}), max_size=4)),
        "unknown_field": JSON,
    }
    for name, strategy in values.items():
        if draw(st.booleans()) or name in ("id", "created_at", "updated_at"):
            raw[name] = draw(strategy)
    return raw


@FUZZ
@given(raw=raw_tickets(), metric=JSON)
def test_the_parser_reads_any_ticket_or_says_why_not(raw: dict[str, Any], metric: Any) -> None:
    try:
        ticket = read_ticket(
            raw, web_url=lambda i: f"https://acme.zendesk.com/agent/tickets/{i}",
            emails={1: "ann@example.com"}, orgs={3: "Acme\u202e"}, groups={}, fields=FIELDS,
            metrics={raw["id"]: metric} if isinstance(raw.get("id"), int) and isinstance(
                metric, dict) else {},
            organization_url=lambda i: f"https://acme.zendesk.com/agent/organizations/{i}")
    except UNREADABLE:
        return  # malformed: the service quarantines it with the reason
    texts = [ticket.subject, ticket.description, ticket.status, ticket.channel,
             ticket.priority or "", ticket.organization or "", *ticket.tags,
             *(v for pair in ticket.custom_fields for v in pair)]
    assert [u for text in texts for u in unsafe(text)] == []
    assert ticket.id > 0


def ticket_with(text: str) -> Ticket:
    return make_ticket(subject=text, description=text, organization=text or None,
                       organization_url=ORG_URL, priority=text or None)


@FUZZ
@given(text=TEXT)
def test_adf_keeps_every_promise_for_any_text(text: str) -> None:
    doc = adf.document(render.jira_description(ticket_with(text), text))
    assert adf_problems(doc, {TICKET_URL, ORG_URL}) == []
    assert description_error(doc, api="3") is None  # the twin takes it, as Jira would


@FUZZ
@given(text=TEXT)
def test_wiki_keeps_every_promise_for_any_text(text: str) -> None:
    description = wiki.description(render.jira_description(ticket_with(text), text))
    assert wiki_problems(description, {TICKET_URL, ORG_URL}) == []
    assert description_error(description, api="2") is None


@FUZZ
@given(text=TEXT)
def test_the_summary_is_one_line_never_empty_within_255(text: str) -> None:
    summary = render.jira_summary(ticket_with(text))
    assert "\n" not in summary
    assert summary == summary.strip()
    assert utf16_len(summary) <= 255
    assert summary.endswith(" (Zendesk #7)")
    assert unsafe(summary) == []
    assert summary.removesuffix(" (Zendesk #7)").strip()


@FUZZ
@given(text=TEXT, rule=st.sampled_from(["billing", "bug"]))
def test_chat_messages_keep_every_promise_for_any_text(text: str, rule: str) -> None:
    ticket = ticket_with(text)
    for message in (render.route_message(ticket, rule, "Finance"),
                    render.escalation_message(ticket, "p1", 2, "no reply", 1),
                    render.unclaimed_message(render.route_message(ticket, rule, ""), "Finance",
                                             text)):
        assert chat_problems(message, {TICKET_URL}) == []
        assert block_problems(payload(message), {TICKET_URL}) == []


@FUZZ
@given(text=TEXT)
def test_escaping_is_total_and_cleaning_is_idempotent(text: str) -> None:
    escaped = chat.escape(text)
    assert "<" not in escaped
    assert ">" not in escaped
    assert clean_text(clean_text(text)) == clean_text(text)
    assert for_matching(for_matching(text)) == for_matching(text)
    assert len(one_line(text, 50)) <= 50
