"""Benchmark: what a pass costs with N open tickets, in time, memory and API requests.

    python bench/bench_pass.py [--tickets 2000] [--steady-passes 5]

Prints figures; asserts nothing. The first pass reads and triages N after-hours tickets;
the steady passes run with nothing changed, which is the escalation scan every poll does:
it should cost one export request, whatever N is.

Its times are taken with tracemalloc on and the twins in the daemon's own process, which
makes them three to four times longer than the daemon's own; `python -m bench` (README,
"Benchmarks") runs the daemon in a process of its own and is the figure of record.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
import tracemalloc
from collections import Counter
from datetime import timedelta
from pathlib import Path

from afterhours.demo.night import DemoNight
from afterhours.logs import configure_logging
from afterhours.policy import load_policy

SUBJECTS = (
    "Refund for double charge", "Invoice missing", "App crashes on export", "Login error",
    "Production is down", "How do I add a user?", "Security question", "Feature request",
)


def requests_of(night: DemoNight) -> Counter[str]:
    """Every request both twins served so far."""
    return night.zendesk.server.requests + night.jira.server.requests


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--steady-passes", type=int, default=5)
    args = parser.parse_args()
    configure_logging("json", "error")
    policy = load_policy(Path(__file__).parents[1] / "config" / "policy.yaml").policy
    rng = random.Random(7)  # noqa: S311 (reproducible ticket texts)

    with tempfile.TemporaryDirectory() as scratch, DemoNight(
        policy, Path(scratch) / "state.sqlite3"
    ) as night:
        night.clock.advance(timedelta(hours=3))  # Friday 19:00: after hours
        requester = next(iter(night.zendesk.state.users))
        for n in range(args.tickets):
            subject = SUBJECTS[n % len(SUBJECTS)]
            night.zendesk.create_ticket(
                subject=f"{subject} {n}", description=f"{subject}. " * rng.randint(1, 40),
                requester_id=requester, created_at=night.clock(),
            )
        night.clock.advance(timedelta(minutes=5))

        tracemalloc.start()
        started = time.perf_counter()
        first = night.service.run_pass()
        first_seconds = time.perf_counter() - started
        after_first = requests_of(night)

        night.clock.advance(timedelta(minutes=10))  # no deadline falls due yet
        steady: list[float] = []
        for _ in range(args.steady_passes):
            started = time.perf_counter()
            night.service.run_pass()
            steady.append(time.perf_counter() - started)
        steady_requests = requests_of(night) - after_first
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"tickets: {args.tickets}")
    print(f"first pass: {first_seconds:.2f} s, {first.done} actions done, "
          f"{sum(after_first.values())} API requests "
          f"({after_first['PUT /api/v2/tickets/{id}.json']} ticket updates, "
          f"{after_first['POST /rest/api/3/issue'] + after_first['POST /rest/api/2/issue']}"
          " Jira issues)")
    print(f"  per ticket: {1000 * first_seconds / args.tickets:.2f} ms")
    print(f"steady pass (nothing changed, {args.tickets} open tickets scanned): "
          f"median {sorted(steady)[len(steady) // 2] * 1000:.0f} ms, "
          f"max {max(steady) * 1000:.0f} ms")
    print(f"  API requests per steady pass: {sum(steady_requests.values()) / len(steady):.1f} "
          f"{dict(steady_requests)}")
    print(f"peak traced Python memory: {peak / 2**20:.1f} MiB; max RSS: {rss_mib:.0f} MiB")


if __name__ == "__main__":
    main()
