"""`afterhours run --dry-run`: the whole loop against the twins, and not one write anywhere
(neither in a SQLite state file nor in a PostgreSQL state database)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from afterhours.adapters.sql import open_database
from afterhours.cli import main
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from factories import wait_for

pytestmark = pytest.mark.integration
POLICY = Path(__file__).parents[1] / "fixtures" / "classic_policy.yaml"
CHANNELS = ("finance", "engineering", "oncall-lead", "support-lead")


def settings_env(
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, state: Path, **extra: str
) -> dict[str, str]:
    """AFTERHOURS_* variables for a daemon on the twins."""
    hooks = {c: chat.webhook_url(c) for c in CHANNELS}
    values = {
        "ZENDESK_URL": zendesk.base_url, "ZENDESK_EMAIL": "bot@example.com",
        "ZENDESK_TOKEN": "zd-secret-token", "JIRA_URL": jira.base_url,
        "JIRA_EMAIL": "bot@example.com", "JIRA_TOKEN": "jira-secret-token",
        "WEBHOOKS": json.dumps(hooks), "POLICY_FILE": str(POLICY), "STATE_DB": str(state),
        # The twins run on the test clock (a Friday evening); the daemon on the real one.
        "LOG_FORMAT": "json", "BACKFILL_HOURS": str(24 * 365 * 20), **extra,
    }
    return {f"AFTERHOURS_{name}": value for name, value in values.items()}


def writes(*twins: ZendeskTwin | JiraTwin | ChatTwin) -> Counter[str]:
    """Every request that is not a GET, per endpoint, across `twins`."""
    return Counter({label: n for twin in twins for label, n in twin.server.requests.items()
                    if not label.startswith("GET ")})


def events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def files_of(state: Path) -> dict[str, bytes]:
    """The state file and any -wal/-shm beside it, byte for byte."""
    return {p.name: p.read_bytes() for p in sorted(state.parent.glob(state.name + "*"))}


def rows_of(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of a PostgreSQL database, the lease and the schema's too."""
    db = open_database(url)
    try:
        tables = [name for (name,) in db.fetchall(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() ORDER BY table_name")]
        return {t: sorted(db.fetchall(f'SELECT * FROM "{t}"'), key=repr)  # noqa: S608
                for t in tables}
    finally:
        db.close()


@dataclass(frozen=True)
class RealState:
    """The state the real passes wrote: its SQLite file (the default), or a PostgreSQL URL."""

    path: Path
    url: str | None

    def contents(self) -> object:
        """All the state holds, to compare before and after: bytes, or rows."""
        return files_of(self.path) if self.url is None else rows_of(self.url)


@pytest.fixture
def state_after_a_real_pass(  # noqa: PLR0917  (fixtures are positional)
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zendesk: ZendeskTwin, jira: JiraTwin,
    chat: ChatTwin, state_url: str,
) -> RealState:
    """The state real passes wrote, with one billing ticket settled for now: in the SQLite
    file AFTERHOURS_STATE_DB names, then in the PostgreSQL database of AFTERHOURS_STATE_URL."""
    user = zendesk.add_user("Bob", "bob@initech.com")["id"]
    for group in ("Finance", "Engineering", "Support", "Support Leads"):
        zendesk.add_group(group)
    zendesk.create_ticket(subject="Refund please", description="double charge",
                          requester_id=user)
    state = tmp_path / "state.sqlite3"
    for name, value in settings_env(zendesk, jira, chat, state).items():
        monkeypatch.setenv(name, value)
    url = None if state_url.startswith("sqlite") else state_url
    if url is not None:
        monkeypatch.setenv("AFTERHOURS_STATE_URL", url)
    # The second pass sees the priority the first one set, and escalates: the ticket is
    # Friday evening's, the daemon's clock is today's.
    assert main(["run", "--once"]) == 0
    assert main(["run", "--once"]) == 0
    assert chat.messages("support-lead")
    return RealState(state, url)


def test_a_dry_run_pass_logs_every_action_and_writes_nothing(
    state_after_a_real_pass: RealState, capsys: pytest.CaptureFixture[str],
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin,
) -> None:
    state = state_after_a_real_pass
    settled = zendesk.ticket(1)
    user = settled["requester_id"]
    bug = zendesk.create_ticket(subject="App crashes on login", description="every time",
                                requester_id=user)["id"]
    capsys.readouterr()
    before, files_before = writes(zendesk, jira, chat), state.contents()
    messages_before = chat.messages()

    assert main(["run", "--once", "--dry-run"]) == 0

    out = capsys.readouterr().err  # the log lines
    assert writes(zendesk, jira, chat) == before
    assert state.contents() == files_before
    assert chat.messages() == messages_before
    assert jira.issues() == []
    assert zendesk.ticket(bug)["tags"] == []
    assert zendesk.ticket(1) == settled
    logged = events(out)
    assert all(e.get("dry_run") is True for e in logged)
    would = [e for e in logged if e["event"].startswith("dryrun.")]
    # The billing ticket is settled in the real ledger: the dry run starts from it. Every
    # line about a ticket carries its id, bound while the ticket is settled.
    assert {e.get("ticket_id") for e in would} == {bug}
    # The run's real clock is days past the twin's Friday: the 24-hour ladder is due too.
    assert {e["key"] for e in would if e["event"] == "dryrun.would_notify"} == {
        f"ticket:{bug}/route:product-bug/notify",
        f"ticket:{bug}/escalation:unresolved-24h/level:1/notify"}
    kinds = Counter(e["event"] for e in would)
    assert kinds["dryrun.would_update"] >= 1
    assert kinds["dryrun.would_create_issue"] == 1
    assert kinds["dryrun.would_link_issue"] == 1  # planned from the fake issue key
    update = next(e for e in would if e["event"] == "dryrun.would_update")
    assert {"action": "AssignGroup", "group": "Engineering"} in update["changes"]
    link = next(e for e in would if e["event"] == "dryrun.would_link_issue")
    assert link["issue_key"] == f"DRYRUN-{bug}"
    assert "engineering" in {e["channel"] for e in would if e["event"] == "dryrun.would_notify"}
    assert "secret-token" not in out
    assert "/hooks/" not in out  # a webhook URL is a secret too


def test_a_dry_run_daemon_runs_passes_until_sigterm_and_writes_nothing(
    tmp_path: Path, state_after_a_real_pass: RealState, zendesk: ZendeskTwin, jira: JiraTwin,
    chat: ChatTwin,
) -> None:
    state = state_after_a_real_pass
    zendesk.create_ticket(subject="Invoice is wrong", description="charged twice",
                          requester_id=zendesk.ticket(1)["requester_id"])
    before, files_before = writes(zendesk, jira, chat), state.contents()
    log = tmp_path / "daemon.log"
    env = {**os.environ, **settings_env(zendesk, jira, chat, state.path, POLL_INTERVAL="0.05")}
    with log.open("w") as out:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "afterhours", "run", "--dry-run"], stdout=out,
            stderr=subprocess.STDOUT, env=env,
        )
    try:
        def passes() -> int:
            return sum(e["event"] == "pass.completed" for e in events(log.read_text()))

        wait_for(lambda: passes() >= 3)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=15) == 0
    finally:
        if daemon.poll() is None:  # pragma: no cover  (only when the test already failed)
            daemon.kill()
            daemon.wait()
    logged = events(log.read_text())
    assert logged[-1]["event"] == "daemon.stopped"
    notified = [e for e in logged if e["event"] == "dryrun.would_notify"]
    # The route on the first pass; on the next, the escalation its new priority makes due
    # (the live daemon's second pass); each once, as the throwaway ledger remembers.
    assert [e["channel"] for e in notified] == ["finance", "support-lead"]
    assert writes(zendesk, jira, chat) == before
    assert state.contents() == files_before
