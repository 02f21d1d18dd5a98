"""What a policy is refused for beyond its shape: names that point nowhere, placeholders, ids
used twice, and rules that can never match. Each problem is located at file:line:column."""

from __future__ import annotations

import pytest

from afterhours.domain.model import History
from afterhours.domain.planner import plan_actions
from afterhours.errors import PolicyError
from afterhours.policy import parse_policy
from factories import make_ticket

HEAD = "version: 1\nschedule:\n  time_zone: UTC\n  hours: {}\n"  # lines 1-4
ALWAYS_OPEN = "version: 1\nschedule:\n  time_zone: UTC\n  hours: {" + ", ".join(
    f"{day}: ['00:00-24:00']" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")) + "}\n"
TEAM = ("oncall:\n  web: {time_zone: UTC, handover: mon 09:00, starts: 2026-01-05, CHANNEL"
        "rotation: [{primary: a@acme.example, backup: b@acme.example}]}\n")  # line 6
WEB = TEAM.replace("CHANNEL", "channel: pager, ")


def problems(text: str) -> list[str]:
    """The located problems `parse_policy` raises for `text`, named p.yaml."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.yaml")
    return caught.value.problems


def one_problem(text: str) -> str:
    """The one problem `text` has."""
    (found,) = problems(text)
    assert found.startswith("p.yaml:")
    return found


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            HEAD + "channels: {desk: {}}\nroutes:\n  - {name: a, notify: dsek}\n",
            "channel 'dsek' is not declared: did you mean 'desk'? (at routes.0.notify)",
            id="channel-hint"),
        pytest.param(
            HEAD + "channels: {desk: {}, ops: {}}\nroutes:\n  - {name: a, notify: zzz}\n",
            "channel 'zzz' is not declared; declared: desk, ops (at routes.0.notify)",
            id="channel-no-hint"),
        pytest.param(
            HEAD + "escalations:\n  - {name: e, levels: [{after_minutes: 5, until: solved, "
            "notify: desk}]}\n",
            "channel 'desk' is not declared; declared: none (at escalations.0.levels.0.notify)",
            id="channel-none-declared"),
        pytest.param(
            HEAD + "channels: {pager: {}}\n" + WEB + "routes:\n  - {name: a, page: wbe}\n",
            "on-call team 'wbe' is not declared: did you mean 'web'? (at routes.0.page)",
            id="team-hint"),
        pytest.param(
            HEAD + "channels: {pager: {}}\n" + WEB
            + "routes:\n  - {name: a, assignee: 'oncall:webb'}\n",
            "on-call team 'webb' is not declared: did you mean 'web'? (at routes.0.assignee)",
            id="oncall-assignee-hint"),
        pytest.param(
            HEAD + "routes:\n  - {name: a, assignee: 'oncall:'}\n",
            "on-call team '' is not declared; declared: none (at routes.0.assignee)",
            id="oncall-assignee-no-team"),
        pytest.param(
            HEAD + "channels: {ops: {}}\n" + TEAM.replace("CHANNEL", "channel: opz, "),
            "channel 'opz' is not declared: did you mean 'ops'? (at oncall.web.channel)",
            id="team-channel"),
        pytest.param(
            HEAD + "templates: {ack: hi}\nroutes:\n  - {name: a, reply: akc}\n",
            "template 'akc' is not declared: did you mean 'ack'? (at routes.0.reply)",
            id="template-hint"),
        pytest.param(
            HEAD + "priority_rules:\n  - {name: a, priority: low, reply: ack}\n",
            "template 'ack' is not declared; declared: none (at priority_rules.0.reply)",
            id="template-none-declared"),
        pytest.param(
            HEAD + TEAM.replace("CHANNEL", "") + "routes:\n  - {name: a, page: web}\n",
            "on-call team 'web' has no channel: to page (at routes.0.page)",
            id="page-team-without-channel"),
        pytest.param(
            HEAD + "routes:\n  - {name: a, assignee: bob}\n",
            "assignee 'bob' is neither an email nor oncall:<team> (at routes.0.assignee)",
            id="assignee-not-email"),
        pytest.param(
            HEAD + "routes:\n  - {name: a, assignee: 'on-call:web'}\n",
            "assignee 'on-call:web' is neither an email nor oncall:<team> (at routes.0.assignee)",
            id="assignee-misspelt-prefix"),
    ],
)
def test_undeclared_names(text: str, message: str) -> None:
    assert one_problem(text).endswith(message)


def test_undeclared_names_point_at_their_line() -> None:
    text = HEAD + "channels: {desk: {}}\nroutes:\n  - name: a\n    notify: dsek\n"
    assert one_problem(text).startswith("p.yaml:8:13: channel 'dsek'")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            HEAD + "templates: {ack: 'Hi, ticket {tiket_id}'}\n",
            "unknown placeholder {tiket_id}: did you mean {ticket_id}? (at templates.ack)",
            id="template-hint"),
        pytest.param(
            HEAD + "templates: {ack: 'Hi {zzz}'}\n",
            "unknown placeholder {zzz}: known: {ticket_id}, {subject}, {requester_email}, "
            "{priority}, {reply_by}, {next_open}, {known_issue}, {articles}, {issue_key}, "
            "{issue_url}, {fix_version}, {resolution} (at templates.ack)",
            id="template-known-list"),
        pytest.param(
            HEAD + "routes:\n  - {name: a, note: 'see {reply_bye}'}\n",
            "unknown placeholder {reply_bye}: did you mean {reply_by}? (at routes.0.note)",
            id="note-hint"),
        pytest.param(
            HEAD + "escalations:\n  - {name: e, levels: [{after_minutes: 0, until: solved, "
            "note: '{Subject}'}]}\n",
            "unknown placeholder {Subject}: did you mean {subject}? "
            "(at escalations.0.levels.0.note)",
            id="level-note-case"),
        pytest.param(
            HEAD + "templates: {ack: 'by {reply_by}'}\n",
            "{reply_by} needs reply_promises: to say when the first reply is due "
            "(at templates.ack)",
            id="reply-by-in-template"),
        pytest.param(
            HEAD + "routes:\n  - {name: a, note: 'by {reply_by}'}\n",
            "{reply_by} needs reply_promises: to say when the first reply is due "
            "(at routes.0.note)",
            id="reply-by-in-note"),
        pytest.param(
            HEAD + "escalations:\n  - {name: e, levels: [{after_minutes: 0, "
            "from: first_reply_due, until: first_reply}]}\n",
            "from: first_reply_due needs reply_promises: to say when the first reply is due "
            "(at escalations.0.levels.0.from)",
            id="first-reply-due-without-promises"),
    ],
)
def test_placeholders_and_promises(text: str, message: str) -> None:
    assert one_problem(text).endswith(message)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(HEAD + "templates: {ack: 'Literal {{reply_by}} and {{ and }}'}\n",
                     id="escaped-braces"),
        pytest.param(HEAD + "reply_promises: {urgent: {minutes: 60}}\n"
                     "templates: {ack: 'by {reply_by}'}\n"
                     "escalations:\n  - {name: e, levels: [{after_minutes: 0, "
                     "from: first_reply_due, until: first_reply}]}\n",
                     id="with-promises"),
        pytest.param(HEAD + "templates: {ack: '{ticket_id} {subject} {requester_email} "
                     "{priority} {next_open}'}\n", id="every-other-placeholder"),
        pytest.param(HEAD + "channels: {pager: {}}\n" + WEB
                     + "routes:\n"
                     "  - {name: a, when: {tags: [y]}, page: web, assignee: 'oncall:web'}\n"
                     "  - {name: b, when: {tags: [x]}, assignee: Bo@Acme.Example}\n",
                     id="team-and-email"),
    ],
)
def test_what_is_fine(text: str) -> None:
    parse_policy(text)


def test_every_problem_is_reported_at_once() -> None:
    found = problems(HEAD + "templates: {ack: '{tiket_id}'}\n"
                     "routes:\n  - {name: a, notify: desk, reply: ackk, assignee: bob}\n")
    assert sorted(f.split(": ", 1)[1] for f in found) == sorted([
        "unknown placeholder {tiket_id}: did you mean {ticket_id}? (at templates.ack)",
        "channel 'desk' is not declared; declared: none (at routes.0.notify)",
        "assignee 'bob' is neither an email nor oncall:<team> (at routes.0.assignee)",
        "template 'ackk' is not declared: did you mean 'ack'? (at routes.0.reply)",
    ])


# Rules that can never match.

CATCH_ALL = """\
  - {name: anything, tags: [seen]}
  - {name: billing, when: {keywords: [invoice]}, tags: [billing]}
"""


@pytest.mark.parametrize(
    ("block", "path"),
    [
        pytest.param("routes:\n" + CATCH_ALL, "routes.1.name", id="routes-short-form"),
        pytest.param("routes:\n  match: first\n  rules:\n" + CATCH_ALL.replace("  -", "    -"),
                     "routes.rules.1.name", id="routes-long-form"),
        pytest.param("priority_rules:\n  - {name: anything, priority: low}\n"
                     "  - {name: billing, when: {keywords: [invoice]}, priority: high}\n",
                     "priority_rules.1.name", id="priority-rules"),
        pytest.param("escalations:\n  match: first\n  rules:\n"
                     "    - {name: anything, levels: [{after_minutes: 5, until: solved}]}\n"
                     "    - {name: billing, when: {keywords: [invoice]}, "
                     "levels: [{after_minutes: 5, until: solved}]}\n",
                     "escalations.rules.1.name", id="escalations-first"),
        pytest.param("routes:\n  - {name: anything, when: {}, tags: [seen]}\n"
                     "  - {name: billing, when: {keywords: [invoice]}, tags: [billing]}\n",
                     "routes.1.name", id="empty-when"),
        pytest.param("routes:\n  - {name: anything, when: {any: [], keywords: []}, tags: [a]}\n"
                     "  - {name: billing, when: {keywords: [invoice]}, tags: [billing]}\n",
                     "routes.1.name", id="empty-lists-when"),
    ],
)
def test_a_rule_after_a_catch_all_in_a_first_match_block_can_never_match(block: str,
                                                                         path: str) -> None:
    assert one_problem(HEAD + block).endswith(
        "rule 'billing' can never match: 'anything' before it matches every ticket and this "
        f"block acts on the first match only (at {path})")


def test_every_rule_after_a_catch_all_is_reported() -> None:
    found = problems(HEAD + "routes:\n" + CATCH_ALL + "  - {name: third, tags: [z]}\n")
    assert [f.split(" can never match")[0].rsplit(": ", 1)[1] for f in found] == [
        "rule 'billing'", "rule 'third'"]


@pytest.mark.parametrize(
    "block",
    [
        pytest.param("routes:\n  match: all\n  rules:\n" + CATCH_ALL.replace("  -", "    -"),
                     id="routes-all"),
        pytest.param("escalations:\n"
                     "  - {name: anything, levels: [{after_minutes: 5, until: solved}]}\n"
                     "  - {name: billing, when: {keywords: [invoice]}, "
                     "levels: [{after_minutes: 5, until: solved}]}\n",
                     id="escalations-default-all"),
        pytest.param("routes:\n" + CATCH_ALL.splitlines()[1] + "\n" + CATCH_ALL.splitlines()[0]
                     + "\n", id="catch-all-last"),
        pytest.param("routes:\n  - {name: anything, when: {after_hours: true}, tags: [a]}\n"
                     "  - {name: billing, when: {keywords: [invoice]}, tags: [billing]}\n",
                     id="hours-is-a-condition"),
    ],
)
def test_a_rule_after_a_catch_all_is_fine_in_an_all_match_block(block: str) -> None:
    parse_policy(HEAD + block)


def test_all_match_block_with_a_catch_all_runs_both() -> None:
    policy = parse_policy(HEAD + "routes:\n  match: all\n  rules:\n"
                          + CATCH_ALL.replace("  -", "    -"))
    result = plan_actions(make_ticket(subject="invoice"), policy,
                          make_ticket().created_at, History())
    assert [p.rule for p in result.actions] == ["route:anything", "route:billing"]


@pytest.mark.parametrize(
    ("schedule", "when", "message"),
    [
        pytest.param(ALWAYS_OPEN, "{after_hours: true}",
                     "the schedule is open around the clock every day (at routes.0.when."
                     "after_hours)", id="after-hours-on-24-7"),
        pytest.param(ALWAYS_OPEN, "{all: [{after_hours: true}]}",
                     "the schedule is open around the clock every day (at routes.0.when.all.0."
                     "after_hours)", id="after-hours-on-24-7-nested"),
        pytest.param(HEAD, "{after_hours: false}",
                     "the schedule has no open hours (at routes.0.when.after_hours)",
                     id="business-hours-never"),
        pytest.param(HEAD, "{status: {equals: solved}}",
                     "status solved: afterhours does nothing for solved, closed or deleted "
                     "tickets (at routes.0.when.status)", id="status-solved"),
        pytest.param(HEAD, "{status: {in: [Solved, closed]}}",
                     "status Solved, closed: afterhours does nothing for solved, closed or "
                     "deleted tickets (at routes.0.when.status)", id="status-solved-closed"),
        pytest.param(HEAD, "{not: {}}",
                     "not: with no condition inside excludes every ticket (at routes.0.when.not)",
                     id="not-nothing"),
        pytest.param(HEAD, "{any: [{not: {}}, {status: {equals: closed}}]}",
                     "none of the any: branches can match (at routes.0.when.any)",
                     id="any-of-impossible"),
    ],
)
def test_conditions_that_can_never_hold(schedule: str, when: str, message: str) -> None:
    found = one_problem(schedule + f"routes:\n  - {{name: r, when: {when}, tags: [x]}}\n")
    assert found.endswith(f"rule 'r' can never match: {message}")


@pytest.mark.parametrize(
    ("schedule", "when"),
    [
        pytest.param(ALWAYS_OPEN.replace("hours:", "holidays: [2026-12-25]\n  hours:"),
                     "{after_hours: true}", id="24-7-with-a-holiday"),
        pytest.param(ALWAYS_OPEN.replace(", sun: ['00:00-24:00']", ""), "{after_hours: true}",
                     id="closed-on-sunday"),
        pytest.param(ALWAYS_OPEN, "{after_hours: false}", id="business-hours-on-24-7"),
        pytest.param(HEAD, "{status: {in: [solved, pending]}}", id="status-some-open"),
        pytest.param(HEAD, "{not: {status: {equals: solved}}}", id="not-solved"),
        pytest.param(HEAD, "{not: {not: {}}}", id="not-not-nothing"),
        pytest.param(HEAD, "{any: [{not: {}}, {tag: {present: true}}]}", id="any-one-possible"),
    ],
)
def test_conditions_that_may_hold(schedule: str, when: str) -> None:
    parse_policy(schedule + f"routes:\n  - {{name: r, when: {when}, tags: [x]}}\n")


# Ids and names used twice.


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        pytest.param("  - {id: x, name: a, tags: [t]}\n  - {id: x, name: b, tags: [u]}\n",
                     "'x' is already what rule 'a' is remembered by; ids and names must not "
                     "repeat each other (at routes.rules.1.id)", id="same-id"),
        pytest.param("  - {name: x, tags: [u]}\n  - {id: x, name: a, tags: [t]}\n",
                     "'x' is already what rule 'x' is remembered by; ids and names must not "
                     "repeat each other (at routes.rules.1.id)", id="id-is-an-earlier-name"),
        pytest.param("  - {id: x, name: a, tags: [t]}\n  - {name: x, tags: [u]}\n",
                     "'x' is already what rule 'a' is remembered by; ids and names must not "
                     "repeat each other (at routes.rules.1.name)", id="name-is-an-earlier-id"),
        pytest.param("  - {name: a, tags: [t]}\n  - {name: a, when: {tags: [q]}, tags: [u]}\n",
                     "rule name 'a' is used twice; names must be unique (at routes.rules.1.name)",
                     id="same-name"),
    ],
)
def test_ids_and_names_used_twice(rules: str, message: str) -> None:
    text = HEAD + "routes:\n  match: all\n  rules:\n" + rules.replace("  -", "    -")
    assert one_problem(text).endswith(message)


def test_the_same_id_in_two_blocks_is_fine() -> None:
    policy = parse_policy(HEAD + "priority_rules:\n  - {id: x, name: a, priority: low}\n"
                          "routes:\n  - {id: x, name: b, tags: [u]}\n")
    result = plan_actions(make_ticket(), policy, make_ticket().created_at, History())
    assert [p.key for p in result.actions] == ["ticket:7/priority:x/set_priority",
                                               "ticket:7/route:x/add_tags"]


def test_duplicate_level_ids_are_refused() -> None:
    found = one_problem(HEAD + "escalations:\n  - name: e\n    levels:\n"
                        "      - {id: late, after_minutes: 5, until: solved}\n"
                        "      - {id: late, after_minutes: 50, until: solved}\n")
    assert "level id 'late' is used twice in this ladder" in found
    assert found.endswith("(at escalations.0.levels)")


def test_level_ids_may_repeat_across_ladders() -> None:
    parse_policy(HEAD + "escalations:\n"
                 "  - {name: e, levels: [{id: late, after_minutes: 5, until: solved}]}\n"
                 "  - {name: f, levels: [{id: late, after_minutes: 5, until: solved}]}\n")


def test_a_numeric_level_id_cannot_collide_with_a_position() -> None:
    # A level without an id is remembered by its position: level:2 here is both levels.
    found = one_problem(HEAD + "escalations:\n  - name: e\n    levels:\n"
                        "      - {id: '2', after_minutes: 0, until: solved, tags: [a]}\n"
                        "      - {after_minutes: 0, until: solved, tags: [b]}\n")
    assert "level id '2' is used twice in this ladder" in found


def test_a_numeric_level_id_at_its_own_position_is_fine() -> None:
    parse_policy(HEAD + "escalations:\n  - name: e\n    levels:\n"
                 "      - {id: '1', after_minutes: 0, until: solved}\n"
                 "      - {after_minutes: 5, until: solved}\n")


@pytest.mark.parametrize(
    "rules",
    [
        pytest.param("    - {id: x, name: a, tags: [t]}\n    - {name: x, tags: [u]}\n",
                     id="name-after-id"),
        pytest.param("    - {name: x, tags: [u]}\n    - {id: x, name: a, tags: [t]}\n",
                     id="id-after-name"),
    ],
)
def test_no_two_rules_share_a_key(rules: str) -> None:
    text = HEAD + "routes:\n  match: all\n  rules:\n" + rules
    try:
        policy = parse_policy(text)
    except PolicyError:
        return
    result = plan_actions(make_ticket(), policy, make_ticket().created_at, History())
    planned = [p.key for p in result.actions]
    assert len(planned) == len(set(planned)), planned
