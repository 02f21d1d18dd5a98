"""The daemon as the chaos test runs it: a child process it can SIGKILL at any moment.

Built by the same composition root as `afterhours run`, from AFTERHOURS_* settings; only the
clock (a file the test moves forward) and the retry waits (short, real seconds) differ.

    python tests/chaos/daemon.py CLOCK_FILE            run passes until SIGTERM/SIGKILL
    python tests/chaos/daemon.py CLOCK_FILE --settle   run passes until one does nothing
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from afterhours.bootstrap import build_service
from afterhours.clock import FileClock
from afterhours.logs import configure_logging
from afterhours.policy import load_policy
from afterhours.retrying import RetryPolicy
from afterhours.settings import Settings

SETTLE_PASSES = 30


def main(argv: list[str]) -> int:
    """Run the daemon on the clock in argv[0]; with --settle, exit 0 once a pass is idle."""
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    policy = load_policy(settings.policy_file).policy
    # Faults are frequent here, so retries are quick; Retry-After still sets the floor.
    retry = RetryPolicy(attempts=4, total_seconds=8, initial_wait=0.02, max_wait=0.3)
    service = build_service(settings, policy, clock=FileClock(argv[0]), retry=retry)

    def stop(signum: int, _: FrameType | None) -> None:
        service.stop.set()

    signal.signal(signal.SIGTERM, stop)
    try:
        if "--settle" not in argv:
            service.run_forever(settings.poll_interval)
            return 0
        for _ in range(SETTLE_PASSES):
            report = service.run_pass()
            # A pass whose export failed (its 10 a minute spent while the morning's clock
            # races) has not seen every ticket: not idle.
            idle = not (report.done or report.skipped or report.deferred or report.failed
                        or report.conflicts or report.crashed or report.export_failed)
            if idle and report.clean:
                return 0
        return 1
    finally:
        service.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
