"""Hostile ticket text through the planner: Jira summaries stay one line, descriptions stay shut.

The wiki-markup description (Jira Data Center) is checked here; the ADF one (Jira Cloud), the
chat messages and the whole corpus of tricks are in tests/hostile.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from afterhours.domain import render, wiki
from afterhours.domain.actions import CreateJiraIssue, LinkJiraIssue, NotifyChannel
from afterhours.domain.model import History, JiraIssueRef, Ticket
from afterhours.domain.planner import plan_actions
from afterhours.domain.render import one_line
from afterhours.policy import load_policy
from factories import make_ticket as base_ticket

POLICY = load_policy(Path(__file__).parents[1] / "fixtures" / "classic_policy.yaml").policy
NIGHT = datetime(2026, 1, 17, 2, tzinfo=UTC)
JIRA_FIELD_LIMIT = 32_767
NOFORMAT = "{noformat}"


def make_ticket(**overrides: Any) -> Ticket:
    """An after-hours bug ticket; override any field."""
    return base_ticket(**{
        "id": 4321, "subject": "App crashes", "description": "It crashes.", "channel": "web",
        "requester_email": "mallory@evil.example", "organization": None, "created_at": NIGHT,
    } | overrides)


def created_issue(ticket: Ticket) -> CreateJiraIssue:
    """The one CreateJiraIssue the planner asks for."""
    result = plan_actions(ticket, POLICY, NIGHT, History())
    creates = [p.action for p in result.actions if isinstance(p.action, CreateJiraIssue)]
    assert len(creates) == 1
    return creates[0]


def wiki_description(ticket: Ticket) -> str:
    """The issue's description as Jira Data Center gets it."""
    return wiki.description(created_issue(ticket).description)


def customer_text(description: str) -> str:
    """What sits between the description's own {noformat} markers."""
    _head, opening, rest = description.partition(NOFORMAT + "\n")
    assert opening, "the description has no opening {noformat}"
    body, closing, _after = rest.partition("\n" + NOFORMAT)
    assert closing, "the description has no closing {noformat}"
    return body


SUBJECTS = [
    pytest.param("crash\nSecond line\r\nthird\tline", id="newlines"),
    pytest.param("crash" + "\u2028next\u2029para\x85nel\x0bvt\x0cff", id="unicode-breaks"),
    pytest.param("crash " + "x" * 100_000, id="100k"),
    pytest.param("crash " + "word " * 200, id="long-words"),
    pytest.param("  crash  \n\n  ", id="padded"),
    pytest.param("h1. crash [click|http://evil.example] {color:red}x{color}", id="wiki"),
    pytest.param("crash " + "é" * 300, id="non-ascii"),
]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_summary_is_one_short_line(subject: str) -> None:
    summary = created_issue(make_ticket(subject=subject)).summary
    assert len(summary.splitlines()) == 1
    assert "\n" not in summary
    assert "\r" not in summary
    assert len(summary) <= 255
    assert summary.endswith("(Zendesk #4321)")
    assert summary.startswith("crash") or summary.startswith("h1. crash")


@pytest.mark.parametrize("subject", SUBJECTS)
def test_other_subject_echoes_are_one_line(subject: str) -> None:
    issue = JiraIssueRef("ENG-9", "https://acme.atlassian.net/browse/ENG-9")
    ticket = make_ticket(subject=subject)
    result = plan_actions(ticket, POLICY, NIGHT, History(jira_issue=issue))
    texts = [
        p.action.title if isinstance(p.action, LinkJiraIssue) else p.action.text
        for p in result.actions
        if isinstance(p.action, LinkJiraIssue | NotifyChannel)
    ]
    assert len(texts) == 2
    for text in texts:
        assert len(text.splitlines()) == 1


@pytest.mark.parametrize(
    "description",
    [
        pytest.param("{noformat}\nh1. Owned\n{noformat}", id="close-and-reopen"),
        pytest.param("text {noformat} [evil|http://x] {noformat}", id="inline"),
        pytest.param("{noformat{noformat}}", id="nested"),
        pytest.param("{{noformat}noformat}", id="nested-outside"),
        pytest.param("{noformat}" * 5000, id="many"),
        pytest.param("a" * 29_995 + "{noformat}" + "b" * 100, id="straddles-cut"),
        pytest.param("{code}x{code} *bold* {panel}p{panel} !image.png!", id="other-macros"),
    ],
)
def test_description_cannot_close_noformat_early(description: str) -> None:
    text = wiki_description(make_ticket(description=description))
    assert text.count(NOFORMAT) == 2
    assert NOFORMAT not in customer_text(text)
    assert len(text) < JIRA_FIELD_LIMIT


@pytest.mark.parametrize(
    ("description", "cut"),
    [
        pytest.param("x" * 100_000, True, id="100k"),
        pytest.param("line\n" * 20_000, True, id="100k-lines"),
        pytest.param("é" * 40_000, True, id="non-ascii"),
        pytest.param("y" * 32_000, False, id="at-limit"),
        pytest.param("short", False, id="short"),
    ],
)
def test_description_is_cut_under_jira_limit(description: str, cut: bool) -> None:
    text = wiki_description(make_ticket(description=description))
    assert len(text) <= JIRA_FIELD_LIMIT
    assert ("cut by afterhours" in text) is cut
    body = customer_text(text)
    if not cut:
        assert body == description.rstrip("\n")
    else:
        assert description.startswith(body)
        assert len(text) > JIRA_FIELD_LIMIT - 200  # cut to fit, not far below
        assert text.endswith("[Zendesk ticket \\#4321|https://acme.zendesk.com/agent/tickets/4321]._")


def test_description_header() -> None:
    text = wiki_description(make_ticket(
        organization="Hooli", organization_url="https://acme.zendesk.com/agent/organizations/5"))
    assert text.splitlines()[:4] == [
        "Filed by afterhours from [Zendesk ticket \\#4321|https://acme.zendesk.com/agent/tickets/4321]",
        "Requester: mallory@evil.example ([Hooli|https://acme.zendesk.com/agent/organizations/5])",
        "Priority: normal; channel: web",
        "Why: keyword 'crashes' in subject; created after hours (Sat 17 Jan 02:00 Europe/London)",
    ]


@pytest.mark.parametrize(
    "subject",
    [
        pytest.param("", id="empty"),
        pytest.param(" \n\t", id="blank"),
    ],
)
def test_blank_subject_gets_placeholder(subject: str) -> None:
    summary = created_issue(make_ticket(subject=subject, description="it crashes")).summary
    assert summary == "(no subject) (Zendesk #4321)"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        pytest.param("a\n b\t\tc ", 10, "a b c", id="collapse"),
        pytest.param("abcdef", 4, "abc…", id="cut-with-ellipsis"),
        pytest.param("abcd", 4, "abcd", id="exact"),
        pytest.param(" \n ", 4, "", id="blank"),
    ],
)
def test_one_line(text: str, limit: int, expected: str) -> None:
    assert one_line(text, limit) == expected


def test_a_subject_cannot_ping_the_channel_or_smuggle_a_link_into_chat() -> None:
    ticket = make_ticket(subject="<!channel> refund <https://evil.example/login|Reset SSO> & more")
    text = render.route_message(ticket, "billing", "Finance")
    assert "<!channel>" not in text
    assert "<https://evil.example" not in text
    assert ("&lt;!channel&gt; refund &lt;https[:]//evil[.]example/login|Reset SSO&gt; &amp; more"
            in text)
