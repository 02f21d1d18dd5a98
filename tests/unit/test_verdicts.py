"""The planner's verdicts agree with what `plan_actions` does, on literal tickets: the same
plan, every action and skip owned by the rule or level that made it, and each level's
deadline and stop borne out by planning again later."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from afterhours.domain.actions import Plan
from afterhours.domain.model import History, JiraIssueRef, Ticket
from afterhours.domain.planner import plan_actions, plan_with_verdicts, tally_rule
from afterhours.domain.ticket_changes import apply_changes
from afterhours.domain.verdicts import LevelVerdict, Verdicts
from afterhours.inspect.explain import Ledger, explain_ticket
from afterhours.policy import Policy, load_policy
from factories import make_ticket

FIXTURES = Path(__file__).parents[1] / "fixtures"
SOP = load_policy(FIXTURES / "classic_policy.yaml").policy
SHIPPED = load_policy(Path(__file__).parents[2] / "config" / "policy.yaml").policy
EVERY = load_policy(FIXTURES / "every_construct_policy.yaml").policy
NIGHT = datetime(2026, 11, 20, 22, 40, tzinfo=UTC)  # Friday 22:40 in London: after hours
LATER = timedelta(days=30)


def minutes(n: int) -> datetime:
    """`n` minutes after NIGHT."""
    return NIGHT + timedelta(minutes=n)


def ticket(**fields: object) -> Ticket:
    """A ticket created on a Friday night in London; override any field."""
    return make_ticket(**{"created_at": NIGHT} | fields)


BUG = ticket(id=3, subject="App crashes on export", description="It crashes. Refund?")
# Handled when it came in: every key its first plan held is settled.
HANDLED = History(frozenset(p.key for p in plan_actions(BUG, SOP, NIGHT, History()).actions)
                  | frozenset(p.key for p in plan_actions(BUG, EVERY, NIGHT, History()).actions),
                  JiraIssueRef("ENG-7", "https://acme.atlassian.net/browse/ENG-7"))
TICKETS = {
    "outage": (ticket(id=1, subject="Outage: production is down", description="data loss"),
               History()),
    "refund": (ticket(id=2, subject="Refund for double charge", organization="Globex",
                      requester_email="bob@globex.com"), History()),
    "handled-bug": (BUG, HANDLED),
    "daytime": (ticket(id=4, created_at=datetime(2026, 11, 18, 10, tzinfo=UTC),
                       subject="How do I add a user?", status="open", priority="normal",
                       replies=1, first_reply_at=datetime(2026, 11, 18, 11, tzinfo=UTC)),
                History()),
    "urgent-replied": (ticket(id=5, subject="Security question", priority="urgent",
                              tags=frozenset({"p1"}), first_reply_at=minutes(20), replies=1,
                              status="open"), History()),
    "acknowledged": (ticket(id=6, subject="Site down", priority="urgent",
                            tags=frozenset({"p1", "taken", "oncall_ack"})), History()),
    "pending": (ticket(id=7, subject="Outage again", priority="urgent", status="pending",
                       updated_at=minutes(50), custom_fields=(("Plan", "enterprise"),)),
                History()),
    "solved": (ticket(id=8, subject="Site down", status="solved", solved_at=minutes(70),
                      first_reply_at=minutes(30), replies=1), History()),
    "low": (ticket(id=9, subject="Feature request", priority="low",
                   last_customer_update_at=minutes(300)), History()),
}
MOMENTS = [0, 5, 45, 95, 24 * 60 + 5]
POLICIES = {"sop": SOP, "shipped": SHIPPED, "every": EVERY}


def settled(plan: Plan) -> History:
    """The history once every step of `plan` is done."""
    return History(frozenset(p.key for p in plan.actions) | {s.key for s in plan.skips})


def cases() -> list[object]:
    found = [pytest.param(POLICIES[p], *TICKETS[t], minutes(m), id=f"{p}-{t}-{m}m")
             for p in POLICIES for t in TICKETS for m in MOMENTS]
    # The same moment again once everything planned is done: due levels are then done.
    outage = TICKETS["outage"][0]
    for name, policy in POLICIES.items():
        for m in MOMENTS:
            plan = plan_actions(outage, policy, minutes(m), History())
            done = apply_changes(outage, (p.action for p in plan.actions))
            found.append(pytest.param(policy, done, settled(plan), minutes(m),
                                      id=f"{name}-outage-done-{m}m"))
    return found


def owned(verdicts: Verdicts) -> tuple[Counter[str], Counter[str]]:
    """The keys of every action and skip the verdicts say a rule or level took."""
    rules = [*verdicts.priority_rules, *verdicts.routes,
             *(ladder.judged for ladder in verdicts.escalations)]
    steps = [r.steps for r in rules] + [level.steps for level in verdicts.levels()]
    return (Counter(p.key for s in steps for p in s.actions),
            Counter(k.key for s in steps for k in s.skips))


@pytest.mark.parametrize(("policy", "subject", "history", "now"), cases())
def test_verdicts_account_for_exactly_the_plan(policy: Policy, subject: Ticket,
                                               history: History, now: datetime) -> None:
    plan, verdicts = plan_with_verdicts(subject, policy, now, history)
    expected = plan_actions(subject, policy, now, history)
    assert plan == expected
    assert plan.wake_at == expected.wake_at
    actions, skips = owned(verdicts)
    assert actions == Counter(p.key for p in plan.actions)
    assert skips == Counter(s.key for s in plan.skips)
    for judged in (*verdicts.priority_rules, *verdicts.routes):
        if judged.steps.actions:
            assert judged.status == "won", judged
        if judged.status == "not considered":
            assert not judged.steps.actions
            assert not judged.steps.skips
    for ladder in verdicts.escalations:
        if ladder.judged.status != "applies":
            assert {level.state for level in ladder.levels} == {"not applied"}
        for level in ladder.levels:
            assert bool(level.steps.actions) == (level.state == "acts"), level
            if level.state == "acknowledged":
                assert [s.key.rpartition("/")[2] for s in level.steps.skips] == ["acknowledged"]


def later_steps(plan: Plan, level: LevelVerdict) -> list[str]:
    return [p.key for p in plan.actions if tally_rule(p.rule) == tally_rule(level.rule)]


@pytest.mark.parametrize(("policy", "subject", "history", "now"), cases())
def test_each_levels_deadline_and_stop_are_what_the_planner_does_later(
    policy: Policy, subject: Ticket, history: History, now: datetime,
) -> None:
    plan, verdicts = plan_with_verdicts(subject, policy, now, history)
    for level in verdicts.levels():
        if level.state == "stopped":
            # A stop is a fact of the ticket: no later plan acts on the level again.
            assert level.stop is not None
            assert not later_steps(plan_actions(subject, policy, now + LATER, history), level)
        elif level.state == "pending":
            # Not a moment before its deadline; at it, unless a person has taken the ticket.
            assert level.next_due is not None
            assert level.next_due > now
            early = plan_actions(subject, policy, level.next_due - timedelta(seconds=1), history)
            assert not later_steps(early, level)
            on_time = plan_with_verdicts(subject, policy, level.next_due, history)[1]
            [again] = [v for v in on_time.levels() if v.number == level.number
                       and tally_rule(v.rule) == tally_rule(level.rule)]
            assert again.state in ("acts", "done", "acknowledged"), again
            assert again.occurrence is not None
            assert again.occurrence.due == level.next_due
        elif level.state == "never":
            assert level.due is None
            assert not later_steps(plan_actions(subject, policy, now + LATER, history), level)
        elif level.state in ("acts", "done", "acknowledged"):
            assert level.occurrence is not None
            assert level.due is not None
            assert level.due <= level.occurrence.due <= now
    assert (plan.wake_at == now) == bool(plan.actions)


@pytest.mark.parametrize(("policy", "subject", "history", "now"), cases())
def test_explain_says_what_the_verdicts_say(policy: Policy, subject: Ticket, history: History,
                                           now: datetime) -> None:
    explained = explain_ticket(subject, policy, now, Ledger("state.sqlite3", True, history))
    plan, verdicts = plan_with_verdicts(subject, policy, now, history)
    assert explained.plan == plan
    states = {"acts": "due", "done": "settled", "pending": "pending", "stopped": "stopped",
              "never": "never", "acknowledged": "acknowledged"}
    for ladder, view in zip(verdicts.escalations, explained.ladders, strict=True):
        assert view.applies == ladder.applies
        assert [v.verdict for v in view.levels] == (
            [] if ladder.applies == "no" else list(ladder.levels))
        for shown in view.levels:
            assert shown.state == states[shown.verdict.state]
            assert shown.due == shown.verdict.due
            if shown.state == "due":
                assert any(p.rule == shown.verdict.rule for p in explained.plan.actions)
