"""What rules do, through the planner: blocks, tags, assignees, on-call, pages, replies, notes,
Jira and stable ids. Small literal policies, literal tickets and an injected `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from afterhours.domain.actions import (
    AddInternalNote,
    AddPublicReply,
    AddTags,
    AssignAgent,
    AssignGroup,
    CreateJiraIssue,
    NotifyChannel,
    Plan,
    RemoveTags,
    SetPriority,
)
from afterhours.domain.model import History, Ticket
from afterhours.domain.planner import plan_actions
from afterhours.domain.ticket_changes import apply_changes
from afterhours.policy import parse_policy
from afterhours.policy.model import Policy
from factories import make_ticket as base_ticket

NIGHT = datetime(2026, 1, 17, 2, tzinfo=UTC)  # Saturday 02:00 UTC
NOW = NIGHT + timedelta(minutes=5)
# Never open: every ticket is after hours and every business clock stands still.
HEAD = "version: 1\nschedule: {time_zone: UTC, hours: {}}\n"
# Open 09:00-17:00 on weekdays, for {reply_by} and {next_open}.
OFFICE = (
    "version: 1\n"
    "schedule:\n"
    "  time_zone: Europe/London\n"
    "  hours: {mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'],"
    " thu: ['09:00-17:00'], fri: ['09:00-17:00']}\n"
)
# Week 0 (from Mon 5 Jan 09:00 UTC) alice, week 1 carol, week 2 alice again...
ONCALL = """\
channels: {ops: {}, pager: {}}
oncall:
  web:
    time_zone: UTC
    handover: mon 09:00
    starts: 2026-01-05
    channel: pager
    rotation:
      - {primary: alice@acme.example, backup: bob@acme.example}
      - {primary: carol@acme.example, backup: dave@acme.example}
    overrides:
      - {from: '2026-01-21 00:00', to: '2026-01-22 00:00', primary: erin@acme.example,
         reason: cover}
"""


def make_ticket(**overrides: Any) -> Ticket:
    """An open after-hours ticket #7 with no priority, tags, group or assignee."""
    return base_ticket(**{"status": "open", "created_at": NIGHT} | overrides)


def plan(policy: Policy, ticket: Ticket | None = None, now: datetime = NOW,
         settled: frozenset[str] = frozenset()) -> Plan:
    """The plan for `ticket` (a plain one by default) at `now`."""
    return plan_actions(ticket or make_ticket(), policy, now, History(settled=settled))


def by_key(result: Plan) -> dict[str, object]:
    """The plan's actions by their key."""
    return {p.key: p.action for p in result.actions}


def skips(result: Plan) -> dict[str, str]:
    """The plan's skips: key -> reason."""
    return {s.key: s.reason for s in result.skips}


def rules(result: Plan) -> list[str]:
    """The rules that acted, each once, in order."""
    return list(dict.fromkeys(p.rule for p in result.actions))


def all_keys(result: Plan) -> frozenset[str]:
    """Every key the plan settles: actions and skips."""
    return frozenset(p.key for p in result.actions) | {s.key for s in result.skips}


# Blocks: a plain list or match: first|all plus rules.

ROUTES = """\
  - {name: a, when: {keywords: [outage]}, tags: [a]}
  - {name: b, when: {keywords: [outage]}, tags: [b]}
  - {name: c, tags: [c]}
"""


def test_a_plain_list_is_a_first_match_block() -> None:
    short = parse_policy(HEAD + "routes:\n" + ROUTES)
    long = parse_policy(HEAD + "routes:\n  match: first\n  rules:\n"
                        + ROUTES.replace("\n  -", "\n    -").replace("  -", "    -", 1))
    assert short.routes == long.routes
    assert short.routes.match == "first"
    assert [r.name for r in short.routes.rules] == ["a", "b", "c"]


def test_a_plain_list_of_escalations_is_an_all_match_block() -> None:
    policy = parse_policy(HEAD + "escalations:\n"
                          "  - {name: e, levels: [{after_minutes: 0, until: solved}]}\n")
    assert policy.escalations.match == "all"
    assert parse_policy(HEAD).priority_rules.match == "first"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        pytest.param("outage", ["route:a"], id="first-of-several"),
        pytest.param("hello", ["route:c"], id="falls-through"),
    ],
)
def test_first_match_stops_at_the_first_match(subject: str, expected: list[str]) -> None:
    policy = parse_policy(HEAD + "routes:\n" + ROUTES)
    assert rules(plan(policy, make_ticket(subject=subject))) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        pytest.param("outage", ["route:a", "route:b", "route:c"], id="every-match"),
        pytest.param("hello", ["route:c"], id="only-matches"),
    ],
)
def test_all_match_runs_every_matching_rule(subject: str, expected: list[str]) -> None:
    policy = parse_policy(HEAD + "routes:\n  match: all\n  rules:\n"
                          + ROUTES.replace("  -", "    -"))
    result = plan(policy, make_ticket(subject=subject))
    assert rules(result) == expected
    tags = [p.action.tags for p in result.actions if isinstance(p.action, AddTags)]
    assert tags == [(r.removeprefix("route:"),) for r in expected]


def test_all_match_sets_only_the_first_matching_priority() -> None:
    policy = parse_policy(HEAD + """\
priority_rules:
  match: all
  rules:
    - {name: quiet, when: {keywords: [nothing]}, priority: low}
    - {name: outage, when: {keywords: [outage]}, priority: urgent, tags: [p1]}
    - {name: vip, when: {organizations: [Acme]}, priority: high, tags: [vip]}
    - {name: everyone, priority: normal, note: seen}
""")
    result = plan(policy, make_ticket(subject="outage"))
    actions = by_key(result)
    assert actions["ticket:7/priority:outage/set_priority"] == SetPriority(7, "urgent")
    assert [a for a in actions.values() if isinstance(a, SetPriority)] == [SetPriority(7, "urgent")]
    # The later rules still do everything else they say.
    assert actions["ticket:7/priority:vip/add_tags"] == AddTags(7, ("vip",))
    assert "ticket:7/priority:everyone/note" in actions
    assert skips(result) == {
        "ticket:7/priority:vip/set_priority": "priority set by priority:outage first",
        "ticket:7/priority:everyone/set_priority": "priority set by priority:outage first",
    }
    # Settled, nothing is planned again; and the skips are not repeated either.
    assert not plan(policy, make_ticket(subject="outage"), settled=all_keys(result))


def test_escalations_match_first_applies_only_the_first_matching_ladder() -> None:
    policy = parse_policy(HEAD + """\
escalations:
  match: first
  rules:
    - {name: urgent, when: {priorities: [urgent]}, levels: [{after_minutes: 0, until: solved,
       tags: [u]}]}
    - {name: vip, when: {organizations: [Acme]}, levels: [{after_minutes: 0, until: solved,
       tags: [v]}]}
    - {name: rest, when: {channels: [email]}, levels: [{after_minutes: 0, until: solved,
       tags: [r]}]}
""")
    assert rules(plan(policy, make_ticket(priority="urgent"))) == ["escalation:urgent/level:1"]
    assert rules(plan(policy, make_ticket())) == ["escalation:vip/level:1"]
    assert rules(plan(policy, make_ticket(organization=None))) == ["escalation:rest/level:1"]
    assert not plan(policy, make_ticket(organization=None, channel="web"))


def test_escalations_match_all_applies_every_matching_ladder() -> None:
    policy = parse_policy(HEAD + """\
escalations:
  - {name: urgent, when: {priorities: [urgent]}, levels: [{after_minutes: 0, until: solved}]}
  - {name: vip, when: {organizations: [Acme]}, levels: [{after_minutes: 0, until: solved}]}
""")
    assert rules(plan(policy, make_ticket(priority="urgent"))) == [
        "escalation:urgent/level:1", "escalation:vip/level:1"]


# Tags.


@pytest.mark.parametrize(
    ("tags", "removed"),
    [
        pytest.param({"old", "keep", "stale"}, ("old", "stale"), id="both-present"),
        pytest.param({"stale", "keep"}, ("stale",), id="one-present"),
        pytest.param({"keep"}, None, id="none-present"),
        pytest.param(set(), None, id="no-tags"),
    ],
)
def test_remove_tags_only_takes_off_tags_present(tags: set[str],
                                                 removed: tuple[str, ...] | None) -> None:
    policy = parse_policy(HEAD + "routes:\n  - {name: r, remove_tags: [old, stale, gone]}\n")
    result = plan(policy, make_ticket(tags=frozenset(tags)))
    expected = {} if removed is None else {"ticket:7/route:r/remove_tags": RemoveTags(7, removed)}
    assert by_key(result) == expected
    assert result.skips == ()


def test_a_later_rule_removes_a_tag_an_earlier_one_added() -> None:
    policy = parse_policy(HEAD + """\
priority_rules:
  - {name: p, priority: low, tags: [triage]}
routes:
  - {name: r, remove_tags: [triage]}
""")
    actions = by_key(plan(policy))
    assert actions["ticket:7/route:r/remove_tags"] == RemoveTags(7, ("triage",))


# Assignees.


def test_assignee_by_email() -> None:
    policy = parse_policy(HEAD + "routes:\n  - {name: r, assignee: Bo@Acme.example}\n")
    result = plan(policy)
    assert by_key(result) == {"ticket:7/route:r/assign_agent": AssignAgent(7, "Bo@Acme.example")}
    reassigned = plan(policy, make_ticket(assignee="someone@acme.example"))
    assert by_key(reassigned) == by_key(result)


def test_already_assigned_is_skipped_in_any_case() -> None:
    policy = parse_policy(HEAD + "routes:\n  - {name: r, assignee: Bo@Acme.example}\n")
    result = plan(policy, make_ticket(assignee="bo@acme.EXAMPLE"))
    assert result.actions == ()
    assert skips(result) == {"ticket:7/route:r/assign_agent": "already assigned to Bo@Acme.example"}


@pytest.mark.parametrize(
    ("now", "primary"),
    [
        pytest.param(NIGHT, "carol@acme.example", id="week-1"),
        pytest.param(datetime(2026, 1, 19, 8, 59, tzinfo=UTC), "carol@acme.example",
                     id="just-before-hand-over"),
        pytest.param(datetime(2026, 1, 19, 9, 0, tzinfo=UTC), "alice@acme.example",
                     id="at-hand-over"),
        pytest.param(datetime(2026, 1, 21, 12, tzinfo=UTC), "erin@acme.example", id="override"),
        pytest.param(datetime(2026, 1, 22, 0, tzinfo=UTC), "alice@acme.example",
                     id="override-over"),
    ],
)
def test_assignee_oncall_is_the_primary_at_now(now: datetime, primary: str) -> None:
    policy = parse_policy(HEAD + ONCALL + "routes:\n  - {name: r, assignee: 'oncall:web'}\n")
    result = plan(policy, now=now)
    assert by_key(result) == {"ticket:7/route:r/assign_agent": AssignAgent(7, primary)}
    (planned,) = result.actions
    assert planned.reason.endswith(f"; {primary} is on call for web")


def test_assignee_oncall_already_the_primary_is_skipped() -> None:
    policy = parse_policy(HEAD + ONCALL + "routes:\n  - {name: r, assignee: 'oncall:web'}\n")
    result = plan(policy, make_ticket(assignee="CAROL@acme.example"))
    assert result.actions == ()
    assert skips(result) == {
        "ticket:7/route:r/assign_agent": "already assigned to carol@acme.example"}


# Pages.


@pytest.mark.parametrize(
    ("now", "named"),
    [
        pytest.param(NIGHT, "carol@acme.example (backup dave@acme.example)", id="rotation"),
        # The override names no backup: the rotation's backup of the moment (week 2) stays.
        pytest.param(datetime(2026, 1, 21, 12, tzinfo=UTC),
                     "erin@acme.example (backup bob@acme.example)", id="override"),
    ],
)
def test_page_posts_to_the_teams_channel_naming_primary_and_backup(now: datetime,
                                                                   named: str) -> None:
    policy = parse_policy(HEAD + ONCALL + "routes:\n  - {name: r, group: Ops, page: web}\n")
    result = plan(policy, now=now)
    page = by_key(result)["ticket:7/route:r/page"]
    assert isinstance(page, NotifyChannel)
    assert page.channel == "pager"
    assert page.text.startswith("[afterhours] r: ticket #7 “A question” → Ops")
    assert page.text.endswith(f"On call for web: {named}.")
    # Pages never wait for Zendesk: if the group change has not landed, the page goes out
    # with the same words minus the group.
    assert page.claim is not None
    assert page.claim.key == "ticket:7/route:r/assign_group"
    assert page.claim.plain_text.startswith("[afterhours] r: ticket #7 “A question” <https://")
    assert page.claim.plain_text.endswith(f"On call for web: {named}.")
    reasons = {p.key: p.reason for p in result.actions}
    primary = named.split(" ", 1)[0]
    assert reasons["ticket:7/route:r/page"].endswith(f"; {primary} is on call for web")


def test_page_from_an_escalation_level() -> None:
    policy = parse_policy(HEAD + ONCALL + """\
escalations:
  - name: p1
    levels: [{after_minutes: 30, until: first_reply, page: web, notify: ops}]
""")
    result = plan(policy, now=NIGHT + timedelta(minutes=30))
    actions = by_key(result)
    page = actions["ticket:7/escalation:p1/level:1/page"]
    notify = actions["ticket:7/escalation:p1/level:1/notify"]
    assert isinstance(page, NotifyChannel)
    assert isinstance(notify, NotifyChannel)
    assert (page.channel, notify.channel) == ("pager", "ops")
    assert page.text == notify.text + (
        " On call for web: carol@acme.example (backup dave@acme.example).")


# Replies and notes: templates and their placeholders.

REPLIES = OFFICE + """\
reply_promises:
  urgent: {minutes: 60, clock: calendar}
  normal: {minutes: 120, clock: business}
templates:
  ack: "Ticket {ticket_id}: we reply by {reply_by}. The desk opens {next_open}. {{ok}}"
"""


@pytest.mark.parametrize(
    ("priority", "reply_by"),
    [
        pytest.param("urgent", "Saturday 17 January at 03:00 (Europe/London)", id="calendar"),
        pytest.param("normal", "Monday 19 January at 11:00 (Europe/London)", id="business"),
        pytest.param("low", "as soon as we can", id="no-promise"),
    ],
)
def test_reply_fills_placeholders_with_the_priority_set_in_the_same_plan(
    priority: str, reply_by: str
) -> None:
    policy = parse_policy(REPLIES + f"""\
priority_rules:
  - {{name: p, priority: {priority}}}
routes:
  - {{name: ack, reply: ack}}
""")
    result = plan(policy)
    assert by_key(result)["ticket:7/route:ack/reply"] == AddPublicReply(
        7, f"Ticket 7: we reply by {reply_by}. The desk opens Monday 19 January at 09:00 "
        "(Europe/London). {ok}")


def test_reply_by_the_rule_that_sets_the_priority_uses_it() -> None:
    policy = parse_policy(REPLIES
                          + "priority_rules:\n  - {name: p, priority: urgent, reply: ack}\n")
    reply = by_key(plan(policy))["ticket:7/priority:p/reply"]
    assert isinstance(reply, AddPublicReply)
    assert "we reply by Saturday 17 January at 03:00 (Europe/London)" in reply.body


def test_next_open_is_now_when_the_desk_is_open() -> None:
    policy = parse_policy(REPLIES + "routes:\n  - {name: ack, reply: ack}\n")
    wednesday = datetime(2026, 1, 14, 10, 30, tzinfo=UTC)
    reply = by_key(plan(policy, make_ticket(created_at=wednesday), now=wednesday))
    body = reply["ticket:7/route:ack/reply"]
    assert isinstance(body, AddPublicReply)
    assert "The desk opens Wednesday 14 January at 10:30 (Europe/London)." in body.body


def test_note_fills_placeholders_and_ends_with_its_key() -> None:
    policy = parse_policy(REPLIES + """\
priority_rules:
  - {name: p, priority: urgent}
routes:
  - name: r
    note: "#{ticket_id} {priority} from {requester_email}: {subject}; reply by {reply_by}"
""")
    ticket = make_ticket(subject="Outage {reply_by} {{x}}\nsecond line")
    note = by_key(plan(policy, ticket))["ticket:7/route:r/note"]
    # The customer's subject is put in as it is, never read again as a template.
    assert note == AddInternalNote(
        7, "#7 urgent from ann@acme.example: Outage {reply_by} {{x}} second line; reply by "
        "Saturday 17 January at 03:00 (Europe/London)\n\n[afterhours ticket:7/route:r/note]")


def test_placeholders_on_a_ticket_without_requester_or_priority() -> None:
    policy = parse_policy(HEAD + "routes:\n  - {name: r, note: '[{requester_email}] {priority}'}\n")
    note = by_key(plan(policy, make_ticket(requester_email=None)))["ticket:7/route:r/note"]
    assert note == AddInternalNote(7, "[] none\n\n[afterhours ticket:7/route:r/note]")


def test_a_level_note_replaces_the_default_note() -> None:
    policy = parse_policy(HEAD + """\
escalations:
  - name: e
    levels: [{after_minutes: 0, until: solved, note: "Escalated #{ticket_id}"}]
""")
    assert by_key(plan(policy)) == {"ticket:7/escalation:e/level:1/note": AddInternalNote(
        7, "Escalated #7\n\n[afterhours ticket:7/escalation:e/level:1/note]")}


# Jira.

JIRA = HEAD + """\
priority_rules:
  - {name: p1, when: {keywords: [outage]}, priority: urgent}
  - {name: p3, when: {keywords: [idea]}, priority: low}
routes:
  - name: bug
    jira:
      project: ENG
      labels: [from-zendesk]
      components: [Web, Billing API]
      priority: {urgent: Highest, high: High, none: Lowest}
"""


@pytest.mark.parametrize(
    ("ticket", "jira_priority"),
    [
        pytest.param({"subject": "outage"}, "Highest", id="set-in-the-same-plan"),
        pytest.param({"priority": "high"}, "High", id="already-high"),
        pytest.param({}, "Lowest", id="none"),
        pytest.param({"subject": "idea"}, None, id="not-listed"),
    ],
)
def test_jira_priority_follows_the_zendesk_priority(ticket: dict[str, Any],
                                                   jira_priority: str | None) -> None:
    result = plan(parse_policy(JIRA), make_ticket(**ticket))
    create = by_key(result)["ticket:7/route:bug/create_jira_issue"]
    assert isinstance(create, CreateJiraIssue)
    assert create.priority == jira_priority
    assert create.components == ("Web", "Billing API")
    assert create.labels == ("zendesk-7", "from-zendesk")
    assert (create.project, create.issue_type) == ("ENG", "Bug")


def test_jira_without_priority_or_components() -> None:
    policy = parse_policy(HEAD + "routes:\n  - {name: bug, jira: {project: ENG}}\n")
    create = by_key(plan(policy))["ticket:7/route:bug/create_jira_issue"]
    assert isinstance(create, CreateJiraIssue)
    assert (create.priority, create.components) == (None, ())


def test_two_matching_rules_file_one_jira_issue() -> None:
    policy = parse_policy(HEAD + """\
routes:
  match: all
  rules:
    - {name: a, jira: {project: ENG}}
    - {name: b, jira: {project: OPS}}
""")
    result = plan(policy)
    assert [p.key for p in result.actions] == ["ticket:7/route:a/create_jira_issue"]
    assert skips(result) == {
        "ticket:7/route:b/create_jira_issue": "already filed in Jira by route:a"}


def test_a_priority_rule_files_jira_with_the_priority_it_sets() -> None:
    policy = parse_policy(HEAD + """\
priority_rules:
  - name: p1
    priority: urgent
    jira: {project: ENG, priority: {urgent: Highest, none: Lowest}}
""")
    create = by_key(plan(policy))["ticket:7/priority:p1/create_jira_issue"]
    assert isinstance(create, CreateJiraIssue)
    assert create.description.priority == "urgent"
    assert create.priority == "Highest"


def test_an_escalation_level_raises_the_priority_a_rule_set_earlier() -> None:
    policy = parse_policy(HEAD + """\
priority_rules:
  - {name: p2, priority: normal}
escalations:
  - name: bump
    levels: [{after_minutes: 60, until: solved, priority: urgent}]
""")
    # The rule set normal long ago; an hour in, the level raises it.
    seen = plan(policy, make_ticket())
    landed = apply_changes(make_ticket(), (p.action for p in seen.actions))
    later = plan(policy, landed, now=NIGHT + timedelta(minutes=90), settled=all_keys(seen))
    assert by_key(later)["ticket:7/escalation:bump/level:1/set_priority"] == SetPriority(
        7, "urgent")


def test_a_route_priority_applies_after_a_priority_rule_that_changed_nothing() -> None:
    policy = parse_policy(HEAD + """\
priority_rules:
  - {name: p2, when: {priorities: [normal]}, priority: normal}
routes:
  - {name: vip, when: {organizations: [Acme]}, priority: high}
""")
    result = plan(policy, make_ticket(priority="normal"))
    assert by_key(result) == {"ticket:7/route:vip/set_priority": SetPriority(7, "high")}


# Stable ids.

NAMED = HEAD + """\
channels: {ops: {}}
routes:
  - {id: night-desk, name: NAME, group: Night, tags: [night], note: seen, notify: ops}
escalations:
  - id: slow
    name: LADDER
    levels:
      - {id: first, after_minutes: 0, until: solved, tags: [slow]}
"""


def test_keys_use_the_id_not_the_name() -> None:
    result = plan(parse_policy(NAMED.replace("NAME", "night").replace("LADDER", "slow-reply")))
    assert sorted(by_key(result)) == [
        "ticket:7/escalation:slow/level:first/add_tags",
        "ticket:7/escalation:slow/level:first/note",
        "ticket:7/route:night-desk/add_tags",
        "ticket:7/route:night-desk/assign_group",
        "ticket:7/route:night-desk/note",
        "ticket:7/route:night-desk/notify",
    ]


def test_renaming_a_rule_with_an_id_plans_nothing_new() -> None:
    before = plan(parse_policy(NAMED.replace("NAME", "night").replace("LADDER", "slow-reply")))
    renamed = parse_policy(NAMED.replace("NAME", "after-dark").replace("LADDER", "very-slow"))
    again = plan(renamed)
    assert sorted(by_key(again)) == sorted(by_key(before))
    assert not plan(renamed, settled=all_keys(before))


def test_renaming_a_rule_without_an_id_plans_again() -> None:
    text = HEAD + "routes:\n  - {name: NAME, tags: [night]}\n"
    before = plan(parse_policy(text.replace("NAME", "night")))
    again = plan(parse_policy(text.replace("NAME", "after-dark")), settled=all_keys(before))
    assert by_key(again) == {"ticket:7/route:after-dark/add_tags": AddTags(7, ("night",))}


def test_a_level_id_survives_a_level_inserted_above() -> None:
    one = HEAD + "escalations:\n  - name: e\n    levels:\n"
    level = "      - {id: late, after_minutes: 30, until: solved, tags: [late]}\n"
    first = plan(parse_policy(one + level), now=NIGHT + timedelta(minutes=30))
    inserted = parse_policy(one + "      - {after_minutes: 60, until: solved, tags: [later]}\n"
                            + level)
    again = plan(inserted, now=NIGHT + timedelta(minutes=30), settled=all_keys(first))
    assert not again


# Every effect together, and a plan applied then planned again.


def test_every_effect_of_one_rule_lands_once() -> None:
    policy = parse_policy(REPLIES + ONCALL + """\
routes:
  - name: all-in
    priority: high
    tags: [night, triage]
    remove_tags: [new]
    group: Night
    assignee: 'oncall:web'
    note: "for {ticket_id}"
    reply: ack
    notify: ops
    page: web
""")
    ticket = make_ticket(tags=frozenset({"new", "night"}))
    result = plan(policy, ticket)
    kinds = {p.key.rsplit("/", 1)[1]: type(p.action) for p in result.actions}
    assert kinds == {
        "set_priority": SetPriority, "add_tags": AddTags, "remove_tags": RemoveTags,
        "assign_group": AssignGroup, "assign_agent": AssignAgent, "note": AddInternalNote,
        "reply": AddPublicReply, "notify": NotifyChannel, "page": NotifyChannel,
    }
    assert by_key(result)["ticket:7/route:all-in/add_tags"] == AddTags(7, ("triage",))
    landed = apply_changes(ticket, (p.action for p in result.actions))
    assert landed.tags == {"night", "triage"}
    assert (landed.priority, landed.group, landed.assignee) == ("high", "Night",
                                                                "carol@acme.example")
    assert not plan(policy, landed, settled=all_keys(result))
