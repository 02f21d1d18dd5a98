"""Chaos: a night of 1,000 tickets, faults on every endpoint (malformed tickets and non-JSON
answers among them), the daemon SIGKILLed 30+ times.

The twins run here, on a clock this test moves; the daemon runs in a child process (the same
composition root as `afterhours run`) reading that clock from a file. At random moments the
child is killed with SIGKILL and started again on the same state file. At the end, with faults
off, one more daemon settles what is left, and the invariants are checked and printed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from afterhours.clock import FileClock, ManualClock
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.pagerduty import PagerDutyTwin
from afterhours.twins.slack_api import SlackApiTwin
from afterhours.twins.smtp import SmtpTwin
from afterhours.twins.zendesk import ZendeskTwin
from chaos.invariants import Targets, check_invariants, check_targets
from chaos.scenario import (
    NIGHT,
    ROOM,
    START,
    Night,
    file_known_issue,
    joins_policy,
    targets_policy,
    turn_faults_on,
    turn_target_faults_on,
)
from factories import UNLIMITED_RATES

pytestmark = pytest.mark.chaos

TICKETS = int(os.environ.get("CHAOS_TICKETS", "1000"))
KILLS = int(os.environ.get("CHAOS_KILLS", "30"))
SEED = int(os.environ.get("CHAOS_SEED", "20261123"))
TICK = timedelta(minutes=3)  # simulated time per step of the night
TICK_SECONDS = 0.12  # real time per step
SEARCH_LAG = timedelta(seconds=60)  # Jira's index, on the night's clock
MORNING_STEP = timedelta(seconds=1)  # how the clock moves on while the morning settles
# Most lives are too short for a pass to reach its end, where sync back runs; every fifth
# is long enough (a pass waits out 429s) that sync back works, and is killed, during the
# night, not only in the morning.
LIFE, LONG_LIFE, LONG_EVERY = (0.8, 3.5), (15.0, 25.0), 5
REPO = Path(__file__).parents[2]
POLICY = REPO / "config" / "policy.yaml"


@pytest.fixture
def twins(tmp_path: Path) -> Iterator[tuple[ManualClock, ZendeskTwin, JiraTwin, ChatTwin]]:
    clock = ManualClock(START)
    zendesk, jira, chat = ZendeskTwin(clock), JiraTwin(clock, search_lag=SEARCH_LAG), ChatTwin()
    for twin in (zendesk, jira, chat):
        twin.start()
    jira.add_project("ENG", "Engineering")
    yield clock, zendesk, jira, chat
    for twin in (zendesk, jira, chat):
        twin.stop()


@pytest.fixture
def targets(twins: tuple[ManualClock, ZendeskTwin, JiraTwin, ChatTwin]) -> Iterator[Targets]:
    """PagerDuty, an SMTP server and Slack's Web API, on the night's clock."""
    clock = twins[0]
    pagerduty, slack = PagerDutyTwin(clock), SlackApiTwin(clock)
    with pagerduty, slack, SmtpTwin() as smtp:
        slack.add_conversation(ROOM)
        yield Targets(pagerduty, smtp, slack, pagerduty.add_service("Support"))


def target_env(targets: Targets) -> dict[str, str]:
    """The settings of the PagerDuty, e-mail and Slack Web API channels."""
    smtp = targets.smtp
    return {
        "AFTERHOURS_PAGERDUTY_ROUTING_KEYS": json.dumps({"pager": targets.routing_key}),
        "AFTERHOURS_PAGERDUTY_EVENTS_URL": targets.pagerduty.base_url,
        "AFTERHOURS_SMTP_URL": smtp.url, "AFTERHOURS_SMTP_USER": smtp.user,
        "AFTERHOURS_SMTP_PASSWORD": smtp.password, "AFTERHOURS_SMTP_CA_FILE": smtp.ca_file,
        "AFTERHOURS_SMTP_FROM": "afterhours@acme.example",
        "AFTERHOURS_SLACK_BOT_TOKEN": targets.slack.token,
        "AFTERHOURS_SLACK_API_URL": targets.slack.api_url,
    }


def daemon_env(zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, state: Path,
               policy: Path = POLICY) -> dict[str, str]:
    channels = ("finance", "engineering", "oncall-lead", "support-lead")
    return {
        **os.environ,
        "AFTERHOURS_ZENDESK_URL": zendesk.base_url,
        "AFTERHOURS_ZENDESK_EMAIL": "bot@example.com",
        "AFTERHOURS_ZENDESK_TOKEN": "chaos",
        "AFTERHOURS_JIRA_URL": jira.base_url,
        "AFTERHOURS_JIRA_EMAIL": "bot@example.com",
        "AFTERHOURS_JIRA_TOKEN": "chaos",
        "AFTERHOURS_WEBHOOKS": json.dumps({c: chat.webhook_url(c) for c in channels}),
        "AFTERHOURS_POLICY_FILE": str(policy),
        "AFTERHOURS_STATE_DB": str(state),
        "AFTERHOURS_POLL_INTERVAL": "0.05",
        "AFTERHOURS_BACKFILL_HOURS": "1",
        "AFTERHOURS_HTTP_TIMEOUT": "5",
        # The daemon waits this long (on the night's clock) after a create whose answer was
        # lost; it must cover the twin's index lag.
        "AFTERHOURS_JIRA_SEARCH_LAG": str(SEARCH_LAG.total_seconds() * 1.5),
        "AFTERHOURS_LOG_FORMAT": "json",
        "AFTERHOURS_LOG_LEVEL": os.environ.get("CHAOS_LOG_LEVEL", "error"),
        # The night runs 1,500 times faster than real time (and stands still while the
        # morning settles): a limit a minute on its clock means nothing. The twins enforce
        # none; the budget still takes in their 429 storms.
        **{f"AFTERHOURS_{name}": value for name, value in UNLIMITED_RATES.items()},
    }


def start_daemon(
    env: dict[str, str], clock_file: Path, log: Path, *extra: str
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603  (our own interpreter and script)
            [sys.executable, str(Path(__file__).with_name("daemon.py")), str(clock_file), *extra],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )


def settle_on_a_moving_clock(settle: subprocess.Popen[bytes], clock: ManualClock,
                             clock_file: Path) -> int | None:
    """Wait for the settling daemon, the morning's clock moving on meanwhile (ten times real
    time): a clock that stood still would never refill a rate budget (PagerDuty's 120 events
    a minute), and a daemon starved during the night (a busy machine) has much to send."""
    deadline = time.monotonic() + 600
    while settle.poll() is None and time.monotonic() < deadline:
        time.sleep(MORNING_STEP.total_seconds() / 10)
        FileClock.publish(clock_file, clock.advance(MORNING_STEP))
    return settle.poll()


def sync_actions(state: Path) -> int:
    """Sync-back's actions audited so far (read between two daemons' lives)."""
    with closing(sqlite3.connect(state)) as db:
        (count,) = db.execute("SELECT count(*) FROM audit WHERE key LIKE 'sync:%'").fetchone()
    return int(count)


def test_a_night_of_chaos_loses_nothing_and_repeats_nothing(
    twins: tuple[ManualClock, ZendeskTwin, JiraTwin, ChatTwin], targets: Targets,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    clock, zendesk, jira, chat = twins
    night = Night(zendesk, seed=SEED, tickets=TICKETS, jira=jira)
    night.plan()
    clock_file, state, log = tmp_path / "clock", tmp_path / "state.sqlite3", tmp_path / "daemon.log"
    FileClock.publish(clock_file, clock())
    known = file_known_issue(jira)  # an engineer's, before the night: tickets join it
    policy = joins_policy(targets_policy(POLICY, tmp_path / "policy.yaml"), known)
    env = {**daemon_env(zendesk, jira, chat, state, policy), **target_env(targets)}
    turn_faults_on(zendesk, jira, chat, SEED)
    turn_target_faults_on(targets.pagerduty, targets.slack, SEED)
    rng = random.Random(SEED)

    kills, started = 0, time.monotonic()
    daemon = start_daemon(env, clock_file, log)
    next_kill = time.monotonic() + rng.uniform(*LIFE)
    while clock() < START + NIGHT or kills < KILLS:
        if clock() < START + NIGHT:
            night.fire_until(clock() + TICK, clock)
            FileClock.publish(clock_file, clock())
        time.sleep(TICK_SECONDS)
        if time.monotonic() >= next_kill:
            daemon.send_signal(signal.SIGKILL)  # at whatever it was doing
            daemon.wait()
            kills += 1
            daemon = start_daemon(env, clock_file, log)
            next_kill = time.monotonic() + rng.uniform(
                *(LONG_LIFE if kills % LONG_EVERY == LONG_EVERY - 1 else LIFE))
    daemon.send_signal(signal.SIGKILL)
    daemon.wait()
    kills += 1
    chaotic_seconds = time.monotonic() - started
    synced_at_night = sync_actions(state)

    # Morning: the faults stop, Zendesk serves every ticket whole again, Jira's index catches
    # up, and one daemon settles the rest (quarantined tickets included).
    night.repair_all()
    with zendesk.server.faults.paused(), jira.server.faults.paused(), \
            chat.server.faults.paused(), targets.pagerduty.server.faults.paused(), \
            targets.slack.server.faults.paused():
        clock.advance(timedelta(minutes=10))
        FileClock.publish(clock_file, clock())
        settle = start_daemon(env, clock_file, log, "--settle")
        assert settle_on_a_moving_clock(settle, clock, clock_file) == 0, log.read_text()[-4000:]
        result = check_invariants(night, zendesk=zendesk, jira=jira, chat=chat, state=state,
                                  policy_file=policy, now=clock(), known=known)
        check_targets(result, targets.pagerduty, targets.smtp, targets.slack, zendesk)
        result.synced_at_night = synced_at_night

    faults = {name: dict(twin.server.faults.counts)
              for name, twin in (("zendesk", zendesk), ("jira", jira), ("chat", chat),
                                 ("pagerduty", targets.pagerduty), ("slack", targets.slack))}
    with capsys.disabled():  # the figures belong in every CI log, passing or not
        print("\n" + result.table(kills=kills, seconds=chaotic_seconds, faults=faults))
    assert kills >= KILLS
    assert result.holds, result.table(kills=kills, seconds=chaotic_seconds, faults=faults)
