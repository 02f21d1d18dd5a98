"""Hot reload in the running daemon: edits, a broken edit, SIGHUP, then SIGTERM and a clean exit."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from afterhours.adapters.state import SqliteState
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from factories import UNLIMITED_RATES

pytestmark = pytest.mark.integration
SOP = (Path(__file__).parents[1] / "fixtures" / "classic_policy.yaml").read_text(encoding="utf-8")
CHANNELS = ("finance", "engineering", "oncall-lead", "support-lead")


class Daemon:
    """`afterhours run` as a subprocess whose JSON log lines land in a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "afterhours", "run"], stdout=out,
                stderr=subprocess.STDOUT, env=env,
            )

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        lines = self.log.read_text().splitlines()
        found = [json.loads(line) for line in lines if line.startswith("{")]
        return [e for e in found if name is None or e["event"] == name]

    def wait_for(self, condition: Callable[[], object], *, timeout: float = 15.0) -> None:
        """Poll `condition` every few milliseconds; fail (with the log) after `timeout`."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"daemon log:\n{self.log.read_text()}")
            time.sleep(0.02)

    def next_pass(self) -> None:
        """Wait until a pass that started after now has completed."""
        done = len(self.events("pass.completed"))
        self.wait_for(lambda: len(self.events("pass.completed")) >= done + 2)


def write_atomically(path: Path, text: str) -> None:
    # As editors save: the daemon never reads a half-written file.
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def daemon(
    tmp_path: Path, zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin
) -> Iterator[Daemon]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(SOP, encoding="utf-8")
    settings = {
        "ZENDESK_URL": zendesk.base_url, "ZENDESK_EMAIL": "bot@example.com",
        "ZENDESK_TOKEN": "zd-secret-token", "JIRA_URL": jira.base_url,
        "JIRA_EMAIL": "bot@example.com", "JIRA_TOKEN": "jira-secret-token",
        "WEBHOOKS": json.dumps({c: chat.webhook_url(c) for c in CHANNELS}),
        "POLICY_FILE": str(policy), "STATE_DB": str(tmp_path / "state.sqlite3"),
        "LOG_FORMAT": "json", "POLL_INTERVAL": "0.05",
        # The twins run on the test clock (a Friday evening); the daemon on the real one.
        "BACKFILL_HOURS": str(24 * 365 * 20),
        # A pass every 50 ms reads the export 20 times a second: no limit here.
        **UNLIMITED_RATES,
    }
    env = {**os.environ, **{f"AFTERHOURS_{k}": v for k, v in settings.items()}}
    running = Daemon(env, tmp_path / "daemon.log")
    try:
        running.wait_for(lambda: running.events("pass.completed"))
        yield running
    finally:
        if running.process.poll() is None:  # the test failed before its SIGTERM
            running.process.kill()
            running.process.wait()


def test_the_daemon_takes_a_good_edit_refuses_a_bad_one_and_reloads_on_sighup(
    tmp_path: Path, daemon: Daemon, zendesk: ZendeskTwin
) -> None:
    policy = tmp_path / "policy.yaml"
    for name in ("Finance", "Billing Desk", "Engineering", "Support", "Support Leads"):
        zendesk.add_group(name)
    user = zendesk.add_user("Bob", "bob@initech.com")["id"]

    broken = SOP.replace("    group: Finance", "    gruop: Finance")
    write_atomically(policy, broken)
    daemon.wait_for(lambda: daemon.events("policy.reload_failed"))
    [failed] = daemon.events("policy.reload_failed")
    [problem] = failed["problems"]
    line = 1 + broken.splitlines().index("    gruop: Finance")
    assert problem.startswith(f"{policy}:{line}:5: unknown field 'gruop'")
    daemon.next_pass()  # the old policy goes on working

    edited = SOP.replace("    group: Finance", "    group: Billing Desk")
    write_atomically(policy, edited)
    daemon.wait_for(lambda: daemon.events("policy.reloaded"))
    refund = zendesk.create_ticket(subject="Refund please", description="double charge",
                                   requester_id=user)["id"]
    # The daemon's clock is days past the twin's Friday evening, so the 24-hour ladder moves
    # the ticket on in the same update: the route's choice shows in what was done.
    daemon.wait_for(lambda: any(
        e.get("group") == "Billing Desk" and e.get("ticket_id") == refund
        for e in daemon.events("action.done")))

    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_for(lambda: len(daemon.events("policy.reloaded")) == 2)
    daemon.process.send_signal(signal.SIGTERM)
    assert daemon.process.wait(timeout=15) == 0
    assert daemon.events()[-1]["event"] == "daemon.stopped"

    reloads = [(e["trigger"], e["sha256"]) for e in daemon.events("policy.reloaded")]
    assert reloads == [("file_changed", sha256(edited)), ("sighup", sha256(edited))]
    state = SqliteState(tmp_path / "state.sqlite3")
    try:
        audited = [(r.outcome, r.detail["sha256"]) for r in state.audit()
                   if r.outcome.startswith("policy_")]
    finally:
        state.close()
    assert audited == [
        ("policy_loaded", sha256(SOP)),
        ("policy_reload_failed", sha256(broken)),
        ("policy_reloaded", sha256(edited)),
        ("policy_reloaded", sha256(edited)),
    ]
