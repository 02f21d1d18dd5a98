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
from afterhours.domain.memo import ByIdentity
from afterhours.domain.model import Ticket
from afterhours.domain.text import for_matching
from afterhours.policy.conditions import Condition, Test


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


class Prepared:
    """A condition as the checks it makes."""

    def __init__(self, match: Condition) -> None:
        self.checks: list[Check] = [*_shorthands(match), *_set_shorthands(match),
                                    *_field_checks(match), *_nested(match)]
        self.after_hours = match.after_hours

    def verdict(self, ticket: Ticket, after_hours: bool, when: object, *,
                every: bool) -> Verdict | None:
        """The verdict on `ticket` created `when`; None, unless `every`, once a check fails."""
        held: list[str] = []
        failed: list[str] = []
        for check in self.checks:
            if not check(ticket, held, failed, after_hours, when) and not every:
                return None
        hours_failed = self.after_hours is not None and after_hours != self.after_hours
        if self.after_hours is not None:
            said = f"created {'after' if after_hours else 'in business'} hours ({when})"
            (failed if hours_failed else held).append(said)
        return Verdict(tuple(held), tuple(failed), hours_failed)

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


def _field_checks(match: Condition) -> list[Check]:
    checks = [_field_check(name, read, FieldTest(test)) for name, read in FIELDS.items()
              if (test := getattr(match, name)) is not None]
    return checks + [_custom_field_check(title, FieldTest(test))
                     for title, test in match.fields.items()]


def _field_check(name: str, read: Callable[[Ticket], Sequence[str]], test: FieldTest) -> Check:
    no = f"{name} {test.wanted}"

    def check(ticket: Ticket, held: list[str], failed: list[str], _: bool, __: object) -> bool:
        passed = test.run(read(ticket))
        return _passed(held, failed, None if passed is None else f"{name} {passed}", no)

    def either(ticket: Ticket, held: list[str], failed: list[str], _: bool, __: object) -> bool:
        # Say which of the two held, as a lead would look for it there.
        subject, description = ticket.subject, ticket.description
        where, passed = "subject", test.run_one(subject) if subject else test.run(())
        if passed is None:
            where = "description"
            passed = test.run_one(description) if description else test.run(())
        return _passed(held, failed, None if passed is None else f"{where} {passed}", no)

    return either if name == "text" else check


def _custom_field_check(title: str, test: FieldTest) -> Check:
    no = f"field {title!r} {test.wanted}"

    def check(ticket: Ticket, held: list[str], failed: list[str], _: bool, __: object) -> bool:
        passed = test.run(ticket.field_values(title))
        return _passed(held, failed, None if passed is None else f"field {title!r} {passed}",
                       no)

    return check


def _nested(match: Condition) -> list[Check]:
    checks: list[Check] = []
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

        checks.append(every)
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

        checks.append(any_of)
    if match.not_ is not None:
        negated = _prepared(match.not_)

        def not_(ticket: Ticket, held: list[str], failed: list[str], hours: bool,
                 when: object) -> bool:
            inner = negated.verdict(ticket, hours, when, every=True)
            assert inner is not None  # noqa: S101
            return _said(held, failed, not inner.matched, "not: " + "; ".join(inner.failed),
                         "not: but " + ("; ".join(inner.held) or "it matches every ticket"))

        checks.append(not_)
    return checks


def _shorthands(match: Condition) -> list[Check]:
    checks: list[Check] = []
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

        checks.append(keywords)
    if match.organizations:
        organizations = {for_matching(o).casefold() for o in match.organizations}
        listed = ", ".join(match.organizations)

        def organization(ticket: Ticket, held: list[str], failed: list[str], _: bool,
                         __: object) -> bool:
            org = ticket.organization
            return _said(held, failed,
                         org is not None and for_matching(org).casefold() in organizations,
                         f"organization {org!r}",
                         f"organization {org!r} not in {listed}" if org is not None
                         else f"no organization (wanted {listed})")

        checks.append(organization)
    if match.requester_domains:
        domains = {d.casefold().lstrip("@") for d in match.requester_domains}
        listed_domains = ", ".join(match.requester_domains)

        def requester_domain(ticket: Ticket, held: list[str], failed: list[str], _: bool,
                             __: object) -> bool:
            domain = for_matching(email_domain(ticket.requester_email) or "").casefold()
            said = f"requester domain {domain!r}"
            return _said(held, failed, domain in domains, said,
                         f"{said} not in {listed_domains}")

        checks.append(requester_domain)
    return checks


def _set_shorthands(match: Condition) -> list[Check]:
    checks: list[Check] = []
    if match.tags:
        tags = frozenset(match.tags)
        none = f"none of the tags {', '.join(match.tags)}"

        def tag(ticket: Ticket, held: list[str], failed: list[str], _: bool, __: object) -> bool:
            common = sorted(ticket.tags & tags)
            return _passed(held, failed, f"tag {common[0]!r}" if common else None, none)

        checks.append(tag)
    if match.channels:
        checks.append(_one_of("channel", lambda t: t.channel, match.channels))
    if match.priorities:
        checks.append(_one_of("priority", lambda t: t.priority, match.priorities))
    return checks


def _one_of(field: str, read: Callable[[Ticket], str | None], wanted: Sequence[str]) -> Check:
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

    return check
