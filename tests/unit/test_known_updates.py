"""A ticket acknowledged before it could join a known issue (its batch's filing waited on
Jira) is told the issue's status once, by a follow-up reply, after the join; a ticket whose
reply went with its join is not told twice; a person's reply or a solve withholds it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from test_known_issues import EXPORT_BUG, NIGHT, POLICY, POLICY_TEXT, by_key, make_ticket, plan

from afterhours.domain.actions import AddPublicReply, JoinJiraIssue, Plan
from afterhours.domain.join_refusals import refused_key
from afterhours.domain.known_issues import unlink_key
from afterhours.domain.model import History, JiraIssueRef
from afterhours.domain.planner import plan_actions
from afterhours.errors import PolicyError
from afterhours.inspect.explain import Ledger, explain_ticket
from afterhours.inspect.explain_text import render_explanation
from afterhours.policy import parse_policy
from afterhours.policy.model import Policy

RULE = "ticket:7/route:product-bug"
ACK = f"{RULE}/reply"
JOIN = f"{RULE}/join_jira_issue"
TOLD = "ticket:7/known_issue_update/told_with_join"
LATE = "ticket:7/known_issue_update/acknowledged_before_join"
UPDATE = "ticket:7/known_issue_update/reply"
WITHHELD = "ticket:7/known_issue_update/withheld"
STATUS = "Exports fail for some accounts since 4.1; a fix is in progress."
JOINED = JiraIssueRef("ENG-42", "https://acme.atlassian.net/browse/ENG-42")


def settled_by(result: Plan) -> frozenset[str]:
    """Every key the plan settles once taken: its actions and its skips."""
    return frozenset({p.key for p in result.actions} | {s.key for s in result.skips})


def skips(result: Plan) -> dict[str, str]:
    return {s.key: s.reason for s in result.skips}


def with_policy(extra: str) -> Policy:
    return parse_policy(POLICY_TEXT + extra)


def test_a_join_planned_with_the_reply_is_told_there_and_never_again() -> None:
    ticket = make_ticket(**EXPORT_BUG)
    first = plan(ticket)
    actions = by_key(first)
    assert actions[ACK] == AddPublicReply(7, f"Ticket #7 is queued. {STATUS}")
    assert UPDATE not in actions
    assert TOLD in skips(first)  # written down before anything is done
    # The join waited on Jira (a 429) while the reply went out with the status: the join
    # of a later pass tells nothing more, nor does any plan once the join is done.
    waited = settled_by(first) - {JOIN}
    assert isinstance(by_key(plan(ticket, History(waited)))[JOIN], JoinJiraIssue)
    assert UPDATE not in by_key(plan(ticket, History(waited)))
    assert plan(ticket, History(settled_by(first), JOINED)).actions == ()


def test_a_ticket_acknowledged_before_it_could_join_is_told_the_status_once() -> None:
    # Acknowledged in an earlier pass (nothing to join then), now about the known issue.
    ticket = make_ticket(**EXPORT_BUG, replies=1)
    late = plan(ticket, History(frozenset({ACK})))
    actions = by_key(late)
    assert isinstance(actions[JOIN], JoinJiraIssue)
    update = actions[UPDATE]
    assert update == AddPublicReply(7, (
        "Hello,\n\nAn update on your request (ticket #7): it concerns a problem we already "
        f"know of.\n\n{STATUS}\n"))
    assert [p.rule for p in late.actions if isinstance(p.action, AddPublicReply)] == [
        "known_issue_update"]
    assert skips(late)[LATE].startswith("acknowledged before it could join ENG-42")
    [planned] = [p for p in late.actions if p.key == UPDATE]
    assert planned.reason == "acknowledged before it joined ENG-42: its status, told once"
    # Killed after the join, before the reply: planned again, in the same words; once sent,
    # nothing more. Zendesk counts the follow-up as afterhours' own, never a person's.
    joined = settled_by(late) - {UPDATE} | {ACK}
    assert by_key(plan(ticket, History(joined, JOINED))) == {UPDATE: update}
    sent = replace(ticket, replies=2)
    assert plan(sent, History(settled_by(late) | {ACK}, JOINED)).actions == ()


def test_explain_shows_the_follow_up_and_why() -> None:
    ticket = make_ticket(**EXPORT_BUG, replies=1)
    explained = explain_ticket(ticket, POLICY, NIGHT + timedelta(minutes=5),
                               Ledger("state.sqlite3", found=True,
                                      history=History(frozenset({ACK}))))
    text = render_explanation(explained)
    assert "acknowledged before it joined ENG-42: its status, told once" in text


def test_a_person_who_replied_since_owns_the_conversation() -> None:
    # An agent answered in public after the acknowledgement: no follow-up, ever.
    ticket = make_ticket(**EXPORT_BUG, replies=2)
    late = plan(ticket, History(frozenset({ACK})))
    assert UPDATE not in by_key(late)
    assert "agent owns the conversation" in skips(late)[WITHHELD]
    after = plan(replace(ticket, replies=3), History(settled_by(late) | {ACK}, JOINED))
    assert UPDATE not in by_key(after)


def test_a_ticket_solved_before_the_follow_up_went_out_never_gets_it() -> None:
    ticket = make_ticket(**EXPORT_BUG, replies=1)
    owed = settled_by(plan(ticket, History(frozenset({ACK})))) - {UPDATE} | {ACK}
    solved = plan(replace(ticket, status="solved"), History(owed, JOINED))
    assert "solved before" in skips(solved)[WITHHELD]
    # Reopened later (its issue fixed, say): the status it would say is stale.
    reopened = plan(ticket, History(owed | {WITHHELD}, JOINED))
    assert UPDATE not in by_key(reopened)


@pytest.mark.parametrize("undone", [unlink_key(7, "ENG-42"), refused_key(7, "ENG-42")])
def test_an_undone_join_owes_no_follow_up(undone: str) -> None:
    ticket = make_ticket(**EXPORT_BUG, replies=1)
    owed = settled_by(plan(ticket, History(frozenset({ACK})))) - {UPDATE} | {ACK}
    own = JiraIssueRef("ENG-43", "https://acme.atlassian.net/browse/ENG-43")
    for history in (History(owed | {undone}), History(owed | {undone}, own)):
        assert UPDATE not in by_key(plan(ticket, history))


def test_the_lead_chooses_the_words_or_turns_it_off() -> None:
    ticket = make_ticket(**{**EXPORT_BUG, "subject": "Export fails {known_issue} {{x}}"},
                         replies=1)
    history = History(frozenset({ACK}))
    ours = parse_policy(POLICY_TEXT.replace(
        "templates:\n", "templates:\n  news: \"About '{subject}': {known_issue}\"\n")
        + "known_issue_update: news\n")
    update = by_key(plan_actions(ticket, ours, NIGHT + timedelta(minutes=5), history))[UPDATE]
    # The customer's subject is put in as written, never read again as a placeholder.
    assert update == AddPublicReply(7, f"About 'Export fails {{known_issue}} {{{{x}}}}': {STATUS}")
    off = with_policy("known_issue_update: false\n")
    result = plan_actions(ticket, off, NIGHT + timedelta(minutes=5), history)
    assert UPDATE not in by_key(result)
    assert LATE not in skips(result)


def test_a_reply_that_never_says_the_status_owes_no_follow_up() -> None:
    silent = parse_policy(POLICY_TEXT.replace(" {known_issue}\"", "\""))
    ticket = make_ticket(**EXPORT_BUG, replies=1)
    result = plan_actions(ticket, silent, NIGHT + timedelta(minutes=5),
                          History(frozenset({ACK})))
    assert isinstance(by_key(result)[JOIN], JoinJiraIssue)
    assert UPDATE not in by_key(result)
    assert not {TOLD, LATE} & set(skips(result))


def test_a_follow_up_naming_an_undeclared_template_is_refused() -> None:
    with pytest.raises(PolicyError, match=r"template 'newz' is not declared.*known_issue_update"):
        parse_policy(POLICY_TEXT + "known_issue_update: newz\n")


def test_two_routes_that_join_tell_the_ticket_once() -> None:
    # routes: match: all, and two routes filing into Jira: both join; one follow-up.
    policy = parse_policy(POLICY_TEXT.split("routes:\n")[0] + """routes:
  match: all
  rules:
    - name: export-bug
      when: {keywords: [export]}
      reply: ack
      jira: {project: ENG}
    - name: product-bug
      when: {keywords: [bug, crash, crashes, error, fail, fails]}
      reply: ack
      jira: {project: ENG}
""")
    ticket = make_ticket(**EXPORT_BUG, replies=2)
    acks = frozenset({ACK, "ticket:7/route:export-bug/reply"})
    late = plan_actions(ticket, policy, NIGHT + timedelta(minutes=5), History(acks))
    assert [s.key for s in late.skips].count(LATE) == 1
    assert [p.key for p in late.actions].count(UPDATE) == 1


def test_a_ticket_solved_after_its_join_was_undone_is_not_said_to_be_withheld() -> None:
    ticket = make_ticket(**EXPORT_BUG, replies=1)
    owed = settled_by(plan(ticket, History(frozenset({ACK})))) - {UPDATE} | {ACK}
    solved = plan(replace(ticket, status="solved"),
                  History(owed | {unlink_key(7, "ENG-42")}))
    assert WITHHELD not in skips(solved)


def test_a_ticket_solved_and_reopened_before_its_late_join_is_not_told_a_stale_status() -> None:
    reopened = make_ticket(**EXPORT_BUG, replies=1, solved_at=NIGHT + timedelta(minutes=2))
    late = plan(reopened, History(frozenset({ACK})))
    assert UPDATE not in by_key(late)
    assert "solved before" in skips(late)[WITHHELD]
