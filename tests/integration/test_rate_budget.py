"""The rate budget through the twins, with the vendors' limits enforced on the test clock:
the daemon waits before the 429, never after, and keeps its share of the account.

Every wait passes on the manual clock (the retry policy's sleep moves it): no test sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from afterhours.adapters.zendesk import ZenpyTicketDesk
from afterhours.bootstrap import build_service
from afterhours.budget import RateBudget, zendesk_classes
from afterhours.budget_gate import BudgetGate, seconds_of
from afterhours.clock import ManualClock
from afterhours.errors import TransientError
from afterhours.policy import load_policy
from afterhours.retrying import RetryPolicy
from afterhours.service import Service
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.ratelimit import jira_rate_limit, zendesk_rate_limit
from afterhours.twins.zendesk import ZendeskTwin
from factories import twin_settings

pytestmark = pytest.mark.integration
POLICY = load_policy(Path(__file__).parents[1] / "fixtures" / "classic_policy.yaml").policy
ZENDESK_LIMIT = 60  # the account's requests a minute, as the twin enforces them
JIRA_LIMIT = 60
WAITED = "afterhours_rate_budget_wait_seconds_total"


@dataclass
class Daemon:
    """A daemon on the twins built as `afterhours run` builds it, its waits on the clock."""

    service: Service
    clock: ManualClock
    requester: int
    slept: list[float] = field(default_factory=list)

    def waited(self, service: str) -> float:
        """Seconds the rate budget of `service` held requests back."""
        value = self.service.metrics.registry.get_sample_value(WAITED, {"service": service})
        return value or 0.0

    def run_until_idle(self, passes: int = 10) -> int:
        """Passes a poll interval apart until one does nothing; return how many ran."""
        for count in range(1, passes + 1):
            report = self.service.run_pass()
            if not (report.done or report.deferred or report.failed or report.conflicts):
                return count
            self.clock.advance(timedelta(minutes=1))
        raise AssertionError(f"still busy after {passes} passes")


def start(zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, clock: ManualClock,  # noqa: PLR0917
          state: Path, zendesk_limit: int = ZENDESK_LIMIT, jira_limit: int = JIRA_LIMIT,
          ) -> Daemon:
    """The daemon, its settings telling the limits the twins enforce."""
    zendesk.server.rate_limit = zendesk_rate_limit(clock, per_minute=zendesk_limit)
    jira.server.rate_limit = jira_rate_limit(clock, per_minute=jira_limit)
    for group in ("Finance", "Engineering", "Support", "Support Leads"):
        zendesk.add_group(group)
    requester = int(zendesk.add_user("Bob", "bob@initech.com")["id"])
    settings = twin_settings(zendesk, jira, chat, POLICY.channels, state, http_timeout=5,
                             zendesk_rate_limit=zendesk_limit, rate_share=0.5,
                             jira_rate_limit=jira_limit)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.sleep(seconds)

    service = build_service(settings, POLICY, clock=clock, retry=RetryPolicy(sleep=sleep))
    return Daemon(service, clock, requester, slept)


@pytest.fixture
def daemon(zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, clock: ManualClock,
           tmp_path: Path) -> Iterator[Daemon]:
    running = start(zendesk, jira, chat, clock, tmp_path / "state.sqlite3")
    yield running
    running.service.close()


def file_bugs(zendesk: ZendeskTwin, daemon: Daemon, count: int) -> list[int]:
    ids = [int(zendesk.create_ticket(
        subject=f"The app crashes on export {n}", description="It crashes.",
        requester_id=daemon.requester, created_at=daemon.clock())["id"]) for n in range(count)]
    daemon.clock.advance(timedelta(minutes=5))
    return ids


def test_more_work_than_the_limits_allow_waits_before_the_429_and_keeps_the_share(
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, clock: ManualClock, tmp_path: Path,
) -> None:
    # 40 bugs take a handful of Zendesk requests now that they are batched (the export, a
    # name lookup, two update_many jobs and their polls, the next pass's export): an
    # account of 10 requests a minute, half of them the daemon's, still makes it wait.
    limit_a_minute = 10
    daemon = start(zendesk, jira, chat, clock, tmp_path / "state.sqlite3",
                   zendesk_limit=limit_a_minute)
    try:
        bugs = file_bugs(zendesk, daemon, 40)
        started = daemon.clock()
        passes = daemon.run_until_idle()

        zendesk_limit, jira_limit = zendesk.server.rate_limit, jira.server.rate_limit
        assert zendesk_limit is not None
        assert jira_limit is not None
        took = daemon.clock() - started
        print(f"\n40 bugs through twins limited to {limit_a_minute} (Zendesk) and {JIRA_LIMIT}"
              f" (Jira) requests a minute: {passes} passes over {took}, waited"
              f" {daemon.waited('zendesk'):.0f} s for Zendesk, {daemon.waited('jira'):.0f} s"
              f" for Jira; Zendesk requests a minute {sorted(zendesk_limit.served.values())}")
        assert zendesk_limit.throttled == {}  # not one 429: every wait came before
        assert jira_limit.throttled == {}
        assert daemon.waited("zendesk") > 0
        assert max(daemon.slept) <= RetryPolicy().max_retry_after
        # Half the account's minute is left to the agents' tools, whatever the daemon does.
        assert max(zendesk_limit.served.values()) <= limit_a_minute // 2
        # All done, once each.
        labels = [label for issue in jira.issues() for label in issue["fields"]["labels"]
                  if label.startswith("zendesk-")]
        assert sorted(labels) == sorted(f"zendesk-{t}" for t in bugs)
        assert all("product_bug" in zendesk.ticket(t)["tags"] for t in bugs)
        assert len(chat.messages("engineering")) == len(bugs)
    finally:
        daemon.service.close()


def test_jira_near_its_limit_slows_down_and_is_never_throttled(
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, clock: ManualClock, tmp_path: Path,
) -> None:
    # One search and one bulk create for the 40 bugs, then a link each: 42 requests and the
    # client's start-up reads, at 30 a minute.
    daemon = start(zendesk, jira, chat, clock, tmp_path / "state.sqlite3", zendesk_limit=2500,
                   jira_limit=30)
    try:
        bugs = file_bugs(zendesk, daemon, 40)
        daemon.run_until_idle()
        limit = jira.server.rate_limit
        assert limit is not None
        print(f"\n40 bugs, Jira limited to 30 requests a minute: waited"
              f" {daemon.waited('jira'):.0f} s; Jira requests a minute"
              f" {sorted(limit.served.values())}")
        assert limit.throttled == {}
        assert 1.0 in daemon.slept  # X-RateLimit-NearLimit: one request a second
        assert daemon.waited("jira") >= 60  # two minutes of requests, one of them free
        assert len(jira.issues()) == len(bugs)
    finally:
        daemon.service.close()


def test_the_agents_tools_using_the_account_make_the_daemon_wait_for_the_reset(
    daemon: Daemon, zendesk: ZendeskTwin,
) -> None:
    bugs = file_bugs(zendesk, daemon, 5)
    daemon.clock.advance(timedelta(seconds=40))  # 18:05:40: the account's minute ends at :06
    limit = zendesk.server.rate_limit
    assert limit is not None
    limit.spend(27)  # the agents' tools: 27 of 60; 30 are theirs to keep
    daemon.service.run_pass()

    assert limit.throttled == {}
    # Three requests, and the rest waited for the minute to reset (20 s).
    assert 19 <= daemon.waited("zendesk") <= 21
    assert all("product_bug" in zendesk.ticket(t)["tags"] for t in bugs)


def export_desk(zendesk: ZendeskTwin, clock: ManualClock, gate: BudgetGate | None,
                retry: RetryPolicy) -> ZenpyTicketDesk:
    return ZenpyTicketDesk(zendesk.base_url, "bot@example.com", "zd-token", page_size=1,
                           retry=retry, gate=gate, clock=seconds_of(clock))


def test_the_export_keeps_within_ten_requests_a_minute(
    zendesk: ZendeskTwin, clock: ManualClock,
) -> None:
    requester = int(zendesk.add_user("Bob", "bob@initech.com")["id"])
    for n in range(25):
        zendesk.create_ticket(subject=f"Question {n}", description="?", requester_id=requester)
    clock.advance(timedelta(minutes=5))
    zendesk.server.rate_limit = zendesk_rate_limit(clock, per_minute=2500)
    start_time = clock() - timedelta(hours=1)

    # Without the budget, the eleventh page of a minute meets the export's own 429.
    plain = export_desk(zendesk, clock, None, RetryPolicy.disabled())
    cursor = None
    for _ in range(10):
        cursor = plain.export_page(cursor, start_time).cursor
    with pytest.raises(TransientError) as throttled:
        plain.export_page(cursor, start_time)
    assert throttled.value.status == 429
    assert zendesk.server.rate_limit.throttled["GET /api/v2/incremental/tickets/cursor.json"] == 1
    plain.close()

    clock.advance(timedelta(minutes=1))
    zendesk.server.rate_limit = limit = zendesk_rate_limit(clock, per_minute=2500)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.sleep(seconds)

    retry = RetryPolicy(sleep=sleep)
    budget = RateBudget("zendesk", per_minute=2500, share=0.5, classes=zendesk_classes())
    desk = export_desk(zendesk, clock, BudgetGate(budget, clock=seconds_of(clock), retry=retry),
                       retry)
    pages, cursor, end = 0, None, False
    while not end:
        page = desk.export_page(cursor, start_time)
        cursor, end, pages = page.cursor, page.end_of_stream, pages + 1
    desk.close()
    print(f"\n{pages} export pages: waited {sum(slept):.0f} s in {len(slept)} waits; pages a"
          f" minute {sorted(limit.served.values())}")
    assert pages == 25
    assert limit.throttled == {}
    assert max(limit.served.values()) <= 10
    assert slept
    assert max(slept) <= 30
