"""Properties of the pure core that must hold for any ticket, policy, schedule and moment.

Tickets come from `factories.make_ticket`; policies are the shipped SOP with its rules
shuffled and cut, generated rules, ladders and schedules added. Nothing here does I/O.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from afterhours.domain.actions import (
    AddTags,
    AssignGroup,
    CreateJiraIssue,
    Plan,
    SetPriority,
)
from afterhours.domain.model import History, JiraIssueRef, Ticket
from afterhours.domain.planner import escalation_due, plan_actions, plan_with_verdicts
from afterhours.domain.schedule import is_business_time
from afterhours.policy.model import Policy, Schedule
from factories import make_ticket

SOP = yaml.safe_load((Path(__file__).parents[1] / "fixtures" / "classic_policy.yaml").read_text())
PROPERTIES = settings(max_examples=150, deadline=None)
# Rounds of apply-and-plan at one moment before a plan must be empty: the service allows 5.
MAX_ROUNDS = 5
ZONES = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago", "UTC"]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WORDS = ["outage", "down", "invoice", "refund", "crash", "error", "hello", "data loss", "manual"]
TAGS = ["p1", "p2", "vip", "billing", "product_bug", "escalated_oncall", "x"]
GROUPS = ["Finance", "Engineering", "Support", "Support Leads", "Tier 2"]
CHANNELS = ["finance", "engineering", "oncall-lead", "support-lead"]
PRIORITIES = ["urgent", "high", "normal", "low"]
START, END = datetime(2025, 12, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)


@cache
def transitions(zone: str) -> tuple[datetime, ...]:
    """The UTC instants in 2026 when `zone` changes its offset (found by scanning)."""
    tz, found = ZoneInfo(zone), []
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    before = moment.astimezone(tz).utcoffset()
    while moment.year == 2026:
        moment += timedelta(minutes=15)
        offset = moment.astimezone(tz).utcoffset()
        if offset != before:
            found.append(moment)
            before = offset
    return tuple(found)


@st.composite
def instants(draw: st.DrawFn, zone: str) -> datetime:
    """A moment, often within a day and a half of one of `zone`'s daylight-saving changes."""
    near = transitions(zone)
    if len(near) > 0 and draw(st.booleans()):
        centre = draw(st.sampled_from(near))
        moment = centre + timedelta(seconds=draw(st.integers(-36 * 3600, 36 * 3600)))
    else:
        naive = draw(st.datetimes(START.replace(tzinfo=None), END.replace(tzinfo=None)))
        moment = naive.replace(tzinfo=UTC)
    if draw(st.booleans()):
        # On a half hour, where ranges open and close (these zones are all whole or half hours
        # off UTC), to try the inclusive start and exclusive end.
        moment = moment.replace(minute=moment.minute // 30 * 30, second=0, microsecond=0)
    return moment


def _clock(minutes: int) -> str:
    return "24:00" if minutes == 24 * 60 else f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def day_ranges(draw: st.DrawFn) -> list[str]:
    """Zero to three ordered, non-overlapping ranges on a half-hour grid, as written in YAML."""
    cuts = sorted(draw(st.sets(st.integers(0, 48), max_size=6)))
    pairs = list(zip(cuts[::2], cuts[1::2], strict=False))
    return [f"{_clock(a * 30)}-{_clock(b * 30)}" for a, b in pairs if a < b]


@st.composite
def schedules(
    draw: st.DrawFn, zone: str | None = None, near: datetime | None = None
) -> dict[str, Any]:
    """A schedule in `zone` (or one of ZONES); around `near`, holidays and a range near it."""
    zone = zone or draw(st.sampled_from(ZONES))
    days = draw(st.lists(st.sampled_from(WEEKDAYS), unique=True))
    hours = {day: draw(day_ranges()) for day in days}
    around: list[date] = []
    if near is not None:
        local = near.astimezone(ZoneInfo(zone))
        around = [local.date() + timedelta(days=d) for d in (-1, 0, 1)]
        if draw(st.booleans()):
            # One range that starts or ends within an hour or two of `near`, on its local day.
            cut = (local.hour * 60 + local.minute) // 30 + draw(st.integers(-3, 1))
            start = min(max(cut, 0), 47)
            end = min(start + draw(st.integers(1, 5)), 48)
            hours[WEEKDAYS[local.weekday()]] = [f"{_clock(start * 30)}-{_clock(end * 30)}"]
    anywhen = st.dates(date(2025, 12, 1), date(2027, 1, 31))
    days_off = st.sampled_from(around) if len(around) > 0 and draw(st.booleans()) else anywhen
    holidays = draw(st.lists(days_off, max_size=3))
    return {"time_zone": zone, "hours": hours, "holidays": [d.isoformat() for d in holidays]}


def matches() -> st.SearchStrategy[dict[str, Any]]:
    """Conditions drawn from the same words, tags and priorities the tickets use."""
    return st.fixed_dictionaries(
        {},
        optional={
            "keywords": st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
            "organizations": st.lists(st.sampled_from(["Acme", "Globex"]), min_size=1),
            "tags": st.lists(st.sampled_from(TAGS), min_size=1, max_size=2),
            "channels": st.lists(st.sampled_from(["email", "web"]), min_size=1),
            "priorities": st.lists(st.sampled_from(PRIORITIES), min_size=1, max_size=2),
            "after_hours": st.booleans(),
        },
    )


@st.composite
def ladders(draw: st.DrawFn, name: str) -> dict[str, Any]:
    """An escalation ladder of one to three levels on either clock."""
    levels = [
        draw(
            st.fixed_dictionaries(
                {
                    "after_minutes": st.integers(1, 3 * 24 * 60),
                    "until": st.sampled_from(["first_reply", "solved"]),
                    "clock": st.sampled_from(["calendar", "business"]),
                },
                optional={
                    "notify": st.sampled_from(CHANNELS),
                    "group": st.sampled_from(GROUPS),
                    "tags": st.lists(st.sampled_from(TAGS), max_size=2),
                },
            )
        )
        for _ in range(draw(st.integers(1, 3)))
    ]
    return {"name": name, "when": draw(st.just({}) | matches()), "levels": levels}


@st.composite
def policies(draw: st.DrawFn, min_ladders: int = 0) -> Policy:
    """The SOP with its rules shuffled and cut, new rules and ladders, and maybe a new schedule."""
    spec = dict(SOP)
    if draw(st.booleans()):
        spec["schedule"] = draw(schedules())
    for block in ("priority_rules", "routes", "escalations"):
        spec[block] = draw(st.permutations(SOP[block]))[: draw(st.integers(0, len(SOP[block])))]
    for i in range(draw(st.integers(0, 2))):
        extra = {"name": f"gen-priority-{i}", "when": draw(matches())}
        extra |= {"priority": draw(st.sampled_from(PRIORITIES))}
        extra["tags"] = draw(st.lists(st.sampled_from(TAGS), max_size=2))
        spec["priority_rules"] = [*spec["priority_rules"], extra]
    for i in range(draw(st.integers(0, 2))):
        route = {"name": f"gen-route-{i}", "when": draw(matches())}
        route |= draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "group": st.sampled_from(GROUPS),
                    "tags": st.lists(st.sampled_from(TAGS), max_size=2),
                    "notify": st.sampled_from(CHANNELS),
                    "note": st.just("Looked at overnight"),
                    "jira": st.just({"project": "OPS"}),
                },
            )
        )
        spec["routes"] = [*spec["routes"], route]
    count = draw(st.integers(min_ladders, 2))
    extra_ladders = [draw(ladders(f"gen-ladder-{i}")) for i in range(count)]
    spec["escalations"] = [*spec["escalations"], *extra_ladders]
    for block in ("priority_rules", "routes", "escalations"):
        match = draw(st.sampled_from(["first", "all"]))
        rules = spec[block]
        if match == "first":
            # `check` refuses rules after a catch-all in a first-match block: they never match.
            catch_all = next((i for i, r in enumerate(rules) if not r.get("when")), None)
            rules = rules if catch_all is None else rules[: catch_all + 1]
        spec[block] = {"match": match, "rules": rules}
    try:
        return Policy.model_validate(spec)
    except ValidationError as error:
        # A drawn schedule may make a drawn condition impossible (no open hours, open around
        # the clock), which `check` refuses; such policies never reach the planner.
        assume("can never match" not in str(error))
        raise


@st.composite
def tickets(
    draw: st.DrawFn, statuses: tuple[str, ...] = ("new", "open", "solved", "closed")
) -> Ticket:
    """A ticket whose text, tags and fields the generated rules look at."""
    created_at = draw(instants(draw(st.sampled_from(ZONES))))
    words = draw(st.lists(st.sampled_from(WORDS), max_size=3))
    after = st.integers(1, 4 * 24 * 60).map(lambda m: created_at + timedelta(minutes=m))
    return make_ticket(
        id=draw(st.integers(1, 99_999)),
        subject=" ".join(words) or "A question",
        description=draw(st.sampled_from(["Please help.", "It crashes.", "refund due"])),
        status=draw(st.sampled_from(statuses)),
        priority=draw(st.none() | st.sampled_from(PRIORITIES)),
        tags=frozenset(draw(st.lists(st.sampled_from(TAGS), max_size=3))),
        channel=draw(st.sampled_from(["email", "web"])),
        organization=draw(st.sampled_from([None, "Acme", "Globex"])),
        group=draw(st.none() | st.sampled_from(GROUPS)),
        created_at=created_at,
        first_reply_at=draw(st.none() | after),
        solved_at=draw(st.none() | after),
    )


def apply(plan: Plan, ticket: Ticket, history: History) -> tuple[Ticket, History]:
    """What the shell would leave behind: the ticket changed, every key settled, Jira filed."""
    issue = history.jira_issue
    for planned in plan.actions:
        action = planned.action
        if isinstance(action, SetPriority):
            ticket = dataclasses.replace(ticket, priority=action.priority)
        elif isinstance(action, AddTags):
            ticket = dataclasses.replace(ticket, tags=ticket.tags | set(action.tags))
        elif isinstance(action, AssignGroup):
            ticket = dataclasses.replace(ticket, group=action.group)
        elif isinstance(action, CreateJiraIssue):
            key = f"{action.project}-{ticket.id}"
            issue = JiraIssueRef(key, f"https://acme.atlassian.net/browse/{key}")
    keys = {p.key for p in plan.actions} | {s.key for s in plan.skips}
    return ticket, History(history.settled | keys, issue)


def settle(ticket: Ticket, policy: Policy, now: datetime, history: History) -> list[Plan]:
    """Plan and apply at `now` until a plan is empty, as the service does within one pass."""
    rounds: list[Plan] = []
    for _ in range(MAX_ROUNDS):
        plan = plan_actions(ticket, policy, now, history)
        if not plan:
            return rounds
        rounds.append(plan)
        ticket, history = apply(plan, ticket, history)
    raise AssertionError(f"still planning after {MAX_ROUNDS} rounds: {rounds[-1]}")


@PROPERTIES
@given(data=st.data())
def test_the_same_inputs_give_the_same_plan(data: st.DataObject) -> None:
    policy = data.draw(policies())
    ticket = data.draw(tickets())
    now = ticket.created_at + timedelta(minutes=data.draw(st.integers(0, 5 * 24 * 60)))
    first = plan_actions(ticket, policy, now, History())
    # Equal copies, and another plan in between, must not matter (no hidden state, no caches
    # that leak between tickets or policies).
    plan_actions(data.draw(tickets()), data.draw(policies()), now, History())
    twin = Policy.model_validate(policy.model_dump())
    again = plan_actions(dataclasses.replace(ticket), twin, now, History())
    assert again == first
    keys = [p.key for p in first.actions] + [s.key for s in first.skips]
    assert len(keys) == len(set(keys))


@PROPERTIES
@given(data=st.data())
def test_an_applied_plan_plans_nothing_new(data: st.DataObject) -> None:
    policy = data.draw(policies())
    ticket = data.draw(tickets())
    now = ticket.created_at + timedelta(minutes=data.draw(st.integers(0, 5 * 24 * 60)))
    first = plan_actions(ticket, policy, now, History())
    applied, history = apply(first, ticket, History())
    second = plan_actions(applied, policy, now, history)
    first_keys = {p.key for p in first.actions} | {s.key for s in first.skips}
    assert first_keys.isdisjoint({p.key for p in second.actions} | {s.key for s in second.skips})
    # A rule that acted has nothing left to do once its actions are applied. What may follow:
    # a filed issue's links, and rules the applied priority or tags now let match.
    acted = {p.rule for p in first.actions}
    jira_steps = ("/link_jira_issue", "/jira_tag", "/jira_note")
    event(f"second plan: {'actions' if second.actions else 'none'}")
    for planned in second.actions:
        assert planned.rule not in acted or (
            planned.key.endswith(jira_steps) and history.jira_issue is not None
        ), planned
    # And it comes to rest within the rounds the service allows.
    settle(applied, policy, now, history)


@PROPERTIES
@given(data=st.data())
def test_an_escalation_level_fires_once_as_time_moves_on(data: st.DataObject) -> None:
    policy = data.draw(policies(min_ladders=1))
    ticket = data.draw(tickets(statuses=("new", "open", "pending", "hold")))
    replied, solved = ticket.first_reply_at, ticket.solved_at
    # The ticket starts unanswered and open; reply and solution arrive at their times.
    ticket = dataclasses.replace(ticket, first_reply_at=None, solved_at=None)
    steps = data.draw(st.lists(st.integers(0, 36 * 60), min_size=1, max_size=12))
    now, history, fired = ticket.created_at, History(), dict[str, datetime]()
    for step in steps:
        now += timedelta(minutes=step)
        if replied is not None and replied <= now:
            ticket = dataclasses.replace(ticket, first_reply_at=replied)
        if solved is not None and solved <= now:
            ticket = dataclasses.replace(ticket, status="solved", solved_at=solved)
        for plan in settle(ticket, policy, now, history):
            ticket, history = apply(plan, ticket, history)
            for planned in plan.actions:
                if planned.rule.startswith("escalation:"):
                    rung = planned.rule
                    assert fired.setdefault(rung, now) == now, f"{rung} fired twice"
    event(f"levels fired: {min(len(fired), 3)}")
    # Never early, never after the reply or solution that stops it.
    for rule, when in fired.items():
        ladder_name, number = rule.removeprefix("escalation:").split("/level:")
        ladder = next(e for e in policy.escalations.rules if e.name == ladder_name)
        level = ladder.levels[int(number) - 1]
        due = escalation_due(ticket, level, policy)
        assert due is not None
        assert due <= when
        stop = replied if level.until == "first_reply" else solved
        assert stop is None or when < stop


@PROPERTIES
@given(data=st.data())
def test_the_verdicts_are_the_plans_own(data: st.DataObject) -> None:
    """`explain`'s verdicts come from the very plan the daemon makes: the same actions and
    skips, each owned by the one rule or level that made it."""
    policy = data.draw(policies())
    ticket = data.draw(tickets())
    now = ticket.created_at + timedelta(minutes=data.draw(st.integers(0, 5 * 24 * 60)))
    history = History()
    if data.draw(st.booleans()):  # a pass already made: its steps settled
        ticket, history = apply(plan_actions(ticket, policy, now, history), ticket, history)
    plan, verdicts = plan_with_verdicts(ticket, policy, now, history)
    assert plan == plan_actions(ticket, policy, now, history)
    rules = [*verdicts.priority_rules, *verdicts.routes,
             *(ladder.judged for ladder in verdicts.escalations)]
    steps = [rule.steps for rule in rules] + [level.steps for level in verdicts.levels()]
    assert sorted(p.key for s in steps for p in s.actions) == sorted(p.key for p in plan.actions)
    assert sorted(k.key for s in steps for k in s.skips) == sorted(k.key for k in plan.skips)
    event(f"levels: {sorted({level.state for level in verdicts.levels()})}")


def staffed(moment: datetime, schedule: Schedule) -> bool:
    """The schedule read on the wall clock: the local day is no holiday and a range holds."""
    local = moment.astimezone(ZoneInfo(schedule.time_zone))
    wall = local.time().replace(tzinfo=None)
    if local.date() in schedule.holidays:
        return False
    ranges = next((r for day, r in schedule.hours.items() if day.number == local.weekday()), [])
    return any(r.start <= wall and (wall < r.end or r.end == time(0)) for r in ranges)


def unclear_on_the_wall(moment: datetime, schedule: Schedule) -> bool:
    """A range of the local day opens or closes at a wall time the clocks skip or repeat.

    There "inside the range" has two readings (02:30 on a spring-forward day: at 03:00, when
    the clock first shows past 02:30, or at 02:30 standard time, 03:30 daylight time?); the
    schedule takes zoneinfo's, the second, so the wall-clock reading is not the definition.
    """
    zone = ZoneInfo(schedule.time_zone)
    day = moment.astimezone(zone).date()
    ranges = next((r for d, r in schedule.hours.items() if d.number == day.weekday()), [])
    bounds = [(day, r.start) for r in ranges]
    bounds += [(day + timedelta(days=1) if r.end == time(0) else day, r.end) for r in ranges]
    for on, wall in bounds:
        first = datetime.combine(on, wall, tzinfo=zone)
        if first.utcoffset() != first.replace(fold=1).utcoffset():
            return True
    return False


def near_a_change(moment: datetime, schedule: Schedule) -> bool:
    """Within a day of a daylight-saving change of the schedule's zone."""
    return any(abs(moment - t) < timedelta(days=1) for t in transitions(schedule.time_zone))


@st.composite
def moments_and_schedules(draw: st.DrawFn) -> tuple[datetime, Schedule]:
    """A moment, often near a daylight-saving change, and a schedule in that zone around it."""
    zone = draw(st.sampled_from(ZONES))
    moment = draw(instants(zone))
    return moment, Schedule.model_validate(draw(schedules(zone, near=moment)))


@settings(max_examples=200, deadline=None)
@given(case=moments_and_schedules())
def test_business_hours_read_like_the_wall_clock(case: tuple[datetime, Schedule]) -> None:
    moment, schedule = case
    assume(not unclear_on_the_wall(moment, schedule))
    expected = staffed(moment, schedule)
    event(f"staffed: {expected}")
    event(f"within a day of a change: {near_a_change(moment, schedule)}")
    assert is_business_time(moment, schedule) is expected


@PROPERTIES
@given(case=moments_and_schedules(), data=st.data())
def test_a_ticket_created_in_business_hours_is_never_after_hours(
    case: tuple[datetime, Schedule], data: st.DataObject
) -> None:
    moment, schedule = case
    assume(not unclear_on_the_wall(moment, schedule))
    policy = Policy.model_validate(SOP | {"schedule": schedule.model_dump(mode="json")})
    ticket = make_ticket(
        created_at=moment, subject=data.draw(st.sampled_from(["Site is down", "Invoice", "Hi"]))
    )
    result = plan_actions(ticket, policy, moment, History())
    # Every SOP priority rule and route asks for after hours, and no ladder is due at creation.
    if staffed(moment, schedule):
        assert result.actions == ()
        assert all("created in business hours" in s.reason for s in result.skips)
    else:
        assert any(isinstance(p.action, SetPriority) for p in result.actions)
        assert all("created after hours" in p.reason for p in result.actions)
