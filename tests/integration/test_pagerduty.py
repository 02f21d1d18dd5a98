"""PagerDuty over real HTTP on its twin: the Events API adapter's answers, then the daemon
paging a P1 once (through retries and a kill between send and record) and resolving the
incident when the ticket is answered."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from afterhours.adapters.pagerduty import PagerDutyPager
from afterhours.bootstrap import build_service
from afterhours.clock import ManualClock
from afterhours.domain.actions import ResolvePage, TriggerPage
from afterhours.errors import PermanentError, TransientError
from afterhours.policy import load_policy
from afterhours.retrying import RetryPolicy
from afterhours.service import Service
from afterhours.settings import Settings
from afterhours.twins.chat import ChatTwin
from afterhours.twins.faults import FaultRule
from afterhours.twins.jira import JiraTwin
from afterhours.twins.pagerduty import PagerDutyTwin
from afterhours.twins.zendesk import ZendeskTwin
from factories import daemon_on, killed_after_sending, paging_environment, paging_policy

pytestmark = pytest.mark.integration

POLICY = paging_policy()
PAGE = "ticket:{id}/escalation:p1/level:page/page"


_opened: list[PagerDutyPager] = []


@pytest.fixture(autouse=True)
def _close_pagers() -> Iterator[None]:
    yield
    while _opened:
        _opened.pop().close()


def pager(twin: PagerDutyTwin, key: str, *, attempts: int = 3,
          sleeps: list[float] | None = None) -> PagerDutyPager:
    retry = RetryPolicy(attempts=attempts, sleep=(sleeps if sleeps is not None else []).append)
    opened = PagerDutyPager({"pager": SecretStr(key)}, events_url=twin.base_url, retry=retry)
    _opened.append(opened)
    return opened


def page(dedup: str = "ticket:7/escalation:p1/level:page/page") -> TriggerPage:
    return TriggerPage(7, "pager", dedup, "Zendesk #7 (urgent): Production is down",
                       "critical", "https://acme.zendesk.com/agent/tickets/7",
                       (("ticket", "7"),))


def test_a_trigger_opens_one_incident_however_often_it_is_sent(
        pagerduty: PagerDutyTwin) -> None:
    key = pagerduty.add_service("Support")
    adapter = pager(pagerduty, key)
    adapter.trigger(page())
    adapter.trigger(page())
    (incident,) = pagerduty.incidents()
    assert incident.status == "triggered"
    assert incident.triggers == 2
    assert incident.title == "Zendesk #7 (urgent): Production is down"
    assert incident.severity == "critical"
    assert incident.links == [{"href": "https://acme.zendesk.com/agent/tickets/7",
                               "text": "Zendesk ticket #7"}]
    (event, _) = pagerduty.events
    assert event["payload"]["source"] == "acme.zendesk.com"
    assert event["payload"]["custom_details"] == {"ticket": "7"}


def test_a_resolve_closes_the_incident_and_a_second_is_dropped(
        pagerduty: PagerDutyTwin) -> None:
    adapter = pager(pagerduty, pagerduty.add_service("Support"))
    adapter.trigger(page())
    resolve = ResolvePage(7, "pager", "ticket:7/escalation:p1/level:page/page")
    adapter.resolve(resolve)
    adapter.resolve(resolve)
    assert [i.status for i in pagerduty.incidents()] == ["resolved"]
    adapter.trigger(page())  # resolved: the same key opens a new incident
    assert [i.status for i in pagerduty.incidents()] == ["resolved", "triggered"]


def test_a_refused_event_is_permanent_with_pagerdutys_message(
        pagerduty: PagerDutyTwin) -> None:
    pagerduty.add_service("Support")
    unknown = pager(pagerduty, "0" * 32)
    with pytest.raises(PermanentError, match="Event object is invalid: Invalid routing key"):
        unknown.trigger(page())
    adapter = pager(pagerduty, pagerduty.add_service("Other"))
    with pytest.raises(PermanentError, match=r"'dedup_key' must be a string of at most 255"):
        adapter.trigger(page("k" * 256))
    assert pagerduty.incidents() == []


def test_a_throttled_event_is_retried_after_the_rate_limit(pagerduty: PagerDutyTwin) -> None:
    sleeps: list[float] = []
    adapter = pager(pagerduty, pagerduty.add_service("Support"), sleeps=sleeps)
    pagerduty.refuse_next(1, 429, retry_after=7)
    adapter.trigger(page())
    assert sleeps[0] >= 7
    assert len(pagerduty.incidents()) == 1


def test_a_pagerduty_outage_is_transient(pagerduty: PagerDutyTwin) -> None:
    adapter = pager(pagerduty, pagerduty.add_service("Support"), attempts=2)
    pagerduty.refuse_next(2, 503)
    with pytest.raises(TransientError, match="HTTP 503"):
        adapter.trigger(page())
    assert pagerduty.incidents() == []


def test_an_answer_lost_after_the_event_landed_is_one_incident(pagerduty: PagerDutyTwin) -> None:
    adapter = pager(pagerduty, pagerduty.add_service("Support"))
    pagerduty.server.faults.add(FaultRule("POST /v2/enqueue", drop_after_commit_rate=1.0))
    with pytest.raises(TransientError):
        adapter.trigger(page())
    pagerduty.server.faults.clear()
    adapter.trigger(page())
    (incident,) = pagerduty.incidents()
    assert incident.triggers >= 2


@pytest.fixture
def daemon(  # noqa: PLR0917  (pytest fixtures)
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, pagerduty: PagerDutyTwin,
    clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Service]:
    environment = paging_environment(zendesk, jira, chat, pagerduty, POLICY, tmp_path)
    with daemon_on(environment, tmp_path, clock, monkeypatch) as built:
        yield built


def outage(zendesk: ZendeskTwin, clock: ManualClock) -> int:
    customer = int(zendesk.add_user("Alice Chen", "alice@globex.com")["id"])
    return int(zendesk.create_ticket(subject="Production API is down", description="503s.",
                                     requester_id=customer, created_at=clock())["id"])


def test_a_p1_after_hours_pages_once_and_is_resolved_when_answered(
        daemon: Service, zendesk: ZendeskTwin, pagerduty: PagerDutyTwin, chat: ChatTwin,
        clock: ManualClock) -> None:
    ticket = outage(zendesk, clock)
    clock.advance(timedelta(minutes=2))
    daemon.run_pass()
    (incident,) = pagerduty.incidents()
    assert incident.incident_key == PAGE.format(id=ticket)
    assert incident.title == (f"Zendesk #{ticket} (urgent) escalation p1 level 1: "
                              "Production API is down")
    assert incident.severity == "critical"
    assert len(chat.messages("desk")) == 1  # the chat channel of the same level
    clock.advance(timedelta(minutes=30))
    daemon.run_pass()  # the level repeats: the same incident, not a second one
    assert [(i.status, i.triggers) for i in pagerduty.incidents()] == [("triggered", 2)]
    agent = int(zendesk.add_user("Sam Agent", "sam@acme.example", role="agent")["id"])
    zendesk.add_comment(ticket, "We are on it.", author_id=agent)
    clock.advance(timedelta(minutes=2))
    daemon.run_pass()
    assert [i.status for i in pagerduty.incidents()] == ["resolved"]
    latest = f"ticket:{ticket}/escalation:p1/level:page/repeat:1/page"
    assert daemon.state.ledger_status(latest + "/resolve") == "done"
    clock.advance(timedelta(hours=2))
    daemon.run_pass()
    assert len(pagerduty.events) == 3  # two triggers, one resolve: nothing more


def test_a_kill_between_the_page_and_its_record_pages_one_incident(
        daemon: Service, zendesk: ZendeskTwin, pagerduty: PagerDutyTwin,
        clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    ticket = outage(zendesk, clock)
    clock.advance(timedelta(minutes=2))
    killed_after_sending(daemon, "trigger_page")
    assert daemon.state.ledger_status(PAGE.format(id=ticket)) == "intended"
    clock.advance(timedelta(minutes=1))
    daemon.run_pass()  # the page is tried again, with the same dedup_key
    assert daemon.state.ledger_status(PAGE.format(id=ticket)) == "done"
    (incident,) = pagerduty.incidents()
    assert incident.triggers == 2
    assert {e["dedup_key"] for e in pagerduty.events} == {PAGE.format(id=ticket)}


def test_a_ticket_solved_after_the_page_resolves_its_incident(
        daemon: Service, zendesk: ZendeskTwin, pagerduty: PagerDutyTwin,
        clock: ManualClock) -> None:
    ticket = outage(zendesk, clock)
    clock.advance(timedelta(minutes=2))
    daemon.run_pass()
    pagerduty.refuse_next(3, 503)  # PagerDuty is down when the ticket is solved
    zendesk.agent_update(ticket, status="solved")
    clock.advance(timedelta(minutes=2))
    daemon.run_pass()
    assert [i.status for i in pagerduty.incidents()] == ["triggered"]
    resolve = PAGE.format(id=ticket) + "/resolve"
    assert daemon.state.ledger_status(resolve) == "intended"
    clock.advance(timedelta(minutes=2))
    daemon.run_pass()  # closed, and still resolved once PagerDuty is back
    assert [i.status for i in pagerduty.incidents()] == ["resolved"]
    assert daemon.state.ledger_status(resolve) == "done"


def test_a_kill_between_storing_a_solved_ticket_and_its_resolve_is_made_good(  # noqa: PLR0917
        daemon: Service, zendesk: ZendeskTwin, pagerduty: PagerDutyTwin, clock: ManualClock,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ticket = outage(zendesk, clock)
    clock.advance(timedelta(minutes=2))
    daemon.run_pass()
    zendesk.agent_update(ticket, status="solved")
    clock.advance(timedelta(minutes=2))
    with monkeypatch.context() as killed:  # the export stores it, then the daemon dies
        killed.setattr(daemon, "_resolve_closed", lambda report: None)
        daemon.run_pass()
    assert [i.status for i in pagerduty.incidents()] == ["triggered"]
    daemon.close()
    restarted = build_service(Settings(), load_policy(tmp_path / "policy.yaml").policy,
                              clock=clock, retry=RetryPolicy.disabled())
    with closing(restarted):
        clock.advance(timedelta(minutes=1))
        restarted.run_pass()  # the export has nothing new: the first pass looks anyway
    assert [i.status for i in pagerduty.incidents()] == ["resolved"]
