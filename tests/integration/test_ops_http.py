"""The daemon's HTTP server over the twins: /healthz, /readyz and /metrics as ops read them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from afterhours.bootstrap import build_reloader, build_service
from afterhours.clock import ManualClock
from afterhours.logs import configure_logging
from afterhours.ops.server import HttpServer, build_app, start_server
from afterhours.policy import load_policy
from afterhours.retrying import RetryPolicy
from afterhours.service import Service
from afterhours.settings import Settings
from afterhours.twins.chat import ChatTwin
from afterhours.twins.faults import FaultRule
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin

pytestmark = pytest.mark.integration
POLICY = Path(__file__).parents[2] / "config" / "policy.yaml"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def settings(tmp_path: Path, zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin) -> Settings:
    policy = tmp_path / "policy.yaml"
    shutil.copy(POLICY, policy)
    channels = load_policy(policy).policy.channels
    return Settings(
        zendesk_url=zendesk.base_url, zendesk_email="bot@example.com",
        zendesk_token=SecretStr("zd-secret"), jira_url=jira.base_url,
        jira_email="bot@example.com", jira_token=SecretStr("jira-secret"),
        webhooks={c: SecretStr(chat.webhook_url(c)) for c in channels},
        policy_file=policy, state_db=tmp_path / "state.sqlite3",
    )


@pytest.fixture
def daemon(settings: Settings, clock: ManualClock) -> Iterator[tuple[Service, HttpServer]]:
    """A service on the twins with its HTTP server on a free port of 127.0.0.1."""
    loaded = load_policy(settings.policy_file)
    service = build_service(settings, loaded.policy, clock=clock,
                            retry=RetryPolicy(attempts=2, sleep=lambda _: None))
    service.health.policy_in_force(loaded.sha256)
    server = start_server("127.0.0.1:0", service.health, service.metrics)
    try:
        yield service, server
    finally:
        server.stop()
        service.close()


def tickets(zendesk: ZendeskTwin) -> tuple[int, int]:
    """A billing ticket and a product bug (filed in Jira), created after hours."""
    user = zendesk.add_user("Bob", "bob@initech.com")["id"]
    for group in ("Finance", "Engineering", "Support Leads"):
        zendesk.add_group(group)
    refund = zendesk.create_ticket(subject="Refund please", description="double charge",
                                   requester_id=user)["id"]
    bug = zendesk.create_ticket(subject="App crashes on login", description="every time",
                                requester_id=user)["id"]
    return refund, bug


def scrape(server: HttpServer) -> Samples:
    response = httpx.get(f"{server.url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[sample.name, frozenset(sample.labels.items())] = sample.value
    return found


def at(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def test_healthz_says_the_process_is_alive(daemon: tuple[Service, HttpServer]) -> None:
    _, server = daemon
    response = httpx.get(f"{server.url}/healthz")
    assert (response.status_code, response.text) == (200, "ok")


def test_readyz_follows_the_passes_and_says_why_not(
    daemon: tuple[Service, HttpServer], clock: ManualClock, zendesk: ZendeskTwin
) -> None:
    service, server = daemon
    tickets(zendesk)
    starting = httpx.get(f"{server.url}/readyz")
    assert starting.status_code == 200  # within the start-up grace
    assert starting.json()["last_pass_at"] is None

    clock.advance(timedelta(seconds=181))  # 3 x the default 60 s interval, and one more
    late = httpx.get(f"{server.url}/readyz")
    assert late.status_code == 503
    assert late.json()["reasons"] == ["no pass has finished in 181 s since start (allowed: 180 s)"]

    service.run_pass()
    ready = httpx.get(f"{server.url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["ready"] is True
    assert ready.json()["last_pass_at"] == clock().isoformat()
    assert ready.json()["policy_sha256"] == load_policy(POLICY).sha256

    clock.advance(timedelta(seconds=181))
    stale = httpx.get(f"{server.url}/readyz")
    assert stale.status_code == 503
    assert stale.json()["reasons"] == ["the last pass finished 181 s ago (allowed: 180 s)"]


def test_readyz_fails_once_the_state_store_has_failed_repeatedly(
    daemon: tuple[Service, HttpServer],
) -> None:
    service, server = daemon
    service.run_pass()
    service.state.close()  # the store is gone from under the daemon
    for passes in range(1, 4):
        with pytest.raises(Exception, match="closed database"):
            service.run_pass()
        answer = httpx.get(f"{server.url}/readyz")
        assert answer.status_code == (200 if passes < 3 else 503)
    [reason] = answer.json()["reasons"]
    assert reason.startswith("the state store failed 3 times in a row: StateError: ")
    assert reason.endswith(": Cannot operate on a closed database.")
    assert at(scrape(server), "afterhours_passes_total", result="crashed") == 3


def test_metrics_after_a_pass_over_the_twins(
    daemon: tuple[Service, HttpServer], clock: ManualClock, zendesk: ZendeskTwin, chat: ChatTwin
) -> None:
    service, server = daemon
    tickets(zendesk)
    clock.advance(timedelta(minutes=2))
    assert service.run_pass().result == "ok"
    found = scrape(server)

    assert at(found, "afterhours_passes_total", result="ok") == 1
    assert at(found, "afterhours_passes_total", result="failed") == 0
    assert at(found, "afterhours_pass_duration_seconds_count") == 1
    assert at(found, "afterhours_leader") == 1
    assert at(found, "afterhours_actions_total", kind="AddTags", outcome="done") == 5
    assert at(found, "afterhours_actions_total", kind="CreateJiraIssue", outcome="done") == 1
    assert at(found, "afterhours_actions_total", kind="NotifyChannel", outcome="done") == 2
    export = "GET /api/v2/incremental/tickets/cursor.json"
    assert at(found, "afterhours_api_requests_total",
              service="zendesk", endpoint=export, status="200") == 1
    # Both tickets' changes in one update_many job, followed once; the notes after the
    # public replies (one comment an update) in a second job.
    assert at(found, "afterhours_api_requests_total", service="zendesk",
              endpoint="PUT /api/v2/tickets/update_many.json", status="200") == 2
    assert at(found, "afterhours_api_requests_total", service="zendesk",
              endpoint="GET /api/v2/job_statuses/{id}.json", status="200") == 2
    assert at(found, "afterhours_api_requests_total", service="zendesk",
              endpoint="PUT /api/v2/tickets/{id}.json", status="200") is None
    assert at(found, "afterhours_api_requests_total",
              service="jira", endpoint="POST /rest/api/3/issue/bulk", status="201") == 1
    assert at(found, "afterhours_api_requests_total", service="jira",
              endpoint="POST /rest/api/2/issue/{key}/remotelink", status="201") == 1
    assert at(found, "afterhours_api_requests_total",
              service="chat", endpoint="POST {webhook}", status="200") == 2
    # Both tickets came in this pass, two minutes after they were filed.
    assert at(found, "afterhours_ticket_handling_lag_seconds_count") == 2
    assert at(found, "afterhours_ticket_handling_lag_seconds_bucket", le="60.0") == 0
    assert at(found, "afterhours_ticket_handling_lag_seconds_bucket", le="120.0") == 2
    assert at(found, "afterhours_export_cursor_age_seconds") == 0
    clock.advance(timedelta(seconds=45))
    assert at(scrape(server), "afterhours_export_cursor_age_seconds") == 45

    # No series per ticket, issue or webhook: every label is a template.
    text = httpx.get(f"{server.url}/metrics").text
    assert "ENG-1" not in text
    assert chat.webhook_url("finance") not in text
    assert "/hooks/" not in text


def test_escalations_retries_and_reloads_are_counted(
    daemon: tuple[Service, HttpServer],
    clock: ManualClock,
    zendesk: ZendeskTwin,
    chat: ChatTwin,
    settings: Settings,
) -> None:
    service, server = daemon
    tickets(zendesk)
    service.run_pass()
    clock.advance(timedelta(hours=25))  # the 24-hour ladder is due on both tickets
    chat.server.faults.add(FaultRule(endpoint="POST *", reset_rate=1.0))
    assert service.run_pass().result == "deferred"  # the page waits for the next pass
    found = scrape(server)
    assert at(found, "afterhours_escalations_total",
              ladder="unresolved-24h", level="team-lead") == 2
    # The first ticket's page is tried twice; the third failure in a row opens the channel's
    # breaker, so the second ticket's page is deferred after one try and no retry.
    assert at(found, "afterhours_retries_total", operation="chat.notify") == 1
    assert at(found, "afterhours_api_requests_total",
              service="chat", endpoint="POST {webhook}", status="error") == 3
    assert at(found, "afterhours_actions_total", kind="NotifyChannel", outcome="deferred") == 2

    reloader = build_reloader(settings, service, load_policy(settings.policy_file))
    text = settings.policy_file.read_text(encoding="utf-8")
    settings.policy_file.write_text(text + "\n# edited\n", encoding="utf-8")
    assert reloader.reload_if_changed()
    settings.policy_file.write_text(text + "\nroutes: [\n", encoding="utf-8")
    assert not reloader.reload_if_changed()
    found = scrape(server)
    assert at(found, "afterhours_policy_reloads_total", result="ok") == 1
    assert at(found, "afterhours_policy_reloads_total", result="failed") == 1
    assert httpx.get(f"{server.url}/readyz").json()["policy_sha256"] == reloader.sha256


def test_every_line_of_a_pass_carries_its_id_and_a_tickets_lines_its_ticket(
    daemon: tuple[Service, HttpServer],
    zendesk: ZendeskTwin,
    chat: ChatTwin,
    capsys: pytest.CaptureFixture[str],
) -> None:
    service, _ = daemon
    refund, bug = tickets(zendesk)
    configure_logging("json", "debug")
    chat.server.faults.add(FaultRule(endpoint="POST *", reset_rate=1.0))
    capsys.readouterr()
    service.run_pass()
    service.run_pass()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]

    assert all("pass_id" in line for line in lines)
    first, second = (line["pass_id"] for line in lines if line["event"] == "pass.completed")
    assert first != second
    assert {line["pass_id"] for line in lines} == {first, second}
    about_tickets = [line for line in lines if line["event"].startswith(("action.", "retry."))]
    assert about_tickets
    assert all("ticket_id" in line for line in about_tickets)
    # The retry policy knows nothing of tickets: the id on its line is the bound one.
    retries = [line for line in lines if line["event"] == "retry.scheduled"]
    assert retries
    assert {line["ticket_id"] for line in retries} == {refund, bug}
    # Lines about the pass as a whole carry no ticket id.
    assert all("ticket_id" not in line for line in lines
               if line["event"] in ("pass.completed", "zendesk.page_read"))


def test_later_routes_mount_on_the_same_server(daemon: tuple[Service, HttpServer]) -> None:
    service, _ = daemon

    async def status(_: Request) -> PlainTextResponse:
        return PlainTextResponse("a status page")

    app = build_app(service.health, service.metrics, [Route("/status", status)])
    server = HttpServer(app, "127.0.0.1:0").start()
    try:
        assert httpx.get(f"{server.url}/status").text == "a status page"
        assert httpx.get(f"{server.url}/healthz").text == "ok"
    finally:
        server.stop()
