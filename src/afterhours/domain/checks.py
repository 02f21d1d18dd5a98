"""The checks a condition makes, each twice: with its words (what held or failed, as a
lead reads it) and without them (whether it holds), with how costly the test is to ask.

domain.matching puts a condition's checks together (`Prepared`); the nested ones (all, any,
not) are made there, as they prepare conditions of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter

from afterhours.domain.field_tests import FIELDS, FieldTest, Phrases, email_domain
from afterhours.domain.model import Ticket
from afterhours.domain.text import for_matching
from afterhours.policy.conditions import Condition

# One check of a condition: it adds what held or failed, in words, to the two lists, and
# says whether it held.
Check = Callable[[Ticket, list[str], list[str], bool, object], bool]
# The same check without its words: whether it holds (given whether the ticket came after
# hours, which nested conditions may ask).
Holds = Callable[[Ticket, bool], bool]


def record(held: list[str], failed: list[str], ok: bool, yes: str, no: str) -> bool:
    """Add `yes` to what held or `no` to what failed, as `ok` says; `ok`."""
    (held if ok else failed).append(yes if ok else no)
    return ok


def record_found(held: list[str], failed: list[str], said: str | None, no: str) -> bool:
    """Add `said` to what held, or `no` to what failed when `said` is None."""
    # `said` is None when the check failed (its words are then never written).
    if said is None:
        failed.append(no)
        return False
    held.append(said)
    return True


# A check, the same check without words, and its cost (the screen asks cheap ones first).
Part = tuple[Check, Holds, int]
SET, FIELD, TEXT, NESTED = range(4)


def field_checks(match: Condition) -> list[Part]:
    """The tests on fields (subject:, status:, ...) and on custom fields (fields:)."""
    checks = [_field_check(name, read, FieldTest(test)) for name, read in FIELDS.items()
              if (test := getattr(match, name)) is not None]
    return checks + [_custom_field_check(title, FieldTest(test))
                     for title, test in match.fields.items()]


def _field_check(name: str, read: Callable[[Ticket], Sequence[str]], test: FieldTest) -> Part:
    no = f"{name} {test.wanted}"

    def check(ticket: Ticket, held: list[str], failed: list[str], _: bool, __: object) -> bool:
        passed = test.run(read(ticket))
        return record_found(held, failed, None if passed is None else f"{name} {passed}", no)

    def holds(ticket: Ticket, _: bool) -> bool:
        return test.run(read(ticket)) is not None

    def either(ticket: Ticket, held: list[str], failed: list[str], _: bool, __: object) -> bool:
        # Say which of the two held, as a lead would look for it there.
        where, passed = "subject", _run_text(test, ticket.subject)
        if passed is None:
            where, passed = "description", _run_text(test, ticket.description)
        return record_found(held, failed, None if passed is None else f"{where} {passed}", no)

    def either_holds(ticket: Ticket, _: bool) -> bool:
        return (_run_text(test, ticket.subject) is not None
                or _run_text(test, ticket.description) is not None)

    phrases = test.contains if test.only_contains else None

    def either_contains(ticket: Ticket, _: bool) -> bool:
        # The common text test (contains:), straight to its phrases: an empty text has none.
        assert phrases is not None  # noqa: S101
        subject, description = ticket.subject, ticket.description
        if subject and phrases.first_in(for_matching(subject)) is not None:
            return True
        return bool(description) and phrases.first_in(for_matching(description)) is not None

    if name == "text":
        return either, either_holds if phrases is None else either_contains, TEXT
    return check, holds, TEXT if name in ("subject", "description") else FIELD


def _run_text(test: FieldTest, text: str) -> str | None:
    return test.run_one(text) if text else test.run(())


def _custom_field_check(title: str, test: FieldTest) -> Part:
    no = f"field {title!r} {test.wanted}"

    def check(ticket: Ticket, held: list[str], failed: list[str], _: bool, __: object) -> bool:
        passed = test.run(ticket.field_values(title))
        return record_found(held, failed, None if passed is None else f"field {title!r} {passed}",
                       no)

    def holds(ticket: Ticket, _: bool) -> bool:
        return test.run(ticket.field_values(title)) is not None

    return check, holds, FIELD


def shorthands(match: Condition) -> list[Part]:
    """The keywords:, organizations: and requester_domains: lists."""
    checks: list[Part] = []
    if match.keywords:
        phrases = Phrases(match.keywords)
        none = f"none of the keywords {', '.join(match.keywords)}"

        def keywords(ticket: Ticket, held: list[str], failed: list[str], _: bool,
                     __: object) -> bool:
            fields = [(where, text) for where, text in (
                ("subject", for_matching(ticket.subject)),
                ("description", for_matching(ticket.description))) if phrases.may_be_in(text)]
            hit = next(((kw, where) for kw, pattern in phrases.patterns
                        for where, text in fields if pattern.search(text)), None)
            return record_found(held, failed, f"keyword {hit[0]!r} in {hit[1]}" if hit else None,
                           none)

        def keywords_hold(ticket: Ticket, _: bool) -> bool:
            return (phrases.first_in(for_matching(ticket.subject)) is not None
                    or phrases.first_in(for_matching(ticket.description)) is not None)

        checks.append((keywords, keywords_hold, TEXT))
    if match.organizations:
        organizations = {for_matching(o).casefold() for o in match.organizations}
        listed = ", ".join(match.organizations)

        def in_organizations(ticket: Ticket, _: bool = False) -> bool:
            org = ticket.organization
            return org is not None and for_matching(org).casefold() in organizations

        def organization(ticket: Ticket, held: list[str], failed: list[str], _: bool,
                         __: object) -> bool:
            org = ticket.organization
            return record(held, failed, in_organizations(ticket), f"organization {org!r}",
                         f"organization {org!r} not in {listed}" if org is not None
                         else f"no organization (wanted {listed})")

        checks.append((organization, in_organizations, SET))
    if match.requester_domains:
        domains = {d.casefold().lstrip("@") for d in match.requester_domains}
        listed_domains = ", ".join(match.requester_domains)

        def domain_of(ticket: Ticket) -> str:
            return for_matching(email_domain(ticket.requester_email) or "").casefold()

        def requester_domain(ticket: Ticket, held: list[str], failed: list[str], _: bool,
                             __: object) -> bool:
            domain = domain_of(ticket)
            said = f"requester domain {domain!r}"
            return record(held, failed, domain in domains, said,
                         f"{said} not in {listed_domains}")

        def in_domains(ticket: Ticket, _: bool) -> bool:
            return domain_of(ticket) in domains

        checks.append((requester_domain, in_domains, SET))
    return checks


def set_shorthands(match: Condition) -> list[Part]:
    """The tags:, channels: and priorities: lists."""
    checks: list[Part] = []
    if match.tags:
        tags = frozenset(match.tags)
        none = f"none of the tags {', '.join(match.tags)}"

        def tag(ticket: Ticket, held: list[str], failed: list[str], _: bool, __: object) -> bool:
            common = sorted(ticket.tags & tags)
            return record_found(held, failed, f"tag {common[0]!r}" if common else None, none)

        def any_tag(ticket: Ticket, _: bool) -> bool:
            return not tags.isdisjoint(ticket.tags)

        checks.append((tag, any_tag, SET))
    # attrgetter reads the field without a Python frame: asked of every ladder of every plan.
    if match.channels:
        checks.append(_one_of("channel", attrgetter("channel"), match.channels))
    if match.priorities:
        checks.append(_one_of("priority", attrgetter("priority"), match.priorities))
    return checks


def _one_of(field: str, read: Callable[[Ticket], str | None], wanted: Sequence[str]) -> Part:
    allowed = frozenset(wanted)
    listed = ", ".join(wanted)

    def check(ticket: Ticket, held: list[str], failed: list[str], _: bool, __: object) -> bool:
        value = read(ticket)
        if value in allowed:
            held.append(f"{field} {value!r}")
            return True
        failed.append(f"{field} {value!r} not in {listed}" if value is not None
                      else f"no {field} (wanted {listed})")
        return False

    def holds(ticket: Ticket, _: bool) -> bool:
        return read(ticket) in allowed

    return check, holds, SET
