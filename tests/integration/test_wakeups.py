"""The deadline index through the twins: a ticket falls due without changing, a reload
re-plans every open ticket, and a quiet pass reads what is due, not what is open."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from afterhours.bootstrap import build_reloader, build_service
from afterhours.clock import ManualClock
from afterhours.domain.model import Ticket
from afterhours.policy import load_policy
from afterhours.retrying import RetryPolicy
from afterhours.service import Service
from afterhours.settings import Settings
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from factories import twin_environment

pytestmark = pytest.mark.integration

SOP = Path(__file__).parents[2] / "config" / "policy.yaml"
# One more ladder for every ticket: a new policy that has something to do for each at once.
WATCH = """
    - id: weekend-watch
      name: weekend-watch
      levels:
        - id: look
          after_minutes: 0
          until: solved
          notify: support-lead
"""


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(SOP.read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.fixture
def settings(  # noqa: PLR0917  (pytest fixtures)
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, tmp_path: Path,
    policy_file: Path, monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    for name in ("Support", "Finance", "Engineering", "Support Leads"):
        zendesk.add_group(name)
    channels = load_policy(policy_file).policy.channels
    state = tmp_path / "state.sqlite3"
    for name, value in twin_environment(zendesk, jira, chat, channels, policy_file,
                                        state).items():
        monkeypatch.setenv(name, value)
    return Settings()


@pytest.fixture
def service(settings: Settings, clock: ManualClock, policy_file: Path) -> Iterator[Service]:
    """The daemon as `afterhours run` builds it, on the twins; retries do not wait."""
    with closing(build_service(settings, load_policy(policy_file).policy, clock=clock,
                               retry=RetryPolicy(attempts=2, sleep=lambda _: None))) as built:
        yield built


@pytest.fixture
def customer(zendesk: ZendeskTwin) -> int:
    return int(zendesk.add_user("Bob Ortiz", "bob@initech.com")["id"])


def file(zendesk: ZendeskTwin, clock: ManualClock, customer: int, subject: str) -> int:
    return int(zendesk.create_ticket(subject=subject, description=f"{subject}. Please help.",
                                     requester_id=customer, created_at=clock())["id"])


class Reads:
    """Counts the snapshots a pass reads from the state, and the tickets it plans."""

    def __init__(self, service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
        self.snapshots: list[int] = []
        read: Callable[..., list[Ticket]] = service.state.tickets

        def tickets(ids: Any) -> list[Ticket]:
            found = read(ids)
            self.snapshots += [t.id for t in found]
            return found

        monkeypatch.setattr(service.state, "tickets", tickets)

    def during(self, run: Callable[[], object]) -> list[int]:
        """The ids of the snapshots read while `run` runs."""
        self.snapshots = []
        run()
        return self.snapshots


def test_a_ticket_falls_due_without_changing(  # noqa: PLR0917  (pytest fixtures)
    service: Service, zendesk: ZendeskTwin, chat: ChatTwin, clock: ManualClock, customer: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads = Reads(service, monkeypatch)
    filed = clock()
    p1 = file(zendesk, clock, customer, "Production is down")
    clock.advance(timedelta(minutes=2))
    assert reads.during(service.run_pass) == [p1]  # triaged, paged at once
    assert len(chat.messages("oncall-lead")) == 1
    clock.advance(timedelta(minutes=1))
    assert reads.during(service.run_pass) == [p1]  # the export's echo of our own update
    # Its next deadline: the on-call lead is paged again 30 minutes in (the SOP).
    assert service.state.wake_at(p1) == filed + timedelta(minutes=30)
    stamp = zendesk.ticket(p1)["updated_at"]

    clock.advance(timedelta(minutes=10))
    assert reads.during(service.run_pass) == []  # nothing changed, nothing due
    clock.set(filed + timedelta(minutes=30))
    report = service.run_pass()
    assert zendesk.ticket(p1)["updated_at"] != stamp  # the note of the level that fell due
    assert report.tickets_planned == 1
    pages = chat.messages("oncall-lead")
    assert len(pages) == 2
    assert "escalation p1-after-hours level 2" in pages[-1]


def test_a_reload_plans_every_open_ticket_again(  # noqa: PLR0917  (pytest fixtures)
    service: Service, settings: Settings, policy_file: Path, zendesk: ZendeskTwin,
    chat: ChatTwin, clock: ManualClock, customer: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads = Reads(service, monkeypatch)
    ids = [file(zendesk, clock, customer, subject) for subject in
           ("Invoice missing", "How do I add a user?", "Feature request")]
    clock.advance(timedelta(minutes=2))
    service.run_pass()
    clock.advance(timedelta(minutes=1))
    service.run_pass()  # the echo
    clock.advance(timedelta(minutes=1))
    assert reads.during(service.run_pass) == []
    before = len(chat.messages("support-lead"))

    reloader = build_reloader(settings, service, load_policy(policy_file))
    policy_file.write_text(policy_file.read_text(encoding="utf-8").replace(
        "\n    - id: unresolved-24h", WATCH.rstrip("\n") + "\n    - id: unresolved-24h"),
        encoding="utf-8")
    assert reloader.reload_if_changed()
    clock.advance(timedelta(minutes=1))
    assert reads.during(service.run_pass) == ids  # none changed: all planned once more
    assert len(chat.messages("support-lead")) == before + len(ids)
    clock.advance(timedelta(minutes=1))
    service.run_pass()  # the echo of the new notes
    clock.advance(timedelta(minutes=1))
    assert reads.during(service.run_pass) == []  # and then at rest again


def test_a_quiet_pass_reads_what_is_due_not_what_is_open(
    service: Service, zendesk: ZendeskTwin, clock: ManualClock, customer: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads = Reads(service, monkeypatch)
    filed = clock()
    calm = [file(zendesk, clock, customer, f"How do I add user {n}?") for n in range(60)]
    clock.advance(timedelta(minutes=5))
    urgent = file(zendesk, clock, customer, "Production is down")
    clock.advance(timedelta(minutes=2))
    assert reads.during(service.run_pass) == [*calm, urgent]
    clock.advance(timedelta(minutes=1))
    service.run_pass()  # the echo
    for _ in range(3):
        clock.advance(timedelta(minutes=3))
        assert reads.during(service.run_pass) == []
    # Only the P1's page-again falls due at its 30 minutes; the others wait for the morning.
    clock.set(filed + timedelta(minutes=35))
    assert reads.during(service.run_pass) == [urgent]
