"""Whether a ticket meets a rule's conditions, with the reasons a lead can read.

Both sides are read as `for_matching` gives them (NFKC, no zero-width characters): a ticket
saying `re\\u200bfund`, or refund in full-width letters, contains the keyword refund.

A condition is prepared once (which of its tests are set, their words normalised, their
patterns compiled: see domain.field_tests) into the list of checks it makes, in the order
their words are given; the planner then asks `screen`, which stops at the first check that
fails, and `explain` asks `evaluate`, which says what each one did.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from afterhours.domain.field_tests import FIELDS, FieldTest, Phrases, email_domain
from afterhours.domain.frozen import quick_init
from afterhours.domain.memo import ByIdentity
from afterhours.domain.model import Ticket
from afterhours.domain.text import for_matching
from afterhours.policy.conditions import Condition, Test


@quick_init
@dataclass(frozen=True)
class Verdict:
    """The outcome of matching: what held and what did not, in words."""

    held: tuple[str, ...]
    failed: tuple[str, ...]
    hours_failed: bool = False

    @property
    def matched(self) -> bool:
        """Every condition held."""
        return not self.failed

    @property
    def only_hours_failed(self) -> bool:
        """Everything held but the after-hours condition: the rule was left alone on purpose."""
        return self.hours_failed and len(self.failed) == 1


def run_test(test: Test, values: Sequence[str]) -> str | None:
    """What in `values` passed `test`, as words; None when nothing did."""
    return FieldTest(test).run(values)


def evaluate(match: Condition, ticket: Ticket, *, after_hours: bool, when: str) -> Verdict:
    """Check every condition of `match` on `ticket`; `when` describes its creation time."""
    verdict = _prepared(match).verdict(ticket, after_hours, when, every=True)
    assert verdict is not None  # noqa: S101  (every=True checks every condition)
    return verdict


def screen(match: Condition, ticket: Ticket, *, after_hours: bool, when: str) -> Verdict | None:
    """`evaluate` when its answer matters to a plan: `match` holds, or fails on the hours
    alone; None as soon as any other condition fails."""
    return prepare(match).screen(ticket, after_hours, when)


def prepare(match: Condition) -> Prepared:
    """`match` as the checks it makes, worked out once per condition."""
    return _prepared(match)


# One check of a condition: it adds what held or failed, in words, to the two lists, and
# says whether it held.
Check = Callable[[Ticket, list[str], list[str], bool, object], bool]
# A verdict's words as lists: what held, what failed, and whether the hours failed.
Words = tuple[list[str], list[str], bool]
# The same check without its words: whether it holds (given whether the ticket came after
# hours, which nested conditions may ask).
Holds = Callable[[Ticket, bool], bool]


class Prepared:
    """A condition as the checks it makes."""

    def __init__(self, match: Condition) -> None:
        parts = [*_shorthands(match), *_set_shorthands(match), *_field_checks(match),
                 *_nested(match)]
        self.checks: list[Check] = [check for check, _, _ in parts]
        # Most rules fail on some check: the screen asks them without words, cheapest first
        # (all must hold, so their order changes nothing), and only a rule they all pass is
        # judged in words.
        self.tests: list[Holds] = [holds for _, holds, _ in sorted(parts, key=lambda p: p[2])]
        self.after_hours = match.after_hours

    def holds(self, ticket: Ticket, after_hours: bool) -> bool:
        """Whether every check holds, the after-hours one included (`verdict(...).matched`)."""
        if self.after_hours is not None and after_hours != self.after_hours:
            return False
        for holds in self.tests:  # noqa: SIM110  (a loop: all() costs a generator)
            if not holds(ticket, after_hours):
                return False
        return True

    def verdict(self, ticket: Ticket, after_hours: bool, when: object, *,
                every: bool) -> Verdict | None:
        """The verdict on `ticket` created `when`; None, unless `every`, once a check fails."""
        said = self.words(ticket, after_hours, when) if every else self.judged(
            ticket, after_hours, when)
        return None if said is None else Verdict(tuple(said[0]), tuple(said[1]), said[2])

    def judged(self, ticket: Ticket, after_hours: bool, when: object) -> Words | None:
        """`words` as the planner asks: None as soon as a check other than the hours fails
        (screened without words), the words of every check when none does."""
        for holds in self.tests:
            if not holds(ticket, after_hours):
                return None
        return self.words(ticket, after_hours, when)

    def words(self, ticket: Ticket, after_hours: bool, when: object) -> Words:
        """What held and what failed of every check, in words, and whether the after-hours
        check failed (a `Verdict`'s fields, in lists)."""
        held: list[str] = []
        failed: list[str] = []
        for check in self.checks:
            check(ticket, held, failed, after_hours, when)
        hours_failed = self.after_hours is not None and after_hours != self.after_hours
        if self.after_hours is not None:
            said = f"created {'after' if after_hours else 'in business'} hours ({when})"
            (failed if hours_failed else held).append(said)
        return held, failed, hours_failed

    def screen(self, ticket: Ticket, after_hours: bool, when: object) -> Verdict | None:
        """See `screen`; `when` is anything that formats as the creation time's words."""
        return self.verdict(ticket, after_hours, when, every=False)


_prepared = ByIdentity(Prepared, limit=4096)


def _said(held: list[str], failed: list[str], ok: bool, yes: str, no: str) -> bool:
    (held if ok else failed).append(yes if ok else no)
    return ok


def _passed(held: list[str], failed: list[str], said: str | None, no: str) -> bool:
    # `said` is None when the check failed (its words are then never written).
    if said is None:
        failed.append(no)
        return False
    held.append(said)
    return True


# A check, the same check without words, and its cost (the screen asks cheap ones first).
Part = tuple[Check, Holds, int]
_SET, _FIELD, _TEXT, _NESTED = range(4)


def _field_checks(match: Condition) -> list[Part]:
    checks = [_field_check(name, read, FieldTest(test)) for name, read in FIELDS.items()
              if (test := getattr(match, name)) is not None]
    return checks + [_custom_field_check(title, FieldTest(test))
                     for title, test in match.fields.items()]


def _field_check(name: str, read: Callable[[Ticket], Sequence[str]], test: FieldTest) -> Part:
    no = f"{name} {test.wanted}"

    def check(ticket: Ticket, held: list[str], failed: list[str], _: bool, __: object) -> bool:
        passed = test.run(read(ticket))
        return _passed(held, failed, None if passed is None else f"{name} {passed}", no)

    def holds(ticket: Ticket, _: bool) -> bool:
        return test.run(read(ticket)) is not None

    def either(ticket: Ticket, held: list[str], failed: list[str], _: bool, __: object) -> bool:
        # Say which of the two held, as a lead would look for it there.
        where, passed = "subject", _run_text(test, ticket.subject)
        if passed is None:
            where, passed = "description", _run_text(test, ticket.description)
        return _passed(held, failed, None if passed is None else f"{where} {passed}", no)

    def either_holds(ticket: Ticket, _: bool) -> bool:
        return (_run_text(test, ticket.subject) is not None
                or _run_text(test, ticket.description) is not None)

    phrases = test.contains if test.only_contains else None

    def either_contains(ticket: Ticket, _: bool) -> bool:
        # The common text test (contains:), straight to its phrases: an empty text has none.
        assert phrases is not None  # noqa: S101
        subject, description = ticket.subject, ticket.description
        return bool((subject and phrases.first_in(for_matching(subject)) is not None)
                    or (description and phrases.first_in(for_matching(description)) is not None))

    if name == "text":
        return either, either_holds if phrases is None else either_contains, _TEXT
    return check, holds, _TEXT if name in ("subject", "description") else _FIELD


def _run_text(test: FieldTest, text: str) -> str | None:
    return test.run_one(text) if text else test.run(())


def _custom_field_check(title: str, test: FieldTest) -> Part:
    no = f"field {title!r} {test.wanted}"

    def check(ticket: Ticket, held: list[str], failed: list[str], _: bool, __: object) -> bool:
        passed = test.run(ticket.field_values(title))
        return _passed(held, failed, None if passed is None else f"field {title!r} {passed}",
                       no)

    def holds(ticket: Ticket, _: bool) -> bool:
        return test.run(ticket.field_values(title)) is not None

    return check, holds, _FIELD


def _nested(match: Condition) -> list[Part]:
    checks: list[Part] = []
    if match.all_:
        parts = [_prepared(part) for part in match.all_]

        def every(ticket: Ticket, held: list[str], failed: list[str], hours: bool,
                  when: object) -> bool:
            before = len(failed)
            for part in parts:
                inner = part.verdict(ticket, hours, when, every=True)
                assert inner is not None  # noqa: S101
                held.extend(inner.held)
                failed.extend(inner.failed)
            return len(failed) == before

        def every_holds(ticket: Ticket, hours: bool) -> bool:
            return all(part.holds(ticket, hours) for part in parts)

        checks.append((every, every_holds, _NESTED))
    if match.any_:
        branches = [_prepared(part) for part in match.any_]

        def any_of(ticket: Ticket, held: list[str], failed: list[str], hours: bool,
                   when: object) -> bool:
            seen: list[Verdict] = []
            for branch in branches:
                verdict = branch.verdict(ticket, hours, when, every=True)
                assert verdict is not None  # noqa: S101
                if verdict.matched:  # the first branch that holds is the one named
                    held.append("any of: " + "; ".join(verdict.held))
                    return True
                seen.append(verdict)
            failed.append("none of: " + " | ".join("; ".join(b.failed) for b in seen))
            return False

        def any_holds(ticket: Ticket, hours: bool) -> bool:
            return any(branch.holds(ticket, hours) for branch in branches)

        checks.append((any_of, any_holds, _NESTED))
    if match.not_ is not None:
        negated = _prepared(match.not_)

        def not_(ticket: Ticket, held: list[str], failed: list[str], hours: bool,
                 when: object) -> bool:
            inner = negated.verdict(ticket, hours, when, every=True)
            assert inner is not None  # noqa: S101
            return _said(held, failed, not inner.matched, "not: " + "; ".join(inner.failed),
                         "not: but " + ("; ".join(inner.held) or "it matches every ticket"))

        def not_holds(ticket: Ticket, hours: bool) -> bool:
            return not negated.holds(ticket, hours)

        checks.append((not_, not_holds, _NESTED))
    return checks


def _shorthands(match: Condition) -> list[Part]:
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
            return _passed(held, failed, f"keyword {hit[0]!r} in {hit[1]}" if hit else None,
                           none)

        def keywords_hold(ticket: Ticket, _: bool) -> bool:
            return (phrases.first_in(for_matching(ticket.subject)) is not None
                    or phrases.first_in(for_matching(ticket.description)) is not None)

        checks.append((keywords, keywords_hold, _TEXT))
    if match.organizations:
        organizations = {for_matching(o).casefold() for o in match.organizations}
        listed = ", ".join(match.organizations)

        def in_organizations(ticket: Ticket, _: bool = False) -> bool:
            org = ticket.organization
            return org is not None and for_matching(org).casefold() in organizations

        def organization(ticket: Ticket, held: list[str], failed: list[str], _: bool,
                         __: object) -> bool:
            org = ticket.organization
            return _said(held, failed, in_organizations(ticket), f"organization {org!r}",
                         f"organization {org!r} not in {listed}" if org is not None
                         else f"no organization (wanted {listed})")

        checks.append((organization, in_organizations, _SET))
    if match.requester_domains:
        domains = {d.casefold().lstrip("@") for d in match.requester_domains}
        listed_domains = ", ".join(match.requester_domains)

        def domain_of(ticket: Ticket) -> str:
            return for_matching(email_domain(ticket.requester_email) or "").casefold()

        def requester_domain(ticket: Ticket, held: list[str], failed: list[str], _: bool,
                             __: object) -> bool:
            domain = domain_of(ticket)
            said = f"requester domain {domain!r}"
            return _said(held, failed, domain in domains, said,
                         f"{said} not in {listed_domains}")

        def in_domains(ticket: Ticket, _: bool) -> bool:
            return domain_of(ticket) in domains

        checks.append((requester_domain, in_domains, _SET))
    return checks


def _set_shorthands(match: Condition) -> list[Part]:
    checks: list[Part] = []
    if match.tags:
        tags = frozenset(match.tags)
        none = f"none of the tags {', '.join(match.tags)}"

        def tag(ticket: Ticket, held: list[str], failed: list[str], _: bool, __: object) -> bool:
            common = sorted(ticket.tags & tags)
            return _passed(held, failed, f"tag {common[0]!r}" if common else None, none)

        def any_tag(ticket: Ticket, _: bool) -> bool:
            return not tags.isdisjoint(ticket.tags)

        checks.append((tag, any_tag, _SET))
    if match.channels:
        checks.append(_one_of("channel", lambda t: t.channel, match.channels))
    if match.priorities:
        checks.append(_one_of("priority", lambda t: t.priority, match.priorities))
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

    return check, holds, _SET
