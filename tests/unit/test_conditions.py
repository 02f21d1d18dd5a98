"""Conditions of the policy language on literal tickets: field tests, operators, nesting, reasons.

Every condition is read the way a lead writes it (a mapping, as YAML gives it) and evaluated by
`afterhours.domain.matching.evaluate`; what a policy refuses is checked through `parse_policy`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from afterhours.domain.matching import Verdict, evaluate
from afterhours.domain.model import Ticket
from afterhours.errors import PolicyError
from afterhours.policy import parse_policy
from afterhours.policy.conditions import Condition
from factories import make_ticket as base_ticket

CREATED = datetime(2026, 1, 17, 2, tzinfo=UTC)
WHEN = "Sat 17 Jan 02:00 UTC"
HEAD = "version: 1\nschedule:\n  time_zone: UTC\n  hours: {}\n"  # lines 1-4


def make_ticket(**overrides: Any) -> Ticket:
    """An open ticket from ann@acme.example (Acme), no priority, tags, group or assignee."""
    return base_ticket(**{"subject": "Hello", "description": "Just a question.",
                          "status": "open", "created_at": CREATED} | overrides)


def verdict(condition: dict[str, Any], ticket: Ticket, *, after_hours: bool = True) -> Verdict:
    """`condition`, as YAML would give it, evaluated on `ticket`."""
    return evaluate(Condition.model_validate(condition), ticket, after_hours=after_hours,
                    when=WHEN)


def holds(condition: dict[str, Any], **ticket: Any) -> bool:
    """Whether `condition` holds for a ticket with these fields."""
    return verdict(condition, make_ticket(**ticket)).matched


def problems(text: str) -> list[str]:
    """The located problems `parse_policy` raises for `text`, named p.yaml."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.yaml")
    return caught.value.problems


def route_when(when: str) -> str:
    """A policy with one route whose `when:` is the flow mapping `when` (on line 8)."""
    return HEAD + f"routes:\n  - name: r\n    tags: [x]\n    when: {when}\n"


FIELDS = (("Plan", "Enterprise"), ("Regions", "EU"), ("Regions", "US"), ("Tier", "gold"))

FIELD_TESTS = [
    # subject
    pytest.param({"subject": {"equals": "hello"}}, {}, True, id="subject-equals-any-case"),
    pytest.param({"subject": {"equals": "  Hello "}}, {}, True, id="subject-equals-trimmed"),
    pytest.param({"subject": {"equals": "Hell"}}, {}, False, id="subject-equals-is-whole"),
    pytest.param({"subject": {"in": ["Bye", "HELLO"]}}, {}, True, id="subject-in"),
    pytest.param({"subject": {"contains": "hello"}}, {}, True, id="subject-contains"),
    pytest.param({"subject": {"regex": "^hel+o$"}}, {}, True, id="subject-regex"),
    pytest.param({"subject": {"present": True}}, {}, True, id="subject-present"),
    pytest.param({"subject": {"present": False}}, {"subject": ""}, True, id="subject-absent"),
    pytest.param({"subject": {"present": True}}, {"subject": ""}, False, id="subject-empty"),
    # description
    pytest.param({"description": {"contains": ["down"]}}, {"description": "All DOWN."}, True,
                 id="description-contains"),
    pytest.param({"description": {"contains": ["down"]}}, {"subject": "down"}, False,
                 id="description-not-subject"),
    pytest.param({"description": {"regex": "error \\d+"}}, {"description": "ERROR 502 again"},
                 True, id="description-regex"),
    # text: the subject or the description
    pytest.param({"text": {"contains": ["outage"]}}, {"subject": "Outage"}, True,
                 id="text-in-subject"),
    pytest.param({"text": {"contains": ["outage"]}}, {"description": "an outage"}, True,
                 id="text-in-description"),
    pytest.param({"text": {"contains": ["outage"]}}, {}, False, id="text-in-neither"),
    pytest.param({"text": {"regex": "question"}}, {}, True, id="text-regex"),
    # status
    pytest.param({"status": {"equals": "OPEN"}}, {}, True, id="status-equals"),
    pytest.param({"status": {"in": ["new", "pending"]}}, {}, False, id="status-not-in"),
    pytest.param({"status": {"in": ["new", "open"]}}, {}, True, id="status-in"),
    # priority
    pytest.param({"priority": {"equals": "urgent"}}, {"priority": "urgent"}, True,
                 id="priority-equals"),
    pytest.param({"priority": {"in": ["urgent", "high"]}}, {"priority": "low"}, False,
                 id="priority-not-in"),
    pytest.param({"priority": {"present": False}}, {}, True, id="priority-unset-is-empty"),
    pytest.param({"priority": {"equals": "normal"}}, {}, False, id="priority-unset-equals"),
    # channel
    pytest.param({"channel": {"in": ["web", "Email"]}}, {}, True, id="channel-in"),
    pytest.param({"channel": {"equals": "api"}}, {}, False, id="channel-equals"),
    # requester email and domain
    pytest.param({"requester_email": {"equals": "ANN@acme.example"}}, {}, True,
                 id="email-equals-any-case"),
    pytest.param({"requester_email": {"regex": "@acme\\.example$"}}, {}, True, id="email-regex"),
    pytest.param({"requester_email": {"present": False}}, {"requester_email": None}, True,
                 id="email-absent"),
    pytest.param({"requester_domain": {"equals": "Acme.Example"}}, {}, True,
                 id="domain-equals-any-case"),
    pytest.param({"requester_domain": {"in": ["globex.com"]}}, {}, False, id="domain-not-in"),
    pytest.param({"requester_domain": {"present": False}}, {"requester_email": None}, True,
                 id="domain-absent-without-email"),
    pytest.param({"requester_domain": {"present": False}}, {"requester_email": "nobody"}, True,
                 id="domain-absent-without-at"),
    pytest.param({"requester_domain": {"contains": ["acme"]}}, {}, True, id="domain-contains"),
    # organization
    pytest.param({"organization": {"in": ["Globex", "acme"]}}, {}, True, id="org-in"),
    pytest.param({"organization": {"present": False}}, {"organization": None}, True,
                 id="org-absent"),
    pytest.param({"organization": {"present": True}}, {"organization": None}, False,
                 id="org-required"),
    # group
    pytest.param({"group": {"equals": "tier 2"}}, {"group": "Tier 2"}, True, id="group-equals"),
    pytest.param({"group": {"present": False}}, {}, True, id="group-unset"),
    pytest.param({"group": {"present": False}}, {"group": "Tier 2"}, False, id="group-set"),
    # assignee
    pytest.param({"assignee": {"present": False}}, {}, True, id="unassigned"),
    pytest.param({"assignee": {"present": False}}, {"assignee": "bo@acme.example"}, False,
                 id="assigned"),
    pytest.param({"assignee": {"equals": "Bo@Acme.example"}}, {"assignee": "bo@acme.example"},
                 True, id="assignee-equals-any-case"),
    # tag: any one tag passing is enough
    pytest.param({"tag": {"equals": "vip"}}, {"tags": frozenset({"a", "vip"})}, True,
                 id="tag-equals-one-of"),
    pytest.param({"tag": {"in": ["p1", "p2"]}}, {"tags": frozenset({"p3"})}, False,
                 id="tag-not-in"),
    pytest.param({"tag": {"regex": "^jira_"}}, {"tags": frozenset({"x", "jira_eng_1"})}, True,
                 id="tag-regex"),
    pytest.param({"tag": {"present": False}}, {}, True, id="no-tags"),
    pytest.param({"tag": {"present": True}}, {"tags": frozenset({"x"})}, True, id="some-tag"),
    # custom fields, by title
    pytest.param({"fields": {"Plan": {"equals": "enterprise"}}}, {"custom_fields": FIELDS}, True,
                 id="field-equals"),
    pytest.param({"fields": {"plan": {"equals": "Enterprise"}}}, {"custom_fields": FIELDS}, True,
                 id="field-title-any-case"),
    pytest.param({"fields": {"PLAN": {"in": ["Pro", "Free"]}}}, {"custom_fields": FIELDS}, False,
                 id="field-not-in"),
    pytest.param({"fields": {"Regions": {"equals": "US"}}}, {"custom_fields": FIELDS}, True,
                 id="field-multi-value-second"),
    pytest.param({"fields": {"regions": {"in": ["apac", "eu"]}}}, {"custom_fields": FIELDS}, True,
                 id="field-multi-value-in"),
    pytest.param({"fields": {"Regions": {"equals": "APAC"}}}, {"custom_fields": FIELDS}, False,
                 id="field-multi-value-none"),
    pytest.param({"fields": {"Tier": {"regex": "^(gold|platinum)$"}}}, {"custom_fields": FIELDS},
                 True, id="field-regex"),
    pytest.param({"fields": {"Missing": {"present": False}}}, {"custom_fields": FIELDS}, True,
                 id="field-unset"),
    pytest.param({"fields": {"Tier": {"present": True}}}, {"custom_fields": FIELDS}, True,
                 id="field-set"),
    pytest.param({"fields": {"Tier": {"present": True}}}, {}, False, id="field-no-fields"),
    pytest.param({"fields": {"Plan": {"equals": "Enterprise"}, "Tier": {"equals": "silver"}}},
                 {"custom_fields": FIELDS}, False, id="fields-all-must-hold"),
]


@pytest.mark.parametrize(("condition", "ticket", "expected"), FIELD_TESTS)
def test_field_tests(condition: dict[str, Any], ticket: dict[str, Any], expected: bool) -> None:
    assert holds(condition, **ticket) is expected


@pytest.mark.parametrize(
    ("words", "text", "expected"),
    [
        pytest.param(["down"], "The site is down", True, id="word"),
        pytest.param(["down"], "Cannot download the report", False, id="not-download"),
        pytest.param(["down"], "A breakdown of costs", False, id="not-breakdown"),
        pytest.param(["down"], "DOWN since 2am", True, id="any-case"),
        pytest.param(["Down"], "is it down?", True, id="keyword-case"),
        pytest.param(["down"], "(down)", True, id="punctuation-bounds"),
        pytest.param(["down"], "down-time", True, id="hyphen-bounds"),
        pytest.param(["data loss"], "we saw data\n   LOSS", True, id="phrase-any-white-space"),
        pytest.param(["data loss"], "data-loss", False, id="phrase-needs-space"),
        pytest.param(["data loss"], "metadata lossy", False, id="phrase-whole-words"),
        pytest.param(["c++"], "our C++ build fails", True, id="symbols-literal"),
        pytest.param(["a.b"], "axb", False, id="dot-is-not-a-wildcard"),
        pytest.param(["outage", "down"], "partial outage", True, id="any-word"),
        pytest.param(["café"], "Le CAFÉ est fermé", True, id="unicode"),
    ],
)
def test_contains_finds_whole_words(words: list[str], text: str, expected: bool) -> None:
    assert holds({"description": {"contains": words}}, description=text) is expected


def test_contains_takes_a_lone_string() -> None:
    condition = Condition.model_validate({"subject": {"contains": "outage"}})
    assert condition.subject is not None
    assert condition.subject.contains == ["outage"]


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        pytest.param("down", "Site DOWN", True, id="any-case-by-default"),
        pytest.param("(?-i)DOWN", "Site DOWN", True, id="case-sensitive-same-case"),
        pytest.param("(?-i)DOWN", "Site down", False, id="case-sensitive-other-case"),
        pytest.param("(?-i)Down", "site down", False, id="case-sensitive-capital"),
        pytest.param("own", "Site down", True, id="found-anywhere"),
        pytest.param("^down", "Site down", False, id="anchored-start"),
        pytest.param("down$", "Site down", True, id="anchored-end"),
        pytest.param("err(or)?\\s+\\d{3}", "Error   500", True, id="classes"),
        pytest.param("\\bdown\\b", "download", False, id="word-boundary"),
        pytest.param("ÉTÉ", "un été chaud", True, id="unicode-any-case"),
    ],
)
def test_regex(pattern: str, subject: str, expected: bool) -> None:
    assert holds({"subject": {"regex": pattern}}, subject=subject) is expected


def test_catastrophic_pattern_on_hostile_description_returns() -> None:
    # A backtracking engine takes exponential time here; RE2 is linear.
    hostile = "a" * 50_000 + "!"
    assert not holds({"description": {"regex": "(a+)+$"}}, description=hostile)
    assert holds({"description": {"regex": "(a+)+!$"}}, description=hostile)
    assert not holds({"text": {"regex": "(a|aa)*b"}}, description=hostile)


def test_contains_on_hostile_description_returns() -> None:
    hostile = ("data " + " " * 2_000) * 25 + "x" * 10_000
    assert not holds({"description": {"contains": ["data loss", "x y"]}}, description=hostile)


# Reasons: what held and what failed, in words a lead can read.


def test_reasons_for_field_tests() -> None:
    ticket = make_ticket(subject="Major outage", tags=frozenset({"vip"}),
                         custom_fields=(("Plan", "Enterprise"),))
    result = verdict({"subject": {"contains": ["outage"]}, "tag": {"equals": "vip"},
                      "fields": {"plan": {"in": ["enterprise"]}},
                      "organization": {"equals": "Globex"}, "group": {"present": True}}, ticket)
    assert not result.matched
    assert "subject contains 'outage'" in result.held
    assert "tag is 'vip'" in result.held
    assert "field 'plan' is 'Enterprise'" in result.held
    assert "organization is not 'Globex'" in result.failed
    assert "group is empty" in result.failed


def test_reasons_name_the_field_a_text_test_held_in() -> None:
    result = verdict({"text": {"contains": ["outage"]}}, make_ticket(description="An outage"))
    assert result.matched
    (held,) = result.held
    assert "contains 'outage'" in held


@pytest.mark.parametrize(
    ("test", "failed"),
    [
        pytest.param({"equals": "Bye"}, "subject is not 'Bye'", id="equals"),
        pytest.param({"in": ["a", "b"]}, "subject is not one of a, b", id="in"),
        pytest.param({"contains": ["x", "y"]}, "subject contains none of x, y", id="contains"),
        pytest.param({"regex": "^z"}, "subject does not match /^z/", id="regex"),
        pytest.param({"present": False}, "subject has a value", id="present-false"),
    ],
)
def test_reasons_for_failed_tests(test: dict[str, Any], failed: str) -> None:
    result = verdict({"subject": test}, make_ticket())
    assert result.failed == (failed,)
    assert result.held == ()


def test_all_any_not_nest() -> None:
    condition = {
        "all": [
            {"any": [{"subject": {"contains": ["outage"]}}, {"tag": {"equals": "vip"}}]},
            {"not": {"organization": {"in": ["Globex", "Initech"]}}},
        ],
        "status": {"in": ["new", "open"]},
    }
    assert holds(condition, subject="outage")
    assert holds(condition, tags=frozenset({"VIP"}))
    assert not holds(condition)  # neither branch of any
    assert not holds(condition, subject="outage", organization="initech")  # the not fails
    assert not holds(condition, subject="outage", status="pending")


def test_not_of_not_and_any_inside_not() -> None:
    assert holds({"not": {"not": {"subject": {"equals": "hello"}}}})
    assert holds({"not": {"any": [{"tag": {"equals": "x"}}, {"group": {"present": True}}]}})
    assert not holds({"not": {"any": [{"tag": {"equals": "x"}}, {"group": {"present": True}}]}},
                     group="Tier 2")


def test_reasons_for_nesting_are_readable() -> None:
    ticket = make_ticket(tags=frozenset({"vip"}))
    result = verdict({
        "any": [{"subject": {"contains": ["outage"]}}, {"tag": {"equals": "vip"}}],
        "not": {"organization": {"in": ["Globex", "Initech"]}},
    }, ticket)
    assert result.matched
    assert result.held == ("any of: tag is 'vip'",
                           "not: organization is not one of Globex, Initech")

    failed = verdict({"any": [{"subject": {"contains": ["outage"]}},
                              {"tag": {"equals": "p1"}}]}, ticket)
    assert failed.failed == ("none of: subject contains none of outage | tag is not 'p1'",)

    caught = verdict({"not": {"organization": {"equals": "acme"}}}, ticket)
    assert caught.failed == ("not: but organization is 'Acme'",)


def test_all_reports_each_part() -> None:
    result = verdict({"all": [{"subject": {"equals": "hello"}}, {"priority": {"present": True}}]},
                     make_ticket())
    assert result.held == ("subject is 'Hello'",)
    assert result.failed == ("priority is empty",)


def test_every_reason_is_a_non_empty_line() -> None:
    ticket = make_ticket(subject="outage", tags=frozenset({"vip"}))
    result = verdict({
        "keywords": ["outage"], "tags": ["vip"], "organizations": ["Acme"],
        "all": [{"tag": {"present": True}}],
        "any": [{"subject": {"regex": "out"}}],
        "not": {"channel": {"equals": "api"}},
        "after_hours": True,
    }, ticket)
    assert result.matched
    assert len(result.held) == 7
    assert all(reason.strip() and "\n" not in reason for reason in result.held)


def test_empty_condition_matches_every_ticket() -> None:
    assert Condition().is_empty()
    assert Condition.model_validate({}).is_empty()
    assert verdict({}, make_ticket()) == Verdict((), ())


def test_after_hours_is_reported_apart() -> None:
    result = verdict({"after_hours": True, "subject": {"equals": "hello"}}, make_ticket(),
                     after_hours=False)
    assert not result.matched
    assert result.only_hours_failed
    assert result.failed == (f"created in business hours ({WHEN})",)


# What a policy refuses when it is loaded.


@pytest.mark.parametrize(
    ("when", "said"),
    [
        pytest.param("{subject: {equals: a, contains: b}}", "got equals, contains", id="two"),
        pytest.param("{subject: {in: [a], regex: b, present: true}}", "got in, regex, present",
                     id="three"),
        pytest.param("{subject: {}}", "got none", id="none"),
        pytest.param("{fields: {Plan: {}}}", "got none", id="none-in-fields"),
        pytest.param("{not: {tag: {present: true, equals: x}}}", "got equals, present",
                     id="two-nested"),
    ],
)
def test_a_test_takes_exactly_one_operator(when: str, said: str) -> None:
    (found,) = problems(route_when(when))
    assert found.startswith("p.yaml:8:")
    assert "a test takes exactly one of equals, in, contains, regex, present" in found
    assert said in found


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        pytest.param("(a)\\1", "invalid escape sequence", id="back-reference"),
        pytest.param("a(?=b)", "invalid perl operator", id="look-ahead"),
        pytest.param("(?<!a)b", "invalid", id="look-behind"),
        pytest.param("(unclosed", "missing )", id="unbalanced"),
    ],
)
def test_invalid_regex_is_refused_with_re2_in_the_message(pattern: str, reason: str) -> None:
    (found,) = problems(route_when("{subject: {regex: '" + pattern + "'}}"))
    assert found.startswith("p.yaml:8:")
    assert "invalid regex" in found
    assert reason in found
    assert "RE2" in found
    assert found.endswith("(at routes.0.when.subject.regex)")


@pytest.mark.parametrize(
    "when",
    [
        pytest.param("{subject: {contains: []}}", id="empty-contains"),
        pytest.param("{subject: {contains: '  '}}", id="blank-keyword"),
        pytest.param("{subject: {in: []}}", id="empty-in"),
        pytest.param("{subject: {regex: ''}}", id="empty-regex"),
        pytest.param("{subject: {equals: a, nope: b}}", id="unknown-operator"),
        pytest.param("{subjet: {equals: a}}", id="unknown-field"),
    ],
)
def test_malformed_tests_are_refused(when: str) -> None:
    (found,) = problems(route_when(when))
    assert found.startswith("p.yaml:8:")


def test_a_policy_with_every_field_test_loads() -> None:
    policy = parse_policy(route_when(
        "{subject: {equals: a}, description: {contains: b}, text: {regex: c},"
        " status: {in: [new]}, priority: {present: true}, channel: {equals: web},"
        " requester_email: {regex: x}, requester_domain: {equals: y.com},"
        " organization: {in: [Acme]}, group: {present: false}, assignee: {present: false},"
        " tag: {equals: vip}, fields: {Plan: {in: [Pro]}},"
        " all: [{tag: {present: true}}], any: [{tag: {present: true}}],"
        " not: {tag: {equals: spam}}}"
    ))
    (route,) = policy.routes.rules
    assert not route.when.is_empty()
    assert route.when.fields["Plan"].in_ == ["Pro"]
