"""The pure planner on the real SOP policy: priorities, routes, Jira, skips, idempotence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from afterhours.domain.actions import (
    AddInternalNote,
    AddTags,
    AssignGroup,
    Claim,
    CreateJiraIssue,
    LinkJiraIssue,
    NotifyChannel,
    Plan,
    SetPriority,
)
from afterhours.domain.model import History, JiraIssueRef, Ticket
from afterhours.domain.planner import jira_label, jira_tag, plan_actions
from afterhours.policy import load_policy, parse_policy
from factories import make_ticket as base_ticket

POLICY = load_policy(Path(__file__).parents[1] / "fixtures" / "classic_policy.yaml").policy
NIGHT = datetime(2026, 1, 17, 2, tzinfo=UTC)  # Saturday 02:00 in London: after hours
DAY = datetime(2026, 1, 14, 10, tzinfo=UTC)  # Wednesday 10:00 in London: business hours
SOON = timedelta(minutes=5)
ISSUE = JiraIssueRef("ENG-1", "https://acme.atlassian.net/browse/ENG-1")


def make_ticket(**overrides: Any) -> Ticket:
    """An open after-hours ticket with no priority, tags or group; override any field."""
    return base_ticket(**{"created_at": NIGHT} | overrides)


def plan(ticket: Ticket, history: History | None = None, now: datetime | None = None) -> Plan:
    """Plan with the real policy, five minutes after creation unless told."""
    return plan_actions(ticket, POLICY, now or ticket.created_at + SOON, history or History())


def by_key(result: Plan) -> dict[str, object]:
    """The plan's actions by their key."""
    return {p.key: p.action for p in result.actions}


def test_after_hours_billing_ticket() -> None:
    result = plan(make_ticket(subject="Question about my invoice"))
    assert by_key(result) == {
        "ticket:7/priority:p2-normal/set_priority": SetPriority(7, "normal"),
        "ticket:7/priority:p2-normal/add_tags": AddTags(7, ("p2",)),
        "ticket:7/route:billing/assign_group": AssignGroup(7, "Finance"),
        "ticket:7/route:billing/add_tags": AddTags(7, ("billing",)),
        "ticket:7/route:billing/notify": NotifyChannel(
            7,
            "finance",
            "[afterhours] billing: ticket #7 “Question about my invoice” → Finance "
            "<https://acme.zendesk.com/agent/tickets/7>",
            # Named only once the group change is done; else the same words without it.
            Claim("ticket:7/route:billing/assign_group", "Finance",
                  "[afterhours] billing: ticket #7 “Question about my invoice” "
                  "<https://acme.zendesk.com/agent/tickets/7>"),
        ),
    }
    assert result.skips == ()
    rules = {p.key: p.rule for p in result.actions}
    assert rules["ticket:7/route:billing/assign_group"] == "route:billing"
    reasons = {p.key: p.reason for p in result.actions}
    assert "keyword 'invoice' in subject" in reasons["ticket:7/route:billing/notify"]
    assert "created after hours (Sat 17 Jan 02:00 Europe/London)" in reasons[
        "ticket:7/priority:p2-normal/set_priority"
    ]


def test_a_ticket_already_in_the_group_is_announced_with_nothing_to_check() -> None:
    notify = by_key(plan(make_ticket(subject="Question about my invoice", group="Finance")))[
        "ticket:7/route:billing/notify"]
    assert isinstance(notify, NotifyChannel)
    assert notify.claim is None
    assert "→ Finance" in notify.text


def test_a_group_change_settled_earlier_is_still_checked_before_it_is_named() -> None:
    # Settled may mean failed (parked): only the ledger knows, so the shell looks it up.
    history = History(frozenset({"ticket:7/route:billing/assign_group"}))
    notify = by_key(plan(make_ticket(subject="Question about my invoice"), history))[
        "ticket:7/route:billing/notify"]
    assert isinstance(notify, NotifyChannel)
    assert notify.claim is not None
    assert notify.claim.key == "ticket:7/route:billing/assign_group"


def test_after_hours_bug_ticket_files_jira_issue() -> None:
    result = plan(make_ticket(subject="App crashes on login"))
    actions = by_key(result)
    create = actions["ticket:7/route:product-bug/create_jira_issue"]
    assert isinstance(create, CreateJiraIssue)
    assert (create.project, create.issue_type) == ("ENG", "Bug")
    assert create.labels == ("zendesk-7", "from-zendesk")
    assert create.summary == "App crashes on login (Zendesk #7)"
    assert actions["ticket:7/route:product-bug/assign_group"] == AssignGroup(7, "Engineering")
    assert actions["ticket:7/route:product-bug/add_tags"] == AddTags(7, ("product_bug",))
    notify = actions["ticket:7/route:product-bug/notify"]
    assert isinstance(notify, NotifyChannel)
    assert notify.channel == "engineering"
    assert not any(isinstance(a, LinkJiraIssue) for a in actions.values())


def test_bug_ticket_once_filed_links_instead_of_creating() -> None:
    result = plan(make_ticket(subject="App crashes on login"), History(jira_issue=ISSUE))
    actions = by_key(result)
    assert actions["ticket:7/route:product-bug/link_jira_issue"] == LinkJiraIssue(
        7, "ENG-1", "https://acme.zendesk.com/agent/tickets/7", "Zendesk #7: App crashes on login"
    )
    assert actions["ticket:7/route:product-bug/jira_tag"] == AddTags(7, ("jira_eng_1",))
    note = actions["ticket:7/route:product-bug/jira_note"]
    assert isinstance(note, AddInternalNote)
    assert "ENG-1" in note.body
    assert ISSUE.url in note.body
    assert not any(isinstance(a, CreateJiraIssue) for a in actions.values())


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param("ENG-1", "jira_eng_1", id="simple"),
        pytest.param("OPS_X-42", "jira_ops_x_42", id="underscore-project"),
    ],
)
def test_jira_tag(key: str, expected: str) -> None:
    assert jira_tag(key) == expected
    assert jira_label(12) == "zendesk-12"


@pytest.mark.parametrize(
    ("overrides", "rule", "priority", "tags"),
    [
        pytest.param({"subject": "Major outage"}, "p1-urgent", "urgent", ("p1",), id="outage"),
        pytest.param({"subject": "Site is DOWN"}, "p1-urgent", "urgent", ("p1",), id="down"),
        pytest.param(
            {"description": "a security problem"}, "p1-urgent", "urgent", ("p1",), id="security"
        ),
        pytest.param({"description": "we saw data\nloss"}, "p1-urgent", "urgent", ("p1",), id="dl"),
        pytest.param(
            {"organization": "globex"}, "p1-vip", "urgent", ("p1", "vip"), id="vip-globex"
        ),
        pytest.param(
            {"subject": "Outage", "organization": "Globex"},
            "p1-urgent",
            "urgent",
            ("p1",),
            id="first-match-wins",
        ),
        pytest.param(
            {"subject": "Cannot download the report"}, "p2-normal", "normal", ("p2",), id="dl-word"
        ),
        pytest.param({}, "p2-normal", "normal", ("p2",), id="fallback"),
    ],
)
def test_priority_rules(
    overrides: dict[str, Any], rule: str, priority: str, tags: tuple[str, ...]
) -> None:
    result = plan(make_ticket(**overrides))
    priority_actions = [p for p in result.actions if p.rule.startswith("priority:")]
    assert [(p.key, p.action) for p in priority_actions] == [
        (f"ticket:7/priority:{rule}/set_priority", SetPriority(7, priority)),
        (f"ticket:7/priority:{rule}/add_tags", AddTags(7, tags)),
    ]


@pytest.mark.parametrize(
    ("subject", "route"),
    [
        pytest.param("Outage: the invoice page shows an error", "billing", id="billing-first"),
        pytest.param("Error on the settings page", "product-bug", id="bug"),
        pytest.param("It doesn't  work", "product-bug", id="phrase"),
        pytest.param("Where is the manual?", "general-inquiry", id="general"),
    ],
)
def test_first_matching_route_wins(subject: str, route: str) -> None:
    result = plan(make_ticket(subject=subject))
    assert {p.rule for p in result.actions if p.rule.startswith("route:")} == {f"route:{route}"}


@pytest.mark.parametrize(
    ("subject", "skipped"),
    [
        pytest.param("Site is down", ["priority:p1-urgent", "route:general-inquiry"], id="p1"),
        pytest.param("Refund please", ["priority:p2-normal", "route:billing"], id="billing"),
    ],
)
def test_business_hours_ticket_is_left_alone(subject: str, skipped: list[str]) -> None:
    result = plan(make_ticket(subject=subject, created_at=DAY))
    assert result.actions == ()
    assert [s.rule for s in result.skips] == skipped
    assert [s.key for s in result.skips] == [f"ticket:7/{rule}/hours" for rule in skipped]
    assert all("business hours" in s.reason for s in result.skips)


def test_already_urgent_is_skipped() -> None:
    result = plan(make_ticket(subject="outage", priority="urgent"))
    assert not any(isinstance(p.action, SetPriority) for p in result.actions)
    skips = {s.key: s.reason for s in result.skips}
    assert skips == {"ticket:7/priority:p1-urgent/set_priority": "priority already urgent"}


@pytest.mark.parametrize(
    ("tags", "added", "skipped"),
    [
        pytest.param(frozenset({"p1"}), (), True, id="all-present"),
        pytest.param(frozenset({"p1", "vip"}), (), True, id="superset"),
        pytest.param(frozenset({"vip"}), ("p1",), False, id="partly-present"),
    ],
)
def test_present_tags_are_not_added_again(
    tags: frozenset[str], added: tuple[str, ...], skipped: bool
) -> None:
    result = plan(make_ticket(subject="outage", tags=tags))
    actions = by_key(result)
    key = "ticket:7/priority:p1-urgent/add_tags"
    assert actions.get(key) == (AddTags(7, added) if added else None)
    reasons = {s.key: s.reason for s in result.skips}
    assert (reasons.get(key) == "tags p1 already on the ticket") is skipped


def test_already_in_group_is_skipped() -> None:
    result = plan(make_ticket(subject="invoice", group="Finance"))
    assert "ticket:7/route:billing/assign_group" not in by_key(result)
    assert {s.key: s.reason for s in result.skips} == {
        "ticket:7/route:billing/assign_group": "already in group 'Finance'"
    }


@pytest.mark.parametrize("status", ["solved", "closed"])
def test_closed_ticket_plans_nothing(status: str) -> None:
    result = plan(make_ticket(subject="outage", status=status), now=NIGHT + timedelta(days=3))
    assert result == Plan(7)
    assert not result


SCENARIOS = [
    pytest.param(make_ticket(subject="invoice"), History(), SOON, id="billing"),
    pytest.param(make_ticket(subject="crash"), History(), SOON, id="bug"),
    pytest.param(make_ticket(subject="crash"), History(jira_issue=ISSUE), SOON, id="bug-filed"),
    pytest.param(make_ticket(subject="down", created_at=DAY), History(), SOON, id="business"),
    pytest.param(
        make_ticket(subject="outage", priority="urgent", tags=frozenset({"p1"})),
        History(),
        timedelta(days=2),
        id="urgent-escalated",
    ),
]


@pytest.mark.parametrize(("ticket", "history", "age"), SCENARIOS)
def test_settled_keys_plan_nothing(ticket: Ticket, history: History, age: timedelta) -> None:
    now = ticket.created_at + age
    first = plan(ticket, history, now)
    assert first
    keys = [p.key for p in first.actions] + [s.key for s in first.skips]
    assert len(keys) == len(set(keys))
    settled = History(settled=frozenset(keys), jira_issue=history.jira_issue)
    assert not plan(ticket, settled, now)


@pytest.mark.parametrize(("ticket", "history", "age"), SCENARIOS)
def test_planner_is_deterministic(ticket: Ticket, history: History, age: timedelta) -> None:
    now = ticket.created_at + age
    assert plan(ticket, history, now) == plan(ticket, history, now)


def test_partly_settled_plans_only_the_rest() -> None:
    ticket = make_ticket(subject="invoice")
    settled = frozenset({"ticket:7/route:billing/notify", "ticket:7/priority:p2-normal/add_tags"})
    remaining = {p.key for p in plan(ticket, History(settled=settled)).actions}
    assert remaining == {
        "ticket:7/priority:p2-normal/set_priority",
        "ticket:7/route:billing/assign_group",
        "ticket:7/route:billing/add_tags",
    }


def test_literal_policy_rule_without_hours_condition() -> None:
    policy = parse_policy(
        "version: 1\n"
        "schedule: {time_zone: UTC, hours: {}}\n"
        "channels: {ops: {}}\n"
        "routes:\n"
        "  - name: everything\n"
        "    note: Looked at by afterhours\n"
        "    notify: ops\n"
    )
    result = plan_actions(make_ticket(created_at=DAY), policy, DAY, History())
    assert [(p.key, p.reason) for p in result.actions] == [
        ("ticket:7/route:everything/note", "applies to every ticket"),
        ("ticket:7/route:everything/notify", "applies to every ticket"),
    ]
    assert result.actions[0].action == AddInternalNote(
        7, "Looked at by afterhours\n\n[afterhours ticket:7/route:everything/note]")


def test_a_rule_left_for_business_hours_does_not_hide_a_later_match() -> None:
    policy = parse_policy(
        "version: 1\n"
        "schedule: {time_zone: UTC, hours: {wed: ['09:00-17:00']}}\n"
        "routes:\n"
        "  - name: night-billing\n"
        "    when: {after_hours: true, keywords: [refund]}\n"
        "    group: Finance\n"
        "  - name: any-billing\n"
        "    when: {keywords: [refund]}\n"
        "    tags: [billing]\n"
    )
    result = plan_actions(make_ticket(subject="Refund", created_at=DAY), policy, DAY, History())
    assert [s.rule for s in result.skips] == ["route:night-billing"]
    assert [p.key for p in result.actions] == ["ticket:7/route:any-billing/add_tags"]
