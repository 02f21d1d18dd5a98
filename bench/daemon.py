"""The daemon under test, in a child process of its own: its time, CPU and memory are its own.

    python -m bench.daemon START        (started by `DaemonProcess`; commands on stdin)

Built from AFTERHOURS_* settings by the same composition root as `afterhours run`; only the
clock differs: a ManualClock that each `pass` command sets, as the parent sets the twins'.
Commands and answers are JSON lines: {"op": "pass", "at": ISO} answers the pass's figures,
{"op": "push", "at": ISO, "tickets": [ids]} takes pushed tickets as push mode's loop does and
answers the figures of the pass that plans them, {"op": "stop"} closes the daemon and answers
its peak RSS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from afterhours.bootstrap import build_service
from afterhours.clock import ManualClock
from afterhours.logs import configure_logging
from afterhours.policy import load_policy
from afterhours.push.handling import take_pushed
from afterhours.push.queue import PushQueue
from afterhours.retrying import RetryPolicy
from afterhours.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def memory() -> tuple[int, int]:
    """This process' resident set now and its peak (VmRSS, VmHWM), in bytes."""
    found = {}
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) * 1024
    return found["VmRSS"], found["VmHWM"]


def serve(commands: IO[str], answers: IO[str], start: datetime) -> None:
    """Build the daemon and run the parent's commands until `stop`."""
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    policy = load_policy(settings.policy_file).policy
    clock = ManualClock(start)
    # No faults in a benchmark run; were there any, retry waits would pass on this clock.
    service = build_service(settings, policy, clock=clock, retry=RetryPolicy(sleep=clock.sleep))
    pushes = PushQueue()
    try:
        for line in commands:
            command = json.loads(line)
            if command["op"] == "stop":
                break
            clock.set(datetime.fromisoformat(command["at"]))
            wall, cpu = time.perf_counter(), time.process_time()
            if command["op"] == "push":
                # What the loop does when deliveries wake it (daemon.run_forever): the pushed
                # tickets read in one batch, stored due now, a pass without the export.
                for ticket_id in command["tickets"]:
                    pushes.offer_ticket(ticket_id)
                take_pushed(service, pushes)
                report = service.run_pass(read_export=False)
            else:
                report = service.run_pass()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            rss, peak = memory()
            answers.write(json.dumps({"wall": wall, "cpu": cpu, "rss": rss, "peak": peak,
                                      "report": asdict(report)}) + "\n")
            answers.flush()
    finally:
        service.close()
    answers.write(json.dumps({"peak": memory()[1]}) + "\n")
    answers.flush()


@dataclass(frozen=True)
class PassFigures:
    """What one pass cost the daemon: seconds (wall, CPU), memory after it, what it did."""

    wall: float
    cpu: float
    rss: int
    peak: int
    report: dict[str, Any]

    @property
    def quiet(self) -> bool:
        """Nothing was done, skipped, deferred or failed: only the scan."""
        keys = ("done", "skipped", "deferred", "failed", "conflicts", "crashed")
        return not any(self.report[k] for k in keys) and not self.report["export_failed"]


class DaemonProcess:
    """A daemon child over `env`'s settings, starting at `start` on its own manual clock."""

    def __init__(self, env: dict[str, str], start: datetime) -> None:
        env = dict(env)
        # `python -m bench.daemon` must find this package wherever the benchmark was run from.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
        self._child = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "bench.daemon", start.isoformat()],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, cwd=REPO)

    def _ask(self, command: dict[str, Any]) -> dict[str, Any]:
        if self._child.stdin is None or self._child.stdout is None:  # pragma: no cover
            raise RuntimeError("the daemon child has no pipes")
        self._child.stdin.write(json.dumps(command) + "\n")
        self._child.stdin.flush()
        line = self._child.stdout.readline()
        if not line:
            raise RuntimeError(f"the daemon child exited ({self._child.wait()}); see its stderr")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def run_pass(self, at: datetime) -> PassFigures:
        """One pass at `at` on the daemon's clock."""
        return PassFigures(**self._ask({"op": "pass", "at": at.isoformat()}))

    def push(self, at: datetime, tickets: list[int]) -> PassFigures:
        """Pushed tickets taken at `at`, as push mode's loop takes them, and their pass."""
        return PassFigures(**self._ask({"op": "push", "at": at.isoformat(),
                                        "tickets": tickets}))

    def stop(self) -> int:
        """Close the daemon; return its peak RSS in bytes."""
        peak = int(self._ask({"op": "stop"})["peak"])
        self._child.wait(timeout=60)
        return peak

    def __enter__(self) -> DaemonProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._child.poll() is None:
            self._child.kill()
            self._child.wait()


def main() -> None:
    """Serve the parent on stdin/stdout; the daemon's logs go to stderr."""
    answers = sys.stdout
    sys.stdout = sys.stderr  # structlog prints to whatever sys.stdout is when a logger is made
    serve(sys.stdin, answers, datetime.fromisoformat(sys.argv[1]))


if __name__ == "__main__":
    main()
