"""Every construct of the policy language rendered through `explain`, each said truthfully:
every condition held and failed, every effect, every ladder option and every state a level
can be in. The policy is tests/fixtures/every_construct_policy.yaml."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from afterhours.adapters.state import AuditRow
from afterhours.domain.model import History
from afterhours.inspect.explain import Ledger, explain_ticket, explanation_to_json
from afterhours.inspect.explain_text import render_explanation
from afterhours.policy import Policy, parse_policy
from factories import make_ticket

POLICY_TEXT = (Path(__file__).parents[1] / "fixtures" / "every_construct_policy.yaml").read_text(
    encoding="utf-8")
EVERY = parse_policy(POLICY_TEXT)
# The same rules with each block's match: turned round.
TURNED = parse_policy(POLICY_TEXT.replace("priority_rules:\n  match: all",
                                          "priority_rules:\n  match: first")
                      .replace("routes:\n  match: first", "routes:\n  match: all")
                      .replace("escalations:\n  match: all", "escalations:\n  match: first"))
NIGHT = datetime(2026, 11, 20, 22, 40, tzinfo=UTC)  # Friday 22:40 in London: after hours
LATE = NIGHT + timedelta(minutes=95)  # Saturday 00:15
NO_LEDGER = Ledger("state.sqlite3", found=False)
TZ = "Europe/London"


def explain(policy: Policy = EVERY, now: datetime = LATE, ledger: Ledger = NO_LEDGER,
            **fields: Any) -> str:
    """The text report on a ticket created on Friday night (fields override)."""
    ticket = make_ticket(**{"created_at": NIGHT} | fields)
    return render_explanation(explain_ticket(ticket, policy, now, ledger))


def has(text: str, *lines: str) -> None:
    """Each of `lines` is a line of `text`, once its indentation is set aside."""
    found = {line.strip() for line in text.splitlines()}
    missing = [line for line in lines if line.strip() not in found]
    assert not missing, "missing:\n" + "\n".join(missing) + "\n--- in:\n" + text


def test_an_outage_overnight_shows_every_block_and_level_acting() -> None:
    text = explain(subject="Outage", description="all broken",
                   custom_fields=(("Plan", "enterprise"),), tags=frozenset({"fresh"}))
    has(text,
        "Arrival: AFTER HOURS, created Fri 20 Nov 22:40 Europe/London",
        "because 22:40 is outside Friday's hours 09:00-17:30.",
        # match: all, keywords, after_hours, and what a priority rule does.
        "Priority rules: every rule that matches acts:",
        "1. p1: MATCHED",
        "yes: keyword 'outage' in subject",
        f"yes: created after hours (Fri 20 Nov 22:40 {TZ})",
        "does: priority urgent, tags p1, remove tags fresh, internal note “P1 raised for"
        " {ticket_id}”",
        # organizations and requester_domains failing, after_hours: false failing.
        "2. vip: not matched",
        "no:  organization 'Acme' not in Globex",
        "no:  requester domain 'acme.example' not in globex.com",
        "3. daytime: not matched",
        f"no:  created after hours (Fri 20 Nov 22:40 {TZ})",
        # match: first; any (a contains and a regex, both failing), not, channels.
        "Routes: the first route that matches wins:",
        "1. billing: not matched",
        "yes: channel 'email'",
        "yes: not: status is not 'pending'",
        r"no:  none of: text contains none of refund | subject does not match /^\[?sev-?1\b/",
        # all (a contains failing, a tag shorthand holding) on the routes' view of the ticket.
        "2. engineering: not matched",
        "yes: tag 'p1'",
        "no:  description contains none of crash",
        # every field test holding: present, equals, in, regex, tag, fields, priorities.
        "3. enterprise: WON",
        "yes: priority 'urgent'",
        "yes: subject has a value",
        "yes: status is 'new'",
        "yes: priority has a value",
        "yes: channel matches /^e/",
        "yes: requester_email is 'ann@acme.example'",
        "yes: requester_domain is 'acme.example'",
        "yes: organization is 'Acme'",
        "yes: group is empty",
        "yes: assignee is empty",
        "yes: tag is 'p1'",
        "yes: field 'Plan' is 'enterprise'",
        "does: page support (whoever is on call), assignee lead@acme.example",
        # A ladder keyed on the priority this very plan sets, and its acknowledgement.
        "Escalation ladders: every ladder that matches applies:",
        "p1-ladder: applies once the planned changes below are made",
        "the whole ladder stops once acknowledged: tag taken or an agent's public reply",
        # after_minutes: 0, page, tags.
        "level 1: at creation, unless an agent's first public reply -> page support (whoever"
        " is on call), tags paged, internal note",
        f"due Fri 20 Nov 22:40 {TZ}: due 1h 35m ago: fires once the planned changes are made",
        # repeat_every_minutes, max_repeats: the repeat due now.
        "level 2: 30 calendar minutes after creation, then every 30 calendar minutes up to 2"
        " more times, unless an agent's first public reply -> notify leads, internal note",
        f"due Fri 20 Nov 23:10 {TZ}: repeat 2 due 5m ago: fires once the planned changes are"
        " made",
        # from: first_reply_due, clock: business, until: answered, priority, assignee, reply, note.
        "level 3: 15 business minutes after the promised first reply time, unless an answer"
        " (the ticket pending or solved) -> priority high, assignee lead@acme.example, public"
        " reply ack, internal note “Promise missed for {ticket_id}”",
        f"due Mon 23 Nov 09:15 {TZ} (counted from the promised first reply time, Fri 20 Nov"
        f" 23:40 {TZ}): not yet due: in 2d 9h",
        # from: last_customer_update, until: solved, group, remove_tags.
        "level 4: 60 calendar minutes after the requester's last update, unless solved ->"
        " group Leads, remove tags p1, internal note",
        f"due Fri 20 Nov 23:40 {TZ} (counted from the requester's last update, Fri 20 Nov"
        f" 22:40 {TZ}): due 35m ago: fires once the planned changes are made",
        # not: failing, and a ladder that does not apply.
        "promise: does not apply",
        "no:  not: but tag 'p1'",
        "never-matches: does not apply",
        "no:  none of the tags nothing-has-this",
        # The planned actions: page through the team's channel, on call named.
        "- assignee lead@acme.example  [AssignAgent, route:enterprise]",
        "- notify channel pager  [NotifyChannel, route:enterprise]",
        "- tags paged  [AddTags, escalation:p1-ladder/level:now]",
        "- notify channel leads  [NotifyChannel, escalation:p1-ladder/level:2/repeat:2]",
        "- group Leads  [AssignGroup, escalation:p1-ladder/level:4@20261120T224000]",
        "- remove tags fresh  [RemoveTags, priority:p1]",
        "- priority:daytime: created after hours (Fri 20 Nov 22:40 Europe/London)",
    )
    assert "alice@acme.example is on call for support" in text


def test_every_field_test_failing_says_what_it_wanted() -> None:
    text = explain(created_at=datetime(2026, 11, 18, 10, tzinfo=UTC),
                   now=datetime(2026, 11, 18, 11, tzinfo=UTC), subject="",
                   requester_email="o@else.example", organization=None, group="Tier 2",
                   assignee="x@acme.example", status="hold", channel="web")
    has(text,
        "Arrival: in business hours, created Wed 18 Nov 10:00 Europe/London",
        "3. daytime: MATCHED",
        f"yes: created in business hours (Wed 18 Nov 10:00 {TZ})",
        "does: priority low",
        "no:  no organization (wanted Globex)",
        "no:  requester domain 'else.example' not in globex.com",
        "no:  channel 'web' not in email",
        "no:  priority 'low' not in urgent",
        "no:  subject is empty",
        "no:  status is not one of new, open, pending",
        "no:  channel does not match /^e/",
        "no:  requester_email is not 'ann@acme.example'",
        "no:  requester_domain is not one of acme.example",
        "no:  organization is not 'Acme'",
        "no:  group has a value",
        "no:  assignee has a value",
        "no:  tag is not one of p1",
        "no:  field 'Plan' is not 'enterprise'",
        "=> no route matches: nothing from this block",
        "p1-ladder: does not apply",
        # acknowledged_by assignee, and a promise the priority does not have.
        "promise: applies",
        "yes: not: none of the tags p1",
        "the whole ladder stops once acknowledged: an assignee is set",
        "level 1: at the promised first reply time, unless an agent's first public reply ->"
        " notify leads, internal note",
        "never: no first reply is promised for priority low",
    )


def test_a_refund_matches_on_any_and_files_nothing_twice() -> None:
    text = explain(subject="Refund please", description="The app: crash. Data loss!")
    has(text,
        "1. billing: WON",
        "yes: any of: subject contains 'refund'",
        "does: notify leads, group Finance, public reply ack",
        "2. engineering: not considered (billing won first; on its own it would match)",
        "3. enterprise: not considered (billing won first; on its own it would not match)",
        "- group Finance  [AssignGroup, route:billing]",
        "- notify channel leads  [NotifyChannel, route:billing]")
    assert "public reply “Thanks for ticket 7; we reply by" in text


def test_a_jira_route_with_an_id_and_the_on_call_assignee() -> None:
    text = explain(subject="Export broken", description="Data loss: the app crash on export")
    has(text,
        "2. engineering: WON",
        "yes: description contains 'crash'",
        "yes: tag 'p1'",
        "does: assignee whoever is on call for support, tags product_bug, file in Jira: Task"
        " in ENG, labels zendesk-<id>, from-zendesk, components Web app, Jira priority urgent"
        " Highest",
        "- tags product_bug  [AddTags, route:eng-id]",
        "- assignee alice@acme.example  [AssignAgent, route:eng-id]",
        "- Jira Task in ENG: “Export broken (Zendesk #7)”  [CreateJiraIssue, route:eng-id]")


def test_a_regex_branch_of_any() -> None:
    text = explain(subject="[SEV1] checkout", description="all broken")
    has(text, "1. billing: WON", r"yes: any of: subject matches /^\[?sev-?1\b/")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            {"first_reply_at": NIGHT + timedelta(minutes=20), "replies": 1, "status": "open"},
            [f"due Fri 20 Nov 22:40 {TZ}: stopped by the first reply Fri 20 Nov 23:00 {TZ}",
             f"due Fri 20 Nov 23:10 {TZ}: stopped by the first reply Fri 20 Nov 23:00 {TZ}",
             # Not stopped (it waits for an answer), but the public reply acknowledges.
             f"due Fri 20 Nov 23:40 {TZ} (counted from the requester's last update, Fri 20 Nov"
             f" 22:40 {TZ}): acknowledged: an agent has replied in public: nothing is sent"
             " while it holds",
             "- escalation:p1-ladder/level:4@20261120T224000: acknowledged: an agent has"
             " replied in public; the ladder p1-ladder stops"],
            id="first-reply"),
        pytest.param(
            {"status": "pending", "updated_at": NIGHT + timedelta(minutes=50)},
            [f"due Mon 23 Nov 09:15 {TZ} (counted from the promised first reply time, Fri 20"
             f" Nov 23:40 {TZ}): stopped by an answer Fri 20 Nov 23:30 {TZ}",
             "no:  not: but status is 'pending'"],
            id="answered"),
        pytest.param(
            {"status": "solved", "solved_at": NIGHT + timedelta(minutes=70)},
            [f"due Fri 20 Nov 22:40 {TZ}: stopped by solving Fri 20 Nov 23:50 {TZ}",
             f"due Fri 20 Nov 23:40 {TZ} (counted from the requester's last update, Fri 20 Nov"
             f" 22:40 {TZ}): stopped by solving Fri 20 Nov 23:50 {TZ}",
             "The ticket is solved: afterhours plans nothing for it; the rules below show what"
             " they would say.",
             "nothing to do: the ticket is solved"],
            id="solved"),
        pytest.param(
            {"tags": frozenset({"p1", "taken"})},
            [f"due Fri 20 Nov 22:40 {TZ}: acknowledged: tag 'taken': nothing is sent while it"
             " holds",
             "- escalation:p1-ladder/level:now: acknowledged: tag 'taken'; the ladder p1-ladder"
             " stops"],
            id="acknowledged-by-tag"),
    ],
)
def test_what_stops_a_level_is_named_with_its_time(fields: dict[str, Any],
                                                   expected: list[str]) -> None:
    text = explain(subject="Outage", description="all broken", priority="urgent",
                   tags=fields.pop("tags", frozenset({"p1"})), **fields)
    has(text, *expected)


def test_a_level_done_before_names_when_and_the_next_repeat() -> None:
    rule = "escalation:p1-ladder/level:2/repeat:1"  # due 23:40; repeat 2 is due at 00:10
    keys = frozenset({f"ticket:7/{rule}/notify", f"ticket:7/{rule}/note"})
    row = AuditRow(1, "2026-11-20T23:40:30+00:00", 7, f"ticket:7/{rule}/notify", rule,
                   "NotifyChannel", "done", "no first reply", {})
    ticket = {"subject": "Outage", "priority": "urgent", "tags": frozenset({"p1"}),
              "now": NIGHT + timedelta(minutes=61)}
    text = explain(ledger=Ledger("state.sqlite3", True, History(keys), (row,)), **ticket)
    has(text, f"due Fri 20 Nov 23:10 {TZ}: already fired Fri 20 Nov 23:40 {TZ}; next repeat in"
              " 29m")
    settled = explain(ledger=Ledger("state.sqlite3", True, History(keys)), **ticket)
    has(settled, f"due Fri 20 Nov 23:10 {TZ}: already settled in the ledger (skipped or failed);"
                 " next repeat in 29m")


def test_a_rule_says_which_of_its_steps_the_ledger_has() -> None:
    keys = frozenset({"ticket:7/route:billing/assign_group", "ticket:7/route:billing/reply"})
    text = explain(ledger=Ledger("state.sqlite3", True, History(keys)), subject="Refund")
    has(text, "1. billing: WON", "already done (ledger): assign_group, reply")
    assert "[AssignGroup, route:billing]" not in text


def test_the_other_match_modes_are_titled_and_judged_as_they_act() -> None:
    text = explain(TURNED, subject="Question about refund", priority="urgent")
    has(text,
        "Priority rules: the first rule that matches wins:",
        "Routes: every route that matches acts:",
        "1. billing: MATCHED",
        "Escalation ladders: the first ladder that matches applies:",
        "p1-ladder: applies",
        "promise: not considered (p1-ladder applies first)")


def test_a_holiday_arrival_names_the_holiday() -> None:
    has(explain(created_at=datetime(2026, 12, 25, 10, tzinfo=UTC),
                now=datetime(2026, 12, 25, 11, tzinfo=UTC)),
        "because 2026-12-25 is a holiday in the schedule: closed all day.")


def test_json_carries_each_levels_verdict() -> None:
    ticket = make_ticket(created_at=NIGHT, subject="Outage", priority="urgent",
                         tags=frozenset({"p1"}), status="pending",
                         updated_at=NIGHT + timedelta(minutes=50))
    data = explanation_to_json(explain_ticket(ticket, EVERY, LATE, NO_LEDGER))
    levels = data["escalations"][0]["levels"]
    assert [(v["verdict"], v["state"]) for v in levels] == [
        ("acts", "due"), ("acts", "due"), ("stopped", "stopped"), ("acts", "due")]
    assert levels[1]["occurrence"] == {"repeat": 2, "due_at": "2026-11-21T00:10:00+00:00"}
    assert levels[1]["next_due_at"] is None  # max_repeats: 2, both spent
    assert levels[2]["from"] == "first_reply_due"
    assert levels[2]["start_at"] == "2026-11-20T23:40:00+00:00"
    assert levels[2]["stop"] == {"event": "an answer", "at": "2026-11-20T23:30:00+00:00",
                                 "reason": "the ticket is pending: it waits on the requester"}
    assert [a["kind"] for a in levels[0]["actions"]] == [
        "AddTags", "NotifyChannel", "AddInternalNote"]
    assert data["routes"][2]["failed"] == ["field 'Plan' is not 'enterprise'"]
