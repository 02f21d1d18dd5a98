"""The planner's shortcuts say what the long way says: a condition screened without words
(`Prepared.judged`) against its words (`Prepared.words`), and phrases screened by their
first words against their patterns."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from afterhours.domain.field_tests import Phrases, word_pattern
from afterhours.domain.matching import Prepared, prepare
from afterhours.domain.model import Ticket
from afterhours.policy import load_policy
from afterhours.policy.conditions import Condition
from factories import make_ticket

ROOT = Path(__file__).parents[2]
POLICIES = [load_policy(ROOT / "tests" / "fixtures" / name).policy
            for name in ("classic_policy.yaml", "every_construct_policy.yaml")]
POLICIES.append(load_policy(ROOT / "config" / "policy.yaml").policy)
WORDS = ["outage", "down", "download", "Refund", "re\u200bfund", "crash", "crashes",
         "\uff32\uff25\uff26\uff35\uff2e\uff24",  # REFUND in full-width letters
         "data loss", "data\nloss", "[sev-1]", "doesn't work", "bug", "é", "x_y",
         "security", "charge", "(down)", "DOWN!", "hello", "  "]


def _conditions(condition: Condition) -> list[Condition]:
    # A condition and every condition nested in it.
    nested = [*condition.all_, *condition.any_,
              *([condition.not_] if condition.not_ is not None else [])]
    return [condition, *(c for part in nested for c in _conditions(part))]


CONDITIONS = [c for policy in POLICIES
              for block in (policy.priority_rules.rules, policy.routes.rules,
                            policy.escalations.rules)
              for rule in block for c in _conditions(rule.when)]


@st.composite
def tickets(draw: st.DrawFn) -> Ticket:
    """A ticket whose fields the policies' conditions look at, drawn from their words."""
    def text() -> str:
        return " ".join(draw(st.lists(st.sampled_from(WORDS), max_size=4)))

    return make_ticket(
        subject=text(), description=text(),
        status=draw(st.sampled_from(["new", "open", "pending", "solved"])),
        priority=draw(st.sampled_from([None, "urgent", "high", "normal", "low"])),
        tags=frozenset(draw(st.lists(st.sampled_from(["p1", "vip", "taken", "x"]),
                                     max_size=3))),
        organization=draw(st.sampled_from([None, "Acme", "Globex", "globex"])),
        requester_email=draw(st.sampled_from([None, "ann@acme.example", "bob@globex.com"])),
        group=draw(st.sampled_from([None, "Finance"])),
        assignee=draw(st.sampled_from([None, "lead@acme.example"])),
        channel=draw(st.sampled_from(["email", "web"])),
        custom_fields=tuple(draw(st.lists(st.tuples(st.sampled_from(["Plan", "plan"]),
                                                    st.sampled_from(["enterprise", "free"])),
                                          max_size=2))),
    )


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CONDITIONS), tickets(), st.booleans())
def test_the_screen_says_no_exactly_when_a_check_other_than_the_hours_fails(
        condition: Condition, ticket: Ticket, after_hours: bool) -> None:
    prepared: Prepared = prepare(condition)
    held, failed, hours_failed = prepared.words(ticket, after_hours, "Fri 20 Nov 21:00")
    screened = prepared.judged(ticket, after_hours, "Fri 20 Nov 21:00")
    other_failed = len(failed) > (1 if hours_failed else 0)
    if other_failed:
        assert screened is None
    else:
        assert screened == (held, failed, hours_failed)
    assert prepared.holds(ticket, after_hours) is (not failed)


PHRASES = [["outage", "down", "data loss"], ["refund", "charge"], ["doesn't work", "bug"],
           ["c++", "x_y"], ["café", "down"]]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PHRASES), st.lists(st.sampled_from([*WORDS, "c++", "cafe", "Café"]),
                                          max_size=6))
def test_phrases_found_by_their_first_words_are_those_their_patterns_find(
        phrases: list[str], words: list[str]) -> None:
    text = " ".join(words)
    expected = next((p for p in phrases if word_pattern(p).search(text)), None)
    found = Phrases(phrases)
    assert found.first_in(text) == expected
    assert found.first_in(text) == expected  # asked again: the same text, remembered
