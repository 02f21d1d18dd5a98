"""`afterhours run` as an orchestrator sees it: exit codes that mean something, a clean stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from afterhours.cli import main
from afterhours.twins.chat import ChatTwin
from afterhours.twins.faults import FaultRule
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from factories import twin_environment

pytestmark = pytest.mark.integration
POLICY = Path(__file__).parents[2] / "config" / "policy.yaml"
CHANNELS = ("finance", "engineering", "oncall-lead", "support-lead")
STOP_WITHIN = 10.0  # seconds, as Kubernetes' default grace period of 30 s leaves room for


def environment(tmp_path: Path, zendesk: ZendeskTwin, jira: JiraTwin,
                chat: ChatTwin) -> dict[str, str]:
    """The settings of a daemon on the twins, with the shipped policy."""
    return twin_environment(zendesk, jira, chat, CHANNELS, POLICY, tmp_path / "state.sqlite3")


@pytest.fixture
def env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zendesk: ZendeskTwin, jira: JiraTwin,
    chat: ChatTwin,
) -> dict[str, str]:
    """The daemon's settings on the twins, set in this process's environment too."""
    settings = environment(tmp_path, zendesk, jira, chat)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return settings


def a_refund(zendesk: ZendeskTwin) -> int:
    """A billing ticket: Zendesk changes and a page to finance (and, days later by the real
    clock, the 24-hour ladder's page to the support leads)."""
    user = zendesk.add_user("Bob", "bob@initech.com")["id"]
    for group in ("Finance", "Support Leads"):
        zendesk.add_group(group)
    return int(zendesk.create_ticket(subject="Refund please", description="double charge",
                                     requester_id=user)["id"])


def events(text: str, name: str | None = None) -> list[dict[str, Any]]:
    found = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return [e for e in found if name is None or e["event"] == name]


@pytest.mark.parametrize(
    ("chat_status", "code", "result"),
    [(403, 0, "deferred"), (400, 1, "failed")],
    ids=["refused-hook-deferred-exit-0", "rejected-message-failed-exit-1"],
)
@pytest.mark.usefixtures("env")
def test_run_once_exits_0_when_only_deferred_and_1_when_an_action_failed(  # noqa: PLR0917
    capsys: pytest.CaptureFixture[str], zendesk: ZendeskTwin, chat: ChatTwin,
    chat_status: int, code: int, result: str,
) -> None:
    # A webhook refusing our credentials (403) is tried again by the next pass: the pass did
    # its work. A message the receiver rejects (400) is parked: someone must look.
    a_refund(zendesk)
    chat.server.faults.add(FaultRule(endpoint="POST *", error_rate=1.0, error_status=chat_status))
    capsys.readouterr()

    assert main(["run", "--once"]) == code

    [summary] = events(capsys.readouterr().err, "pass.completed")
    assert summary["result"] == result
    assert summary["done"] > 0  # the Zendesk side went ahead
    if code == 0:
        assert (summary["deferred"] > 0, summary["failed"]) == (True, 0)
    else:
        assert summary["failed"] > 0


@pytest.mark.usefixtures("env")
def test_run_once_exits_1_when_the_export_fails(zendesk: ZendeskTwin) -> None:
    zendesk.server.faults.add(FaultRule(endpoint="GET /api/v2/incremental/*", error_rate=1.0,
                                        error_status=400))
    assert main(["run", "--once"]) == 1


def test_run_with_a_listen_address_that_is_not_host_port_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AFTERHOURS_HTTP_LISTEN", "8080")
    assert main(["run", "--once"]) == 2
    assert "AFTERHOURS_HTTP_LISTEN: expected host:port" in capsys.readouterr().err


@pytest.mark.usefixtures("env")
def test_run_on_a_port_in_use_is_a_usage_error_that_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        monkeypatch.setenv("AFTERHOURS_HTTP_LISTEN", listen)
        assert main(["run", "--once"]) == 2
    assert f"AFTERHOURS_HTTP_LISTEN={listen}: cannot listen" in capsys.readouterr().err


def wait_for(condition: Callable[[], object], process: subprocess.Popen[bytes], log: Path,
             timeout: float = 30.0) -> None:
    """Poll `condition`; fail with the daemon's log if it exits or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"daemon log:\n{log.read_text()}")
        time.sleep(0.02)


def test_sigterm_finishes_the_action_in_hand_closes_the_server_and_exits_0(
    tmp_path: Path, env: dict[str, str], zendesk: ZendeskTwin, chat: ChatTwin
) -> None:
    refund = a_refund(zendesk)
    # Every page takes a second to answer: SIGTERM lands while one is in flight.
    chat.server.faults.add(FaultRule(endpoint="POST *", latency=1.0))
    settings = {**os.environ, **env,
                "AFTERHOURS_HTTP_LISTEN": "127.0.0.1:0", "AFTERHOURS_POLL_INTERVAL": "0.05"}
    log = tmp_path / "daemon.log"
    with log.open("w") as out:
        daemon = subprocess.Popen([sys.executable, "-m", "afterhours", "run"], stdout=out,
                                  stderr=subprocess.STDOUT, env=settings)
    try:
        wait_for(lambda: events(log.read_text(), "http.listening"), daemon, log)
        [listening] = events(log.read_text(), "http.listening")
        url = f"http://127.0.0.1:{listening['port']}"
        assert httpx.get(f"{url}/healthz").text == "ok"
        assert "afterhours_leader 1.0" in httpx.get(f"{url}/metrics").text

        wait_for(lambda: chat.server.faults.snapshot()["latency"] >= 1, daemon, log)
        daemon.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        code = daemon.wait(timeout=30)
        took = time.monotonic() - sent
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()

    assert code == 0
    assert took < STOP_WITHIN
    lines = events(log.read_text())
    assert lines[-1]["event"] == "daemon.stopped"
    assert "Traceback" not in log.read_text()
    # The page in flight was delivered and recorded; nothing was left half done.
    assert len(chat.messages("finance")) == 1
    with sqlite3.connect(f"file:{tmp_path / 'state.sqlite3'}?mode=ro", uri=True) as db:
        left = db.execute("SELECT key FROM ledger WHERE status = 'intended'").fetchall()
        pages = db.execute("SELECT status FROM ledger WHERE ticket_id = ? AND action = ?",
                           (refund, "NotifyChannel")).fetchall()
    assert left == []
    assert pages
    assert {status for (status,) in pages} == {"done"}
    with pytest.raises(httpx.ConnectError):  # the server went with the process
        httpx.get(f"{url}/healthz")
