"""`python -m bench [--quick | --full] [--passes N]`: the benchmark's one table (README,
"Benchmarks"). Progress goes to stderr, the table to stdout. Figures are printed, never
asserted: the verdict column says which of issue #13's targets are met."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from afterhours.logs import configure_logging
from afterhours.policy import load_policy
from bench.night import run_night
from bench.planner import throughput
from bench.rows import Results, all_rows
from bench.scenarios import baseline_poll, first_pass, quiet_runs
from bench.table import render, summary
from bench.world import POLICY, World


@dataclass(frozen=True)
class Sizes:
    """How big a run is."""

    name: str
    changed: int  # new tickets for the first pass (and the baseline's poll)
    quiet: tuple[int, ...]  # open tickets for the quiet passes, smallest first
    not_run: tuple[int, ...]  # quiet sizes left out
    passes: int  # quiet passes per size
    night_hours: float  # the P1-latency night
    planner_seconds: float


QUICK = Sizes("quick", 200, (200, 2_000), (20_000,), 3, 2, 0.5)
# Five quiet passes a size: a size's first pass starts a cold daemon and its second may
# still page through what the first filed, so a median of three was one of those.
DEFAULT = Sizes("default", 1_000, (1_000, 10_000), (100_000,), 5, 8, 2)
FULL = Sizes("full", 1_000, (1_000, 10_000, 100_000), (), 5, 8, 2)


def _say(text: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:6.1f} s] {text}", file=sys.stderr, flush=True)


def measure(sizes: Sizes, scratch: Path) -> Results:
    """Run every part of the benchmark at `sizes`."""
    started = time.perf_counter()
    policy = load_policy(POLICY).policy
    _say(f"planner throughput ({sizes.planner_seconds:g} s of CPU)", started)
    planner, _ = throughput(policy, sizes.planner_seconds)
    _say(f"naive baseline over {sizes.changed:,} new tickets", started)
    baseline = baseline_poll(sizes.changed)
    with World() as world:
        state_db = scratch / "state.sqlite3"
        _say(f"daemon's first pass over {sizes.changed:,} new tickets", started)
        first = first_pass(world, state_db, sizes.changed)
        quiet = quiet_runs(world, state_db, sizes.quiet, sizes.passes,
                           progress=lambda text: _say(text, started))
    _say(f"a {sizes.night_hours:g} h night in poll mode", started)
    night = run_night(scratch / "night.sqlite3", policy, sizes.night_hours)
    _say("the same night in push mode", started)
    pushed = run_night(scratch / "push.sqlite3", policy, sizes.night_hours, push=True)
    _say("done", started)
    return Results(planner, first, baseline, quiet, list(sizes.not_run), night, pushed)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true",
                      help="the small smoke run CI makes (under a minute)")
    size.add_argument("--full", action="store_true",
                      help="add the 100,000 open tickets quiet passes (minutes today)")
    parser.add_argument("--passes", type=int,
                        help="quiet passes per size (default 5; 3 with --quick)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL if args.full else DEFAULT
    if args.passes is not None:
        if args.passes < 1:
            parser.error("--passes takes a positive number")
        sizes = Sizes(sizes.name, sizes.changed, sizes.quiet, sizes.not_run, args.passes,
                      sizes.night_hours, sizes.planner_seconds)
    configure_logging("json", "error")
    with tempfile.TemporaryDirectory(prefix="afterhours-bench-") as scratch:
        results = measure(sizes, Path(scratch))
    rows = all_rows(results)
    print(f"afterhours benchmark ({sizes.name} run): {os.cpu_count()}-core machine, "
          f"Python {platform.python_version()}, {platform.system()}")
    print()
    print(render(rows))
    print()
    print(summary(rows))
    print()
    print(f"the daemon's first pass over {sizes.changed:,} new tickets, requests by endpoint:")
    for service, counts in results.first.by_endpoint.items():
        for endpoint, count in sorted(counts.items(), key=lambda item: -item[1]):
            print(f"  {service:8} {count:6,}  {endpoint}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
