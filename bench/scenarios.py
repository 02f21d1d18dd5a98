"""The benchmark's runs: a first pass over new tickets (and the baseline's poll over the same),
quiet passes over large accounts, and a night in poll mode for latency and lateness."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from statistics import median

from bench.baseline import NaiveBaseline
from bench.daemon import DaemonProcess, PassFigures
from bench.seeding import grow
from bench.world import EVENING, World, diff

# Tickets are filed at 19:00 and the daemon first looks at 19:05; quiet passes follow, all
# before 19:30, when the first P1 ladder level after "at once" falls due.
FIRST_PASS = EVENING + timedelta(minutes=5)
EXPORT = "GET /api/v2/incremental/tickets/cursor.json"


@dataclass(frozen=True)
class FirstPass:
    """The daemon's first pass over `tickets` new tickets: its requests and their minimum."""

    tickets: int
    zendesk: int
    jira: int
    seconds: float
    written: int  # tickets the pass changed in Zendesk
    filed: int  # Jira issues it created
    figures: PassFigures
    by_endpoint: dict[str, dict[str, int]]  # the requests per service and endpoint

    @property
    def minimum_zendesk(self) -> int:
        """1 export page per 1,000 tickets, then update_many jobs of 100, each followed by
        (at least) one job-status poll."""
        return math.ceil(self.tickets / 1000) + 2 * math.ceil(self.written / 100)

    @property
    def minimum_jira(self) -> int:
        """Bulk creates of 50, then one remote link per issue (Jira has no bulk link)."""
        return math.ceil(self.filed / 50) + self.filed


@dataclass(frozen=True)
class BaselinePoll:
    """The naive baseline's poll over the same new tickets, in a world of its own."""

    tickets: int
    zendesk: int
    jira: int
    seconds: float
    bugs: int


@dataclass(frozen=True)
class QuietRun:
    """Passes with nothing changed and nothing due over `open_tickets` open tickets."""

    open_tickets: int
    passes: list[PassFigures]
    requests: list[dict[str, int]]
    exports: list[int]
    peak: int

    @property
    def wall(self) -> float:
        """The median pass's seconds."""
        return median(p.wall for p in self.passes)

    @property
    def cpu(self) -> float:
        """The median pass's CPU seconds in the daemon's process."""
        return median(p.cpu for p in self.passes)

    @property
    def total_requests(self) -> int:
        """Requests to every twin in the median pass."""
        return int(median(sum(r.values()) for r in self.requests))

    def requests_to(self, twin: str) -> int:
        """Requests to one twin (zendesk, jira, chat) in the median pass."""
        return int(median(r.get(twin, 0) for r in self.requests))

    @property
    def busy(self) -> int:
        """Passes that did something after all (a deadline fell due): 0 in a quiet run."""
        return sum(not p.quiet for p in self.passes)

    def growth(self) -> float:
        """RSS after the passes of the last tenth over the first tenth's, minus one."""
        tenth = max(1, len(self.passes) // 10)
        first = max(p.rss for p in self.passes[:tenth])
        last = max(p.rss for p in self.passes[-tenth:])
        return last / first - 1


def first_pass(world: World, state_db: Path, tickets: int) -> FirstPass:
    """File `tickets` new tickets at 19:00 and run the daemon's first pass at 19:05."""
    world.file_mix(tickets)
    world.clock.set(FIRST_PASS)
    before, updates, issues = world.requests(), len(world.log), len(world.jira.issues())
    with DaemonProcess(world.daemon_environment(state_db), FIRST_PASS) as daemon:
        figures = daemon.run_pass(FIRST_PASS)
        daemon.stop()
    after = world.requests()
    sent = diff(after, before)
    written = len({u.ticket_id for u in world.log.since(updates)})
    # Issues filed, however they were asked for (one create each, or in bulk).
    filed = len(world.jira.issues()) - issues
    by_endpoint = {service: dict(after[service] - before[service])
                   for service in ("zendesk", "jira")}
    return FirstPass(tickets, sent["zendesk"], sent["jira"], figures.wall, written, filed,
                     figures, by_endpoint)


def baseline_poll(tickets: int) -> BaselinePoll:
    """The same tickets filed in a fresh world, and the baseline's one poll over them."""
    with World() as world:
        world.file_mix(tickets)
        world.clock.set(FIRST_PASS)
        before = world.requests()
        client = NaiveBaseline(world)
        try:
            poll = client.poll(since=EVENING - timedelta(hours=1))
        finally:
            client.close()
        sent = diff(world.requests(), before)
    return BaselinePoll(poll.tickets, sent["zendesk"], sent["jira"], poll.wall, poll.bugs)


def quiet_run(world: World, state_db: Path, templates: list[int], *, open_tickets: int,
              passes: int, start: datetime, spacing: timedelta) -> QuietRun:
    """Grow the account to `open_tickets` and run `passes` passes `spacing` apart from
    `start`, in a daemon started afresh (as after a deploy)."""
    grow(world, state_db, templates, open_tickets)
    figures, requests, exports = [], [], []
    with DaemonProcess(world.daemon_environment(state_db), start) as daemon:
        for n in range(passes):
            at = start + n * spacing
            world.clock.set(at)
            before = world.requests()
            figures.append(daemon.run_pass(at))
            after = world.requests()
            requests.append(diff(after, before))
            exports.append(after["zendesk"][EXPORT] - before["zendesk"][EXPORT])
        peak = daemon.stop()
    return QuietRun(open_tickets, figures, requests, exports, peak)


def quiet_runs(world: World, state_db: Path, sizes: tuple[int, ...], passes: int,
               progress: Callable[[str], object] = print) -> list[QuietRun]:
    """`quiet_run` for each size in turn, over copies of the first pass's tickets. Passes are
    a minute apart (the poll interval), closer when there are many, so that every one of them
    falls between the first pass and the first deadline after it (19:30)."""
    templates = sorted(world.zendesk.state.tickets)
    spacing = min(timedelta(minutes=1), timedelta(minutes=20) / (len(sizes) * passes))
    start = FIRST_PASS + timedelta(minutes=1)
    runs = []
    for size in sizes:
        progress(f"{passes} quiet passes over {size:,} open tickets")
        runs.append(quiet_run(world, state_db, templates, open_tickets=size, passes=passes,
                              start=start, spacing=spacing))
        start += passes * spacing
    return runs
