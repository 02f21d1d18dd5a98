"""Whether a ticket meets a rule's conditions, with the reasons a lead can read.

Both sides are read as `for_matching` gives them (NFKC, no zero-width characters): a ticket
saying `re\\u200bfund`, or refund in full-width letters, contains the keyword refund.

A condition is prepared once (which of its tests are set, their words normalised, their
patterns compiled: see domain.field_tests) into the list of checks it makes (domain.checks),
in the order their words are given; the planner then asks `screen`, which stops at the first
check that fails, and `explain` asks `evaluate`, which says what each one did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from afterhours.domain.checks import (
    NESTED,
    Check,
    Holds,
    Part,
    field_checks,
    record,
    set_shorthands,
    shorthands,
)
from afterhours.domain.field_tests import FieldTest
from afterhours.domain.frozen import quick_init
from afterhours.domain.memo import by_identity
from afterhours.domain.model import Ticket
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


# A verdict's words as lists: what held, what failed, and whether the hours failed.
Words = tuple[list[str], list[str], bool]


class Prepared:
    """A condition as the checks it makes."""

    def __init__(self, match: Condition) -> None:
        parts = [*shorthands(match), *set_shorthands(match), *field_checks(match),
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


_prepared = by_identity(Prepared, limit=4096)


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
            for part in parts:  # noqa: SIM110  (a loop: all() costs a generator)
                if not part.holds(ticket, hours):
                    return False
            return True

        checks.append((every, every_holds, NESTED))
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
            for branch in branches:  # noqa: SIM110  (a loop: any() costs a generator)
                if branch.holds(ticket, hours):
                    return True
            return False

        checks.append((any_of, any_holds, NESTED))
    if match.not_ is not None:
        negated = _prepared(match.not_)

        def not_(ticket: Ticket, held: list[str], failed: list[str], hours: bool,
                 when: object) -> bool:
            inner = negated.verdict(ticket, hours, when, every=True)
            assert inner is not None  # noqa: S101
            return record(held, failed, not inner.matched, "not: " + "; ".join(inner.failed),
                         "not: but " + ("; ".join(inner.held) or "it matches every ticket"))

        def not_holds(ticket: Ticket, hours: bool) -> bool:
            return not negated.holds(ticket, hours)

        checks.append((not_, not_holds, NESTED))
    return checks
