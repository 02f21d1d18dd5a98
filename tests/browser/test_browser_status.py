"""The status page of a running `afterhours run` (AFTERHOURS_STATUS_PAGE=true) on 127.0.0.1,
in headless Chromium: each of its tables is there and filled, the console has no error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from chromium import console_errors, screenshot
from selenium import webdriver
from selenium.webdriver.common.by import By

from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from factories import twin_environment

POLICY = Path(__file__).parents[2] / "config" / "policy.yaml"
CHANNELS = ("finance", "engineering", "oncall-lead", "support-lead")


def _listening(log: Path, daemon: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and daemon.poll() is None:
        for line in log.read_text().splitlines():
            if '"http.listening"' in line and '"port"' in line:
                port = line.split('"port": ')[1].split(",")[0].split("}")[0]
                return f"http://127.0.0.1:{port}"
        time.sleep(0.05)
    raise AssertionError(f"the daemon did not listen:\n{log.read_text()}")


@pytest.fixture
def status_url(tmp_path: Path, zendesk: ZendeskTwin, jira: JiraTwin,
               chat: ChatTwin) -> Iterator[str]:
    user = zendesk.add_user("Bob", "bob@initech.com")["id"]
    for group in ("Finance", "Support", "Support Leads"):
        zendesk.add_group(group)
    zendesk.create_ticket(subject="Refund please", description="double charge",
                          requester_id=user)
    settings = {**os.environ,
                **twin_environment(zendesk, jira, chat, CHANNELS, POLICY,
                                   tmp_path / "state.sqlite3"),
                "AFTERHOURS_HTTP_LISTEN": "127.0.0.1:0", "AFTERHOURS_POLL_INTERVAL": "0.2",
                "AFTERHOURS_STATUS_PAGE": "true", "AFTERHOURS_LOG_FORMAT": "json"}
    log = tmp_path / "daemon.log"
    with log.open("w") as out:
        daemon = subprocess.Popen([sys.executable, "-m", "afterhours", "run"], stdout=out,
                                  stderr=subprocess.STDOUT, env=settings)
    try:
        url = _listening(log, daemon)
        deadline = time.monotonic() + 30  # until the first pass has acted on the ticket
        while not httpx.get(f"{url}/status.json").json()["latest_actions"]:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield url
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait()


def test_the_status_page_renders_every_table(browser: webdriver.Chrome,
                                             status_url: str) -> None:
    browser.get(f"{status_url}/status")
    assert browser.title == "afterhours status"
    for table in ("passes", "oncall", "pending", "actions", "policy"):
        rows = browser.find_elements(By.CSS_SELECTOR, f"table#{table} tr")
        assert len(rows) >= 2, f"table {table} is empty"
    oncall = browser.find_element(By.ID, "oncall").text
    assert "support-leads" in oncall
    actions = browser.find_element(By.ID, "actions").text
    assert "route:billing" in actions
    assert "Refund please" not in browser.page_source  # ticket text stays out
    assert console_errors(browser) == []
    screenshot(browser, "status")
