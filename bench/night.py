"""A night in poll mode, and in push mode: P1 latency and escalation lateness, in accelerated
time.

Tickets arrive at random seconds (a quarter of them P1, nobody answers any), and the daemon
polls as `afterhours run` does: a pass, then `poll` seconds of waiting, then the next. The
manual clock moves by each pass's real duration as well, so a slow pass delays the next one
as it would in production. An update the Zendesk twin applies is timed inside the twin (real
seconds since its pass began, added to the pass's start on the clock): a P1's latency runs
from its creation to the update that set its priority, an escalation's lateness from the
deadline the policy gives its level to the update that carried its note. The night's on-call
channel is a PagerDuty service (the SOP's page is a phone call): a page's lateness runs from
its level's deadline to the event the PagerDuty twin took, timed the same way.
"""

from __future__ import annotations

import math
import random
import re
import sqlite3
import time
from bisect import bisect_right
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from afterhours.adapters.state import ticket_from_json
from afterhours.domain.ladders import add_minutes, escalation_due
from afterhours.domain.model import Ticket
from afterhours.policy import Policy, load_policy
from afterhours.policy.rules import level_key, rule_key
from bench.daemon import DaemonProcess
from bench.world import EVENING, P1_SUBJECTS, POLICY, SUBJECTS, Update, World

P1_PER_HOUR, OTHERS_PER_HOUR = 15, 45
_RULE = re.compile(r"escalation:(?P<ladder>[^/]+)/level:(?P<level>[^/@]+)(@\S+?)?"
                   r"(/repeat:(?P<repeat>\d+))?$")


@dataclass(frozen=True)
class Night:
    """What a night showed: seconds of P1 latency and of escalation lateness, one per event."""

    hours: float
    push: bool  # push mode: each ticket delivered at its creation, the poll still running
    passes: int
    p1_filed: int
    latencies: list[float]
    lateness: list[float]
    unset: int  # P1 tickets filed before the last pass whose priority was never set
    page_lateness: list[float] = field(default_factory=list)  # PagerDuty triggers


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (0 < share <= 1) of `values`."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def _arrivals(hours: float, rng: random.Random) -> list[tuple[datetime, str, bool]]:
    span = int(hours * 3600)
    p1 = [(EVENING + timedelta(seconds=rng.randrange(span)), rng.choice(P1_SUBJECTS), True)
          for _ in range(int(P1_PER_HOUR * hours))]
    calm = [s for s in SUBJECTS if s not in P1_SUBJECTS]
    others = [(EVENING + timedelta(seconds=rng.randrange(span)), rng.choice(calm), False)
              for _ in range(int(OTHERS_PER_HOUR * hours))]
    return sorted(p1 + others)


def due(ticket: Ticket, rule: str, policy: Policy) -> datetime | None:
    """When the escalation `rule` (a level, maybe a repeat) fell due for `ticket`."""
    found = _RULE.fullmatch(rule)
    if found is None:
        return None
    ladder = next(r for r in policy.escalations.rules if rule_key(r) == found["ladder"])
    level = next(lv for n, lv in enumerate(ladder.levels, start=1)
                 if level_key(n, lv) == found["level"])
    moment = escalation_due(ticket, level, policy)
    for _ in range(int(found["repeat"] or 0)):
        if moment is None or level.repeat_every_minutes is None:
            return None
        moment = add_minutes(moment, level.repeat_every_minutes, level.clock, policy)
    return moment


def _snapshots(state_db: Path, ids: set[int]) -> dict[int, Ticket]:
    with closing(sqlite3.connect(state_db)) as db:
        return {tid: ticket_from_json(body) for tid, body in
                db.execute("SELECT id, body FROM tickets") if tid in ids}


PAGED_CHANNEL = "oncall-lead"  # the channel the SOP pages the on-call lead on


def paged_policy(out: Path) -> Path:
    """The shipped policy with its on-call channel a PagerDuty service, written to `out`."""
    data = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    data["channels"][PAGED_CHANNEL] = {"type": "pagerduty",
                                       "description": "the on-call lead's phone"}
    out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return out


def run_night(state_db: Path, policy: Policy, hours: float, poll: float = 60,
              seed: int = 13, *, push: bool = False) -> Night:
    """Run the night in a fresh world, the on-call paged through PagerDuty (`policy` with
    that one change); return its latencies and lateness. With `push`, each ticket is
    delivered to the daemon at its creation (push mode; the delivery's own travel time is not
    modelled) while the poll keeps running every `poll` seconds."""
    policy_file = paged_policy(state_db.with_name("night-policy.yaml"))
    policy = load_policy(policy_file).policy
    arrivals = _arrivals(hours, random.Random(seed))  # noqa: S311 (a reproducible draw)
    end = EVENING + timedelta(hours=hours)
    created: dict[int, datetime] = {}
    p1: set[int] = set()
    starts: list[tuple[float, datetime]] = []  # (monotonic, clock) at each pass's start
    with World() as world, DaemonProcess(world.daemon_environment(state_db, policy_file),
                                         EVENING) as daemon:
        at, next_poll, number = EVENING, EVENING, 0
        while at <= end:
            polling = not push or not arrivals or arrivals[0][0] >= next_poll
            at = max(at, next_poll if polling else arrivals[0][0])
            filed = []
            while arrivals and arrivals[0][0] <= at:
                when, subject, urgent = arrivals.pop(0)
                world.clock.set(max(when, world.clock()))
                number += 1
                ticket_id = world.file(subject, number, at=when)
                created[ticket_id] = when
                filed.append(ticket_id)
                if urgent:
                    p1.add(ticket_id)
            world.clock.set(at)
            starts.append((time.monotonic(), at))
            figures = daemon.run_pass(at) if polling else daemon.push(at, filed)
            at += timedelta(seconds=figures.wall)
            if polling:
                next_poll = at + timedelta(seconds=poll)
        daemon.stop()
        updates = world.log.since(0)
        triggers = [(at, event["payload"]["custom_details"]) for at, event
                    in world.pagerduty.timeline if event["event_action"] == "trigger"]
    last = starts[-1][1]

    reals = [real for real, _ in starts]

    def moment(update: Update) -> datetime:
        index = bisect_right(reals, update.at) - 1
        real, clock = starts[max(index, 0)]
        return clock + timedelta(seconds=update.at - real)

    set_at: dict[int, datetime] = {}
    for update in updates:
        if update.ticket_id in p1 and update.priority == "urgent":
            set_at.setdefault(update.ticket_id, moment(update))
    latencies = [(set_at[t] - created[t]).total_seconds() for t in sorted(set_at)]
    snapshots = _snapshots(state_db, {u.ticket_id for u in updates if u.escalation}
                           | {int(details["ticket"]) for _, details in triggers})
    lateness = []
    for update in updates:
        if update.escalation is None:
            continue
        deadline = due(snapshots[update.ticket_id], update.escalation, policy)
        if deadline is not None:
            lateness.append((moment(update) - deadline).total_seconds())
    unset = sum(1 for t in p1 if t not in set_at and created[t] <= last)
    paged = [(moment(Update(0, real, None, None)) - deadline).total_seconds()
             for real, details in triggers
             if (deadline := due(snapshots[int(details["ticket"])], details["rule"], policy))]
    return Night(hours, push, len(starts), len(p1), latencies, lateness, unset, paged)
