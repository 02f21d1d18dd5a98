"""The status page over real HTTP on 127.0.0.1, on the state a demo night left: on call now
and next, the passes, pending escalations with their due times (the planner's verdicts),
the latest actions and the policy in force with a refused reload; no secret, no ticket text.
Off unless AFTERHOURS_STATUS_PAGE=true, which needs AFTERHOURS_HTTP_LISTEN."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from afterhours.adapters.state import SqliteState
from afterhours.clock import ManualClock
from afterhours.demo.night import END, TICKETS, DemoNight
from afterhours.ops.health import Health
from afterhours.ops.metrics import Metrics
from afterhours.ops.server import HttpServer, build_app
from afterhours.ops.status_page import status_routes
from afterhours.policy import load_policy
from afterhours.settings import Settings

pytestmark = pytest.mark.integration
POLICY = load_policy(Path(__file__).parents[2] / "config" / "policy.yaml")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    state = tmp_path_factory.mktemp("status") / "state.sqlite3"
    with DemoNight(POLICY.policy, state) as night:
        night.run()
    clock = ManualClock(END)
    store = SqliteState(state)
    try:
        store.record(at=END - timedelta(hours=31), ticket_id=None, outcome="policy_loaded",
                     reason="policy config/policy.yaml in force",
                     detail={"sha256": POLICY.sha256})
        store.record(at=END - timedelta(hours=1), ticket_id=None,
                     outcome="policy_reload_failed",
                     reason="policy config/policy.yaml rejected (sighup); the previous policy"
                     " stays in force",
                     detail={"problems": ["config/policy.yaml:3:1: version: must be 1"]})
    finally:
        store.close()
    health = Health(clock, poll_interval=60)
    health.policy_in_force(POLICY.sha256)
    health.pass_finished()
    routes = status_routes(lambda: SqliteState(state), lambda: POLICY.policy, health, clock,
                           60.0)
    server = HttpServer(build_app(health, Metrics(clock), routes), "127.0.0.1:0").start()
    try:
        yield server.url, state
    finally:
        server.stop()


def get(url: str) -> httpx.Response:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return response


def test_the_json_says_who_is_on_call_the_passes_and_the_policy(
        served: tuple[str, Path]) -> None:
    data: dict[str, Any] = get(served[0] + "/status.json").json()
    team = data["oncall"][0]
    assert team["team"] == "support-leads"
    assert team["now"]["primary"] == "alex.lead@acme.example"  # as the night's pages said
    assert team["next"]["primary"] == "sam.lead@acme.example"  # from Monday 09:00
    assert team["now"]["until"] == team["next"]["from"]
    assert data["last_pass_at"] == END.isoformat()
    assert data["next_pass_by"] == (END + timedelta(seconds=60)).isoformat()
    policy = data["policy"]
    assert policy["sha256"] == POLICY.sha256
    assert policy["loaded_at"] == (END - timedelta(hours=31)).isoformat()
    assert policy["refused"].startswith("policy config/policy.yaml rejected")
    assert policy["problems"] == ["config/policy.yaml:3:1: version: must be 1"]


def test_pending_escalations_fall_due_as_the_planner_says(served: tuple[str, Path]) -> None:
    pending = get(served[0] + "/status.json").json()["pending_escalations"]
    assert pending, "the night left open tickets with levels to come"
    dues = [p["due"] for p in pending]
    assert dues == sorted(dues)
    assert all(d > END.isoformat() for d in dues)
    # The password ticket (normal, Saturday 01:15): the team lead 24 hours on.
    assert {"ticket_id": 5, "priority": "normal", "ladder": "unresolved-24h",
            "level": "team-lead", "due": "2026-11-22T01:15:00+00:00"} in pending


def test_the_latest_actions_carry_their_reasons(served: tuple[str, Path]) -> None:
    actions = get(served[0] + "/status.json").json()["latest_actions"]
    assert len(actions) == 20
    assert all(a["reason"] and a["outcome"] for a in actions)
    assert actions[0]["at"] >= actions[-1]["at"]  # newest first


def test_the_page_shows_no_ticket_text_and_no_secret(served: tuple[str, Path]) -> None:
    page = get(served[0] + "/status")
    assert page.headers["content-type"].startswith("text/html")
    for part in ("On call", "Escalations pending", "Latest actions", "Policy in force",
                 "Refused at"):
        assert part in page.text
    both = page.text + get(served[0] + "/status.json").text
    for ticket in TICKETS:
        assert ticket.subject not in both
        assert ticket.description.splitlines()[0] not in both
    assert "afterhours filed this ticket" not in both  # a note's body (audit detail)
    assert "demo-token" not in both


def test_the_page_needs_the_server_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"ZENDESK_URL": "https://acme.zendesk.com", "ZENDESK_EMAIL": "a@b.c",
                        "ZENDESK_TOKEN": "t", "JIRA_URL": "https://acme.atlassian.net",
                        "JIRA_EMAIL": "a@b.c", "JIRA_TOKEN": "t",
                        "STATUS_PAGE": "true"}.items():
        monkeypatch.setenv(f"AFTERHOURS_{name}", value)
    with pytest.raises(ValidationError, match="AFTERHOURS_HTTP_LISTEN is not set"):
        Settings()
    monkeypatch.setenv("AFTERHOURS_HTTP_LISTEN", "127.0.0.1:0")
    assert Settings().status_page is True
