"""`afterhours run` in push mode, as deployed: a process of its own on the twins, its poll an
hour apart; a ticket pushed by the Zendesk twin is handled long before the next poll."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from afterhours.cli import main
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from integration.test_ops_daemon import a_refund, environment, events, wait_for

pytestmark = pytest.mark.integration
SECRET = "zd-signing-secret"


def test_run_takes_a_signed_push_and_acts_before_the_next_poll(
    tmp_path: Path, zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin,
) -> None:
    settings = {**os.environ, **environment(tmp_path, zendesk, jira, chat),
                "AFTERHOURS_HTTP_LISTEN": "127.0.0.1:0", "AFTERHOURS_POLL_INTERVAL": "3600",
                "AFTERHOURS_ZENDESK_WEBHOOK_SECRET_FILE": str(tmp_path / "secret")}
    (tmp_path / "secret").write_text(SECRET + "\n")  # a mounted secret, newline and all
    log = tmp_path / "daemon.log"
    with log.open("w") as out:
        daemon = subprocess.Popen([sys.executable, "-m", "afterhours", "run"], stdout=out,
                                  stderr=subprocess.STDOUT, env=settings)
    try:
        wait_for(lambda: events(log.read_text(), "pass.completed"), daemon, log)
        [listening] = events(log.read_text(), "http.listening")
        refund = a_refund(zendesk)  # after the first poll; the next is an hour away
        # The daemon runs on the real clock: the delivery is signed on it, as Zendesk's are.
        hook = zendesk.webhook(f"http://127.0.0.1:{listening['port']}/webhooks/zendesk", SECRET)
        assert hook.send(refund, signed_at=datetime.now(UTC)).status_code == 202
        wait_for(lambda: len(chat.messages("finance")) == 1, daemon, log)
        assert hook.send(refund).status_code == 401  # signed on the twin's clock: weeks ago
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=30)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    assert code == 0
    assert len(events(log.read_text(), "pass.completed")) == 2  # the poll, then the push's
    assert SECRET not in log.read_text()
    assert "Traceback" not in log.read_text()


def test_a_webhook_secret_without_a_server_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in {"ZENDESK_URL": "https://acme.zendesk.com", "ZENDESK_EMAIL": "a@b.c",
                        "ZENDESK_TOKEN": "t", "JIRA_URL": "https://acme.atlassian.net",
                        "JIRA_EMAIL": "a@b.c", "JIRA_TOKEN": "t",
                        "ZENDESK_WEBHOOK_SECRET": SECRET}.items():
        monkeypatch.setenv(f"AFTERHOURS_{name}", value)
    assert main(["run", "--once"]) == 2
    error = capsys.readouterr().err
    assert "AFTERHOURS_ZENDESK_WEBHOOK_SECRET set, but AFTERHOURS_HTTP_LISTEN is not" in error
    assert SECRET not in error
