"""Clocks: the real one, and a manual one so nights and 24-hour deadlines pass in seconds."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock, in UTC."""
    return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to; shared by the twins and the daemon in demos/tests."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta`; return the new time."""
        with self._lock:
            self._now += delta
            return self._now

    def set(self, moment: datetime) -> None:
        """Jump to `moment` (never backwards)."""
        with self._lock:
            if moment < self._now:
                raise ValueError("a clock does not run backwards")
            self._now = moment

    def sleep(self, seconds: float) -> None:
        """Stand-in for time.sleep: time passes, nobody waits."""
        self.advance(timedelta(seconds=seconds))


class FileClock:
    """A clock another process drives by writing an ISO 8601 instant to a file.

    The chaos test runs the daemon as a child process it can SIGKILL; the test moves time
    for the twins and the daemon alike through this file.
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)

    def __call__(self) -> datetime:
        return datetime.fromisoformat(self._path.read_text(encoding="utf-8").strip())

    @staticmethod
    def publish(path: str | Path, moment: datetime) -> None:
        """Write `moment` for FileClock readers; atomic, so a reader never sees half a line."""
        target = Path(path)
        scratch = target.with_suffix(".tmp")
        scratch.write_text(moment.isoformat(), encoding="utf-8")
        os.replace(scratch, target)
