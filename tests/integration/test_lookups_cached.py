"""Lookups cost nothing per pass: Zendesk's names are kept for a bounded time, Jira's server
facts for the life of the process. Counted as requests the twins served."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from afterhours.adapters.zendesk import ZenpyTicketDesk
from afterhours.adapters.zendesk_lookup import LOOKUP_TTL
from afterhours.bootstrap import build_service
from afterhours.budget_gate import seconds_of
from afterhours.clock import ManualClock
from afterhours.errors import PermanentError
from afterhours.policy import load_policy
from afterhours.retrying import RetryPolicy
from afterhours.service import Service
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from factories import twin_settings

pytestmark = pytest.mark.integration
POLICY = load_policy(Path(__file__).parents[1] / "fixtures" / "classic_policy.yaml").policy
GROUPS = "GET /api/v2/groups.json"
USERS_SEARCH = "GET /api/v2/users/search.json"
SERVER_INFO = "GET /rest/api/2/serverInfo"
JIRA_FIELDS = "GET /rest/api/2/field"
JIRA_PRIORITIES = "GET /rest/api/2/priority"


@pytest.fixture
def desk(zendesk: ZendeskTwin, clock: ManualClock) -> Iterator[ZenpyTicketDesk]:
    opened = ZenpyTicketDesk(zendesk.base_url, "bot@example.com", "zd-token",
                             retry=RetryPolicy.disabled(), clock=seconds_of(clock))
    yield opened
    opened.close()


def test_names_are_kept_for_their_lifetime_then_read_again(
    desk: ZenpyTicketDesk, zendesk: ZendeskTwin, clock: ManualClock,
) -> None:
    finance = zendesk.add_group("Finance")["id"]
    agent = zendesk.add_user("Ann", "ann@acme.example", role="agent")["id"]
    for _ in range(3):
        assert desk.group_id("Finance") == finance
        assert desk.agent_id("ANN@acme.example") == agent
        clock.advance(timedelta(seconds=LOOKUP_TTL / 4))
    assert zendesk.server.requests[GROUPS] == 1
    assert zendesk.server.requests[USERS_SEARCH] == 1

    # Past the lifetime a renamed group is seen, without waiting for a miss.
    clock.advance(timedelta(seconds=LOOKUP_TTL))
    zendesk.state.groups[finance]["name"] = "Billing"
    with pytest.raises(PermanentError, match="no group named 'Finance'"):
        desk.group_id("Finance")
    assert desk.group_id("Billing") == finance
    assert desk.agent_id("ann@acme.example") == agent
    assert zendesk.server.requests[GROUPS] == 2
    assert zendesk.server.requests[USERS_SEARCH] == 2


def test_a_new_group_is_read_at_once_not_after_the_lifetime(
    desk: ZenpyTicketDesk, zendesk: ZendeskTwin,
) -> None:
    zendesk.add_group("Finance")
    desk.group_id("Finance")
    support = zendesk.add_group("Support")["id"]
    assert desk.group_id("Support") == support
    assert zendesk.server.requests[GROUPS] == 2


@pytest.fixture
def service(zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, clock: ManualClock,
            tmp_path: Path) -> Iterator[Service]:
    for group in ("Finance", "Engineering", "Support", "Support Leads"):
        zendesk.add_group(group)
    settings = twin_settings(zendesk, jira, chat, POLICY.channels, tmp_path / "state.sqlite3")
    built = build_service(settings, POLICY, clock=clock, retry=RetryPolicy(sleep=clock.sleep))
    yield built
    built.close()


def test_each_pass_reads_no_lookup_again_and_jira_connects_once_per_process(
    service: Service, zendesk: ZendeskTwin, jira: JiraTwin, clock: ManualClock,
) -> None:
    requester = int(zendesk.add_user("Bob", "bob@initech.com")["id"])
    for n in range(4):  # a bug and a refund each pass, five minutes apart
        for subject in ("The app crashes on export", "Refund for a double charge"):
            zendesk.create_ticket(subject=f"{subject} {n}", description=subject,
                                  requester_id=requester, created_at=clock())
        clock.advance(timedelta(minutes=5))
        service.run_pass()
    assert len(jira.issues()) == 4
    assert zendesk.server.requests[GROUPS] == 2  # at 18:05, and at 18:15, its 10 minutes up
    assert jira.server.requests[SERVER_INFO] == 1
    # Searches name fields by id: nothing reads the field list (the jira client's searches did).
    assert jira.server.requests[JIRA_FIELDS] == 0
    assert service.tracker.priority_names() == service.tracker.priority_names()
    assert jira.server.requests[JIRA_PRIORITIES] == 1
