"""Two replicas in one process on one state database, with the real lease: one acts, the other
stands by and takes over, going on from the ledger; a paused leader's late write is refused.

The lease runs on the database's clock and its keeper on a thread of its own, so these tests
wait (bounded, polling) for what that thread does; the process-level failover test with a
SIGKILL is tests/integration/test_failover.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from afterhours.adapters.lease import Lease, LeaseKeeper
from afterhours.adapters.sql import open_database
from afterhours.adapters.state import StateStore
from afterhours.cli import main
from afterhours.clock import ManualClock
from afterhours.ops.metrics import Metrics
from afterhours.service import Service
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from factories import SATURDAY_NIGHT, make_ticket, twin_environment, wait_for
from unit.test_service import POLICY, FakeDesk, FakeNotifier, FakeTracker

pytestmark = pytest.mark.integration
LEASE_SECONDS = 1.5  # renewed every 0.5 s
REPO = Path(__file__).parents[2]


@pytest.fixture
def replica(state_url: str) -> Iterator[Callable[..., Service]]:
    """Builds replicas as bootstrap does: a state fenced by a lease kept on its own connection;
    every one is closed (its lease released) afterwards."""
    built: list[Service] = []

    def build(holder: str, desk: FakeDesk, notifier: FakeNotifier,
              seconds: float = LEASE_SECONDS) -> Service:
        state = StateStore(state_url)
        metrics = Metrics()
        lease = Lease(open_database(state_url), seconds=seconds, holder=holder)
        keeper = LeaseKeeper(lease, on_change=metrics.set_leader)
        state.fence_with(lease)
        keeper.start()
        service = Service(desk=desk, tracker=FakeTracker(), notifier=notifier, state=state,
                          policy=POLICY, clock=ManualClock(SATURDAY_NIGHT + timedelta(hours=1)),
                          metrics=metrics, lease=keeper)
        built.append(service)
        return service

    yield build
    for service in built:
        service.close()


def leader_gauge(service: Service) -> float | None:
    return service.metrics.registry.get_sample_value("afterhours_leader")


def test_the_standby_takes_over_when_the_leader_stops_and_goes_on_from_the_ledger(
    replica: Callable[..., Service],
) -> None:
    first = make_ticket(id=1, subject="Checkout is down", priority="urgent",
                        tags=frozenset({"p1"}))
    desk, notifier = FakeDesk([first]), FakeNotifier()  # one Zendesk, one chat: both see them
    leader, standby = replica("a", desk, notifier), replica("b", desk, notifier)
    assert (leader.is_leader, standby.is_leader) == (True, False)
    assert (leader_gauge(leader), leader_gauge(standby)) == (1, 0)
    leader.run_pass()
    assert [channel for channel, _ in notifier.sent] == ["oncall-lead"]

    with capture_logs() as logs:
        leader.close()  # a clean stop releases the lease: no waiting out its expiry
        wait_for(lambda: standby.is_leader, timeout=3 * LEASE_SECONDS)
    assert [e["event"] for e in logs if e["event"].startswith("lease.")] == [
        "lease.released", "lease.acquired"]
    assert leader_gauge(standby) == 1
    desk.tickets = [make_ticket(id=2, subject="Login is down", priority="urgent",
                                tags=frozenset({"p1"}))]
    standby.run_pass()
    # The page for ticket 1 is in the shared ledger: only ticket 2's goes out.
    assert [channel for channel, _ in notifier.sent] == ["oncall-lead", "oncall-lead"]
    assert "#2" in notifier.sent[1][1]


def test_a_paused_leaders_late_write_is_refused_and_it_stands_by(
    replica: Callable[..., Service], state_url: str,
) -> None:
    desk, notifier = FakeDesk([]), FakeNotifier()
    # Renewing every 10 s: within this test the old leader renews no more, as if paused.
    old = replica("a", desk, notifier, seconds=30)
    new = replica("b", FakeDesk([]), FakeNotifier(), seconds=30)
    assert old.is_leader
    clock = open_database(state_url)
    try:
        clock.execute("UPDATE lease SET expires_at = expires_at - 3600")  # a long pause
    finally:
        clock.close()
    assert new.lease is not None
    assert new.lease.lease.try_acquire()  # what b's keeper does at its next try
    desk.tickets = [make_ticket(id=3, subject="Checkout is down", priority="urgent",
                                tags=frozenset({"p1"}))]
    sigterm = threading.Timer(1.0, old.stop.set)  # while it stands by, as it then should
    sigterm.start()
    try:
        with capture_logs() as logs:
            old.run_forever(0)
    finally:
        sigterm.cancel()
    events = [e["event"] for e in logs]
    lost = next(e for e in logs if e["event"] == "lease.lost")
    assert (lost["holder"], lost["fencing_token"]) == ("a", 1)
    assert "held by b (token 2) now" in lost["reason"]
    assert "pass.crashed" not in events
    assert not old.is_leader
    assert (desk.updates, notifier.sent) == ([], [])
    assert new.state.intended(3) == []  # the old leader's write-ahead never landed


@pytest.mark.postgres
def test_run_once_where_another_replica_leads_runs_no_pass(  # noqa: PLR0917  (fixtures)
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin,
    capsys: pytest.CaptureFixture[str],
) -> None:
    channels = ("finance", "engineering", "oncall-lead", "support-lead")
    env = twin_environment(zendesk, jira, chat, channels, REPO / "tests" / "fixtures"
                           / "classic_policy.yaml", tmp_path / "unused.sqlite3")
    for name, value in {**env, "AFTERHOURS_STATE_URL": postgres_url}.items():
        monkeypatch.setenv(name, value)
    StateStore(postgres_url).close()  # migrated
    rival = Lease(open_database(postgres_url), holder="elsewhere", seconds=60)
    try:
        assert rival.try_acquire()
        assert main(["run", "--once"]) == 1
        assert "another replica holds the lease and acts" in capsys.readouterr().err
        assert not any(label.startswith("GET ") for label in zendesk.server.requests)
        rival.release()
        assert main(["run", "--once"]) == 0  # the lease is free: this one acts
    finally:
        rival.close()
