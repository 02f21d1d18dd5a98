"""Failover: two `afterhours run` daemons on one PostgreSQL database, the leader SIGKILLed
mid-pass; the standby takes over within the lease time plus a renewal, and goes on from the
saved cursor and ledger with nothing done twice and nothing lost.

The twins run here, on the test's clock (an evening a few weeks back, so the escalation
ladders are due too); the daemons are real `afterhours run` processes on the real clock, with
a 3-second lease. The night's tickets and the verdict (one Jira issue per bug ticket, each
note and each message once, every ticket handled) are the chaos test's (tests/chaos).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from afterhours.clock import ManualClock
from afterhours.twins.chat import ChatTwin
from afterhours.twins.faults import FaultRule
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from chaos.invariants import check_invariants
from chaos.scenario import NIGHT, START, Night
from factories import twin_environment, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

TICKETS = 60
LEASE_SECONDS = 3.0
RENEW_EVERY = LEASE_SECONDS / 3
REPO = Path(__file__).parents[2]
POLICY = REPO / "config" / "policy.yaml"
CHANNELS = ("finance", "engineering", "oncall-lead", "support-lead")


class Daemon:
    """One `afterhours run` child process, logging JSON lines to its own file."""

    def __init__(self, name: str, env: dict[str, str], folder: Path) -> None:
        self.name = name
        self.log = folder / f"{name}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "afterhours", "run"], env=env, stdout=out,
                stderr=subprocess.STDOUT)

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """Its log lines so far (the last one may still be half written: skipped)."""
        found = []
        for line in self.log.read_text().splitlines():
            if line.startswith("{") and line.endswith("}"):
                found.append(json.loads(line))
        return [e for e in found if name is None or e["event"] == name]

    def alive(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited {self.process.returncode}:\n"
                                 f"{self.log.read_text()[-4000:]}")
        return True

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def at(event: dict[str, Any]) -> datetime:
    """When a log line was written (structlog's ISO timestamp, UTC)."""
    return datetime.fromisoformat(event["timestamp"])


def idle(event: dict[str, Any]) -> bool:
    """A pass that found nothing left to do."""
    return not any(event[n] for n in ("done", "skipped", "deferred", "failed", "conflicts",
                                      "crashed", "quarantined"))


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:  # a failed test leaves no process behind
        daemon.stop()


def test_the_standby_takes_over_from_a_killed_leader_without_a_duplicate_or_a_loss(  # noqa: PLR0917
    postgres_url: str, tmp_path: Path, clock: ManualClock, zendesk: ZendeskTwin,
    jira: JiraTwin, chat: ChatTwin, daemons: list[Daemon], capsys: pytest.CaptureFixture[str],
) -> None:
    assert clock() == START
    night = Night(zendesk, seed=20261207, tickets=TICKETS)
    night.plan()
    while clock() < START + NIGHT:  # the whole night happens first: tickets, agents' work
        night.fire_until(clock.advance(timedelta(minutes=10)))
    night.repair_all()  # malformed tickets are another test's subject
    # Each request takes a little while, so one pass over the night takes seconds.
    for twin in (zendesk, jira, chat):
        twin.server.faults.add(FaultRule(endpoint="*", latency=(0.01, 0.03)))
    env = {
        **os.environ,
        **twin_environment(zendesk, jira, chat, CHANNELS, POLICY, tmp_path / "unused.sqlite3"),
        "AFTERHOURS_STATE_URL": postgres_url,
        "AFTERHOURS_LEASE_SECONDS": str(LEASE_SECONDS),
        "AFTERHOURS_POLL_INTERVAL": "0.2",
        # The twin's Jira search shows a new issue at once: a create whose outcome a kill
        # hid is looked for, and filed again only if missing, a second later.
        "AFTERHOURS_JIRA_SEARCH_LAG": "1",
    }

    leader = Daemon("first", env, tmp_path)
    daemons.append(leader)
    wait_for(lambda: leader.alive() and leader.events("lease.acquired"), timeout=30)
    standby = Daemon("second", env, tmp_path)
    daemons.append(standby)
    wait_for(lambda: standby.alive() and standby.events("daemon.started"), timeout=30)
    assert standby.events("daemon.started")[0]["leader"] is False
    # Mid-pass: the leader has acted on some tickets and has more to do.
    wait_for(lambda: leader.alive() and len(leader.events("action.done")) >= 40, timeout=30)
    assert not leader.events("pass.completed"), "the first pass ended before the kill"

    leader.process.send_signal(signal.SIGKILL)
    killed = datetime.now(UTC)
    leader.process.wait()
    acted_before_kill = len(leader.events("action.done"))

    wait_for(lambda: standby.alive() and standby.events("action.done"), timeout=30)
    [taken] = standby.events("lease.acquired")
    first_action = at(standby.events("action.done")[0])
    takeover = (at(taken) - killed).total_seconds()
    first_act = (first_action - killed).total_seconds()
    assert not [e for e in standby.events("action.done") if at(e) < at(taken)]

    # Then it goes on until a pass finds nothing left, and stops cleanly.
    wait_for(lambda: standby.alive() and any(idle(e) for e in standby.events("pass.completed")),
             timeout=60)
    standby.process.send_signal(signal.SIGTERM)
    assert standby.process.wait(timeout=15) == 0
    released = standby.events("lease.released")
    assert [(e["holder"], e["fencing_token"]) for e in released] == [
        (taken["holder"], taken["fencing_token"])]
    settled_at = at(next(e for e in standby.events("pass.completed") if idle(e)))

    verdict = check_invariants(night, zendesk=zendesk, jira=jira, chat=chat, state=postgres_url,
                               policy_file=POLICY, now=settled_at)
    seconds = (settled_at - at(leader.events("daemon.started")[0])).total_seconds()
    with capsys.disabled():  # the figures belong in every CI log, passing or not
        print(f"\nfailover: the leader was SIGKILLed after {acted_before_kill} actions; the"
              f" standby took the lease over (fencing token {taken['fencing_token']})"
              f" {takeover:.2f} s later and acted {first_act:.2f} s after the kill (bound:"
              f" lease {LEASE_SECONDS:.0f} s + renewal {RENEW_EVERY:.0f} s), then did"
              f" {len(standby.events('action.done'))} actions more")
        print(verdict.table(kills=1, seconds=seconds, faults={}))
    assert first_act <= LEASE_SECONDS + RENEW_EVERY
    assert standby.events("action.done")  # the kill left work undone, and it was done
    assert verdict.holds, verdict.table(kills=1, seconds=seconds, faults={})
    assert verdict.unsettled == 0
