"""Rule conditions on literal tickets: keywords, organizations, domains, tags, hours, reasons."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from afterhours.domain.matching import evaluate
from afterhours.domain.model import Ticket
from afterhours.policy.model import Match
from factories import make_ticket as base_ticket

CREATED = datetime(2026, 1, 17, 2, tzinfo=UTC)
WHEN = "Sat 17 Jan 02:00 Europe/London"
GLOBEX = Match(organizations=["Globex"])


def make_ticket(**overrides: Any) -> Ticket:
    """A plain open ticket; override any field."""
    return base_ticket(**{"subject": "Hello", "description": "Just a question.",
                          "created_at": CREATED} | overrides)


def check(match: Match, ticket: Ticket, *, after_hours: bool = True) -> bool:
    """Whether `match` holds for `ticket`."""
    return evaluate(match, ticket, after_hours=after_hours, when=WHEN).matched


@pytest.mark.parametrize(
    ("keywords", "subject", "description", "expected"),
    [
        pytest.param(["down"], "Site is down", "", True, id="word-in-subject"),
        pytest.param(["down"], "Hello", "everything is down.", True, id="word-in-description"),
        pytest.param(["down"], "Cannot download", "the download fails", False, id="not-download"),
        pytest.param(["down"], "Breakdown", "", False, id="not-suffix"),
        pytest.param(["down"], "DOWN again", "", True, id="upper-case"),
        pytest.param(["Outage"], "major outage", "", True, id="keyword-case"),
        pytest.param(["down"], "down!", "", True, id="punctuation-after"),
        pytest.param(["down"], "(down)", "", True, id="in-brackets"),
        pytest.param(["down"], "down_time", "", False, id="underscore-is-word"),
        pytest.param(["data loss"], "we had data   loss", "", True, id="phrase-spaces"),
        pytest.param(["data loss"], "", "data\nloss happened", True, id="phrase-newline"),
        pytest.param(["data loss"], "", "data\r\n\t loss", True, id="phrase-mixed-space"),
        pytest.param(["data loss"], "data", "loss", False, id="phrase-split-across-fields"),
        pytest.param(["data loss"], "database loss", "", False, id="phrase-word-aware"),
        pytest.param(["doesn't work"], "Login doesn't work", "", True, id="apostrophe"),
        pytest.param(["c++"], "the c++ sdk", "", True, id="regex-chars-escaped"),
        pytest.param(["a.b"], "axb", "", False, id="dot-is-literal"),
        pytest.param(["bug", "crash"], "it crashes", "", False, id="no-stemming"),
        pytest.param(["bug", "crash"], "a crash", "", True, id="any-keyword"),
        pytest.param(["café"], "Le CAFÉ est fermé", "", True, id="unicode-case"),
    ],
)
def test_keywords(keywords: list[str], subject: str, description: str, expected: bool) -> None:
    ticket = make_ticket(subject=subject, description=description)
    assert check(Match(keywords=keywords), ticket) is expected


@pytest.mark.parametrize(
    ("match", "overrides", "expected"),
    [
        pytest.param(GLOBEX, {"organization": "globex"}, True, id="org-ci"),
        pytest.param(Match(organizations=["globex"]), {"organization": "GLOBEX"}, True, id="up"),
        pytest.param(Match(organizations=["Globex"]), {"organization": "Acme"}, False, id="org-no"),
        pytest.param(Match(organizations=["Globex"]), {"organization": None}, False, id="org-none"),
        pytest.param(
            Match(organizations=["Globex"]), {"organization": "Globex Ltd"}, False, id="org-exact"
        ),
        pytest.param(
            Match(requester_domains=["acme.example"]), {}, True, id="domain"
        ),
        pytest.param(
            Match(requester_domains=["@ACME.example"]), {}, True, id="domain-at-and-case"
        ),
        pytest.param(
            Match(requester_domains=["acme.example"]),
            {"requester_email": "bob@mail.acme.example"},
            False,
            id="domain-not-subdomain",
        ),
        pytest.param(
            Match(requester_domains=["acme.example"]),
            {"requester_email": None},
            False,
            id="domain-no-email",
        ),
        pytest.param(Match(tags=["vip"]), {"tags": frozenset({"vip", "x"})}, True, id="tag"),
        pytest.param(Match(tags=["vip"]), {"tags": frozenset({"x"})}, False, id="tag-missing"),
        pytest.param(Match(channels=["email", "web"]), {}, True, id="channel"),
        pytest.param(Match(channels=["web"]), {}, False, id="channel-other"),
        pytest.param(Match(priorities=["urgent"]), {"priority": "urgent"}, True, id="priority"),
        pytest.param(Match(priorities=["urgent"]), {"priority": "high"}, False, id="priority-no"),
        pytest.param(Match(priorities=["urgent"]), {"priority": None}, False, id="priority-none"),
        pytest.param(Match(), {}, True, id="empty-match-holds"),
        pytest.param(
            Match(keywords=["down"], organizations=["Acme"]),
            {"subject": "down"},
            True,
            id="all-hold",
        ),
        pytest.param(
            Match(keywords=["down"], organizations=["Globex"]),
            {"subject": "down"},
            False,
            id="one-fails",
        ),
    ],
)
def test_conditions(match: Match, overrides: dict[str, Any], expected: bool) -> None:
    assert check(match, make_ticket(**overrides)) is expected


@pytest.mark.parametrize(
    ("wanted", "after_hours", "expected"),
    [
        pytest.param(True, True, True, id="after-wanted-after"),
        pytest.param(True, False, False, id="after-wanted-business"),
        pytest.param(False, False, True, id="business-wanted-business"),
        pytest.param(False, True, False, id="business-wanted-after"),
        pytest.param(None, True, True, id="any-after"),
        pytest.param(None, False, True, id="any-business"),
    ],
)
def test_after_hours(wanted: bool | None, after_hours: bool, expected: bool) -> None:
    verdict = evaluate(Match(after_hours=wanted), make_ticket(), after_hours=after_hours, when=WHEN)
    assert verdict.matched is expected
    assert verdict.hours_failed is (not expected)


@pytest.mark.parametrize(
    ("match", "overrides", "after_hours", "held", "failed"),
    [
        pytest.param(
            Match(keywords=["outage", "down"], after_hours=True),
            {"subject": "Hello", "description": "site DOWN"},
            True,
            ("keyword 'down' in description", f"created after hours ({WHEN})"),
            (),
            id="keyword-and-hours",
        ),
        pytest.param(
            Match(organizations=["globex"], tags=["vip", "beta"]),
            {"organization": "Globex", "tags": frozenset({"vip", "beta"})},
            True,
            ("organization 'Globex'", "tag 'beta'"),
            (),
            id="org-and-first-sorted-tag",
        ),
        pytest.param(
            Match(requester_domains=["acme.example"], channels=["web"]),
            {},
            True,
            ("requester domain 'acme.example'",),
            ("channel 'email' not in web",),
            id="domain-held-channel-failed",
        ),
        pytest.param(
            Match(keywords=["outage", "down"], priorities=["urgent"], after_hours=True),
            {"priority": "low"},
            False,
            (),
            (
                "none of the keywords outage, down",
                "priority 'low' not in urgent",
                f"created in business hours ({WHEN})",
            ),
            id="all-failed",
        ),
    ],
)
def test_reasons(
    match: Match,
    overrides: dict[str, Any],
    after_hours: bool,
    held: tuple[str, ...],
    failed: tuple[str, ...],
) -> None:
    verdict = evaluate(match, make_ticket(**overrides), after_hours=after_hours, when=WHEN)
    assert (verdict.held, verdict.failed) == (held, failed)


@pytest.mark.parametrize(
    ("match", "subject", "after_hours", "expected"),
    [
        pytest.param(Match(keywords=["down"], after_hours=True), "down", False, True, id="only"),
        pytest.param(Match(after_hours=True), "x", False, True, id="only-hours-condition"),
        pytest.param(Match(keywords=["down"], after_hours=True), "up", False, False, id="more"),
        pytest.param(Match(keywords=["down"], after_hours=True), "up", True, False, id="not-hrs"),
        pytest.param(Match(keywords=["down"], after_hours=True), "down", True, False, id="held"),
        pytest.param(Match(keywords=["down"]), "up", False, False, id="no-hours-condition"),
    ],
)
def test_only_hours_failed(match: Match, subject: str, after_hours: bool, expected: bool) -> None:
    verdict = evaluate(match, make_ticket(subject=subject), after_hours=after_hours, when=WHEN)
    assert verdict.only_hours_failed is expected


@pytest.mark.parametrize("blank", [pytest.param("", id="empty"), pytest.param("  ", id="spaces")])
def test_a_blank_keyword_is_refused(blank: str) -> None:
    # Blank, it would compile to a pattern matching between any two non-word characters.
    with pytest.raises(ValidationError, match="String should match pattern"):
        Match(keywords=[blank])
