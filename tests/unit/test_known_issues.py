"""Join, don't duplicate: a bug ticket about a known issue (policy known_issues:) is joined to
that issue instead of filing a new one, each step once, and its reply says the status."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_similarity import POLICY as SIMILAR_POLICY

from afterhours.domain.actions import (
    AddInternalNote,
    AddPublicReply,
    AddTags,
    CommentOnIssue,
    CreateJiraIssue,
    JoinJiraIssue,
    LinkJiraIssue,
    Plan,
)
from afterhours.domain.comment_text import as_adf, as_wiki
from afterhours.domain.join_refusals import join_refusal, refused_key
from afterhours.domain.known_issues import join_projects, unlink_key
from afterhours.domain.model import History, JiraIssueRef, Ticket
from afterhours.domain.planner import plan_actions, plan_with_verdicts
from afterhours.errors import PolicyError
from afterhours.inspect.explain import Ledger, explain_ticket, explanation_to_json
from afterhours.inspect.explain_text import render_explanation
from afterhours.policy import parse_policy
from factories import make_ticket as base_ticket

NIGHT = datetime(2026, 1, 17, 2, tzinfo=UTC)  # Saturday 02:00 in London: after hours
POLICY_TEXT = """
version: 1
schedule: {time_zone: Europe/London, hours: {mon: ["09:00-17:30"]}}
templates:
  ack: "Ticket #{ticket_id} is queued. {known_issue}"
known_issues:
  - name: export-outage
    when: {keywords: [export, exports], after_hours: true}
    jira: ENG-42
    status: "Exports fail for some accounts since 4.1; a fix is in progress."
  - name: login-loop
    when: {tags: [sso]}
    jira: ENG-7
    status: "Single sign-on loops back to the login page; a fix is in progress."
routes:
  - name: product-bug
    when: {keywords: [bug, crash, crashes, error, fail, fails]}
    tags: [product_bug]
    reply: ack
    jira: {project: ENG}
  - name: the-rest
    reply: ack
"""
POLICY = parse_policy(POLICY_TEXT)
EXPORT_BUG = {"subject": "Export fails with an error", "description": "CSV export fails."}


def make_ticket(**overrides: Any) -> Ticket:
    """An open after-hours ticket; override any field."""
    return base_ticket(**{"created_at": NIGHT} | overrides)


def plan(ticket: Ticket, history: History | None = None) -> Plan:
    """Plan five minutes after creation."""
    return plan_actions(ticket, POLICY, ticket.created_at + timedelta(minutes=5),
                        history or History())


def by_key(result: Plan) -> dict[str, object]:
    """The plan's actions by their key."""
    return {p.key: p.action for p in result.actions}


def test_a_bug_about_a_known_issue_joins_it_instead_of_filing() -> None:
    actions = by_key(plan(make_ticket(**EXPORT_BUG)))
    rule = "ticket:7/route:product-bug"
    assert not any(isinstance(a, CreateJiraIssue) for a in actions.values())
    assert actions[f"{rule}/join_jira_issue"] == JoinJiraIssue(7, "ENG-42", "zendesk-7", ("ENG",))
    assert actions[f"{rule}/link_jira_issue"] == LinkJiraIssue(
        7, "ENG-42", "https://acme.zendesk.com/agent/tickets/7",
        "Zendesk #7: Export fails with an error")
    assert actions[f"{rule}/jira_tag"] == AddTags(7, ("jira_eng_42",))
    comment = actions[f"{rule}/join_comment"]
    assert isinstance(comment, CommentOnIssue)
    assert comment.issue_key == "ENG-42"
    assert comment.body.intro == "Another customer affected: #7, Acme."
    assert comment.body.marker == f"[afterhours {rule}/join_comment]"
    note = actions[f"{rule}/jira_note"]
    assert isinstance(note, AddInternalNote)
    assert "joined this ticket to the known issue ENG-42 (export-outage)" in note.body
    assert "keyword 'export' in subject" in note.body  # why it matched: the words
    assert "afterhours unlink 7 ENG-42" in note.body
    reply = actions[f"{rule}/reply"]
    assert reply == AddPublicReply(7, "Ticket #7 is queued. Exports fail for some accounts "
                                      "since 4.1; a fix is in progress.")


def test_a_bug_about_nothing_known_files_its_own_issue_and_says_no_status() -> None:
    actions = by_key(plan(make_ticket(subject="The app crashes on login")))
    assert isinstance(actions["ticket:7/route:product-bug/create_jira_issue"], CreateJiraIssue)
    assert not any(isinstance(a, JoinJiraIssue | CommentOnIssue) for a in actions.values())
    assert actions["ticket:7/route:product-bug/reply"] == AddPublicReply(
        7, "Ticket #7 is queued. ")


def test_a_known_issue_is_matched_by_its_conditions_only() -> None:
    # In business hours the export-outage entry does not hold; the tag entry does.
    day = datetime(2026, 1, 12, 10, tzinfo=UTC)
    actions = by_key(plan(make_ticket(created_at=day, tags=frozenset({"sso"}),
                                      subject="Login error")))
    join = actions["ticket:7/route:product-bug/join_jira_issue"]
    assert join == JoinJiraIssue(7, "ENG-7", "zendesk-7", ("ENG",))


def test_a_ticket_that_is_not_filed_still_hears_the_status_but_joins_nothing() -> None:
    actions = by_key(plan(make_ticket(subject="How do I export?", description="")))
    assert actions["ticket:7/route:the-rest/reply"] == AddPublicReply(
        7, "Ticket #7 is queued. Exports fail for some accounts since 4.1; a fix is in "
           "progress.")
    assert not any(isinstance(a, JoinJiraIssue) for a in actions.values())


def test_once_joined_nothing_is_planned_again() -> None:
    ticket = make_ticket(**EXPORT_BUG)
    first = plan(ticket)
    settled = frozenset(p.key for p in first.actions)
    joined = JiraIssueRef("ENG-42", "https://acme.atlassian.net/browse/ENG-42")
    # After the join the shell records the issue as the ticket's: the filed path's steps
    # are the join's, so they are settled too.
    for history in (History(settled), History(settled, joined)):
        after = plan(ticket, history)
        assert after.actions == (), after


def test_a_join_recorded_without_its_comment_still_plans_the_comment() -> None:
    ticket = make_ticket(**EXPORT_BUG)
    rule = "ticket:7/route:product-bug"
    comment = f"{rule}/join_comment"
    first = by_key(plan(ticket))
    # The join landed and was recorded; its comment failed, or a kill came first.
    settled = frozenset(key for key in first if key != comment)
    joined = JiraIssueRef("ENG-42", "https://acme.atlassian.net/browse/ENG-42")
    after = by_key(plan(ticket, History(settled, joined)))
    assert after == {comment: first[comment]}
    # Unlinked from it, the ticket's issue is its own: no comment on that one.
    unlinked = settled | {unlink_key(7, "ENG-42")}
    own = JiraIssueRef("ENG-43", "https://acme.atlassian.net/browse/ENG-43")
    assert comment not in by_key(plan(ticket, History(unlinked, own)))


def test_a_closed_ticket_still_owes_its_issue_the_link_and_the_join_comment() -> None:
    ticket = make_ticket(**EXPORT_BUG)
    rule = "ticket:7/route:product-bug"
    link, comment = f"{rule}/link_jira_issue", f"{rule}/join_comment"
    first = by_key(plan(ticket))
    # Joined; the link and comment waited out Jira's errors; then an agent solved it.
    settled = frozenset(key for key in first if key not in (link, comment))
    joined = JiraIssueRef("ENG-42", "https://acme.atlassian.net/browse/ENG-42")
    solved = replace(ticket, status="solved")
    assert by_key(plan(solved, History(settled, joined))) == {
        link: first[link], comment: first[comment]}
    # The ticket's own steps are not: and nothing once the issue has them, or once unlinked.
    assert by_key(plan(solved, History(settled | {link, comment}, joined))) == {}
    unlinked = settled | {unlink_key(7, "ENG-42")}
    assert by_key(plan(solved, History(unlinked, joined))) == {}


def test_a_closed_ticket_still_owes_the_issue_it_filed_its_link() -> None:
    ticket = make_ticket(subject="The app crashes on start", description="It crashes.")
    rule = "ticket:7/route:product-bug"
    filed = JiraIssueRef("ENG-7", "https://acme.atlassian.net/browse/ENG-7")
    solved = replace(ticket, status="solved")
    after = by_key(plan(solved, History(frozenset({f"{rule}/create_jira_issue"}), filed)))
    assert list(after) == [f"{rule}/link_jira_issue"]


def test_a_join_planned_again_after_it_is_recorded_still_says_joined() -> None:
    # Re-planned after the join landed (a conflict, a kill before the tag and the note):
    # the ticket's issue is the known one now, and its note says it joined it.
    ticket = make_ticket(**EXPORT_BUG)
    rule = "ticket:7/route:product-bug"
    joined = JiraIssueRef("ENG-42", "https://acme.atlassian.net/browse/ENG-42")
    after = by_key(plan(ticket, History(frozenset({f"{rule}/join_jira_issue"}), joined)))
    note = after[f"{rule}/jira_note"]
    assert isinstance(note, AddInternalNote)
    assert "joined this ticket to the known issue ENG-42" in note.body
    assert "filed" not in note.body.split(". A wrong join")[0].split("instead")[0]
    assert isinstance(after[f"{rule}/join_comment"], CommentOnIssue)
    assert after[f"{rule}/jira_tag"] == AddTags(7, ("jira_eng_42",))


def test_hostile_words_stay_inert_in_the_comment() -> None:
    ticket = make_ticket(**EXPORT_BUG, organization="Evil]] {noformat}[x|http://evil] *b*")
    comment = by_key(plan(ticket))["ticket:7/route:product-bug/join_comment"]
    assert isinstance(comment, CommentOnIssue)
    wiki = as_wiki(comment.body)
    assert "[x|http://evil]" not in wiki
    assert "{noformat}" not in wiki.split("\n")[0]
    document = as_adf(comment.body)
    marks = [node for paragraph in document["content"]
             for node in paragraph.get("content", []) if node.get("marks")]
    assert all(node["text"] == "Zendesk ticket #7" for node in marks)


def test_explain_shows_every_known_issue_and_the_one_joined() -> None:
    _, verdicts = plan_with_verdicts(make_ticket(**EXPORT_BUG), POLICY,
                                     NIGHT + timedelta(minutes=5), History())
    chosen = [v for v in verdicts.known_issues if v.chosen]
    assert [v.issue.name for v in chosen] == ["export-outage"]
    [login] = [v for v in verdicts.known_issues if not v.chosen]
    assert login.verdict.failed


@pytest.mark.parametrize(("entry", "message"), [
    pytest.param("{name: a, when: {}, jira: ENG-1, status: x}", "has no conditions",
                 id="no-conditions"),
    pytest.param("{name: a, when: {tags: [x]}, jira: eng-1, status: x}", "jira",
                 id="bad-key"),
])
def test_a_known_issue_a_lead_must_fix_is_refused(entry: str, message: str) -> None:
    text = ("version: 1\nschedule: {time_zone: UTC, hours: {}}\n"
            f"known_issues: [{entry}]\n")
    with pytest.raises(PolicyError, match=message):
        parse_policy(text)


def test_a_known_issue_named_twice_is_refused() -> None:
    entry = "{name: a, when: {tags: [x]}, jira: ENG-1, status: x}"
    with pytest.raises(PolicyError, match="named twice"):
        parse_policy("version: 1\nschedule: {time_zone: UTC, hours: {}}\n"
                     f"known_issues: [{entry}, {entry}]\n")


def test_explain_says_which_known_issue_a_ticket_joins_and_why() -> None:
    ticket = make_ticket(**EXPORT_BUG)
    explained = explain_ticket(ticket, POLICY, NIGHT + timedelta(minutes=5),
                               Ledger("state.sqlite3", found=False))
    text = render_explanation(explained)
    assert "Known issues: a ticket a route files in Jira joins the first that matches:" in text
    assert "  1. export-outage (ENG-42): MATCHED" in text
    assert "  2. login-loop (ENG-7): not matched" in text
    assert "join Jira ENG-42 (label zendesk-7, count its customers)" in text
    [joined] = [k for k in explanation_to_json(explained)["known_issues"] if k["joined"]]
    assert joined["jira"] == "ENG-42"


def test_a_reply_after_a_similar_join_is_recorded_still_carries_the_status() -> None:
    # The join went first; the reply is planned on a later round or pass, when the issue is
    # the ticket's own and the plan has no open issues to compare with.
    ticket = make_ticket(subject="Webhooks not delivered", description="Error 500.")
    joined = JiraIssueRef("ENG-5", "https://acme.atlassian.net/browse/ENG-5")
    settled = frozenset({"ticket:7/route:product-bug/join_jira_issue"})
    result = plan_actions(ticket, SIMILAR_POLICY, NIGHT + timedelta(minutes=5),
                          History(settled, joined))
    assert by_key(result)["ticket:7/route:product-bug/reply"] == AddPublicReply(
        7, "Queued. We are already working on a problem like yours.")
    # A ticket that filed its issue is told nothing of the kind.
    filed = plan_actions(ticket, SIMILAR_POLICY, NIGHT + timedelta(minutes=5),
                         History(frozenset(), joined))
    assert by_key(filed)["ticket:7/route:product-bug/reply"] == AddPublicReply(7, "Queued. ")


def test_a_join_is_refused_by_an_issue_done_or_moved_out_of_the_policys_projects() -> None:
    join = JoinJiraIssue(7, "ENG-42", "zendesk-7", ("ENG", "OPS"))
    assert join_refusal(join, "ENG-42", "ENG", done=False) is None
    assert join_refusal(join, "OPS-3", "OPS", done=False) is None  # moved, still ours
    assert join_refusal(join, "ENG-42", "ENG", done=True) == "ENG-42 is Done"
    refused = join_refusal(join, "SEC-1", "SEC", done=False)
    assert refused == ("ENG-42 (now SEC-1) is in project SEC, which the policy does not join"
                       " issues in (ENG, OPS)")
    # The projects a join may find its issue in: its own, and those the policy files into.
    assert join_projects(POLICY, "OPS-9") == ("ENG", "OPS")


def test_a_ticket_whose_join_was_refused_files_its_own_issue_and_says_nothing_joined() -> None:
    ticket = make_ticket(**EXPORT_BUG)
    rule = "ticket:7/route:product-bug"
    # The join was refused for good: settled (skipped), and the refusal remembered; the
    # reply went out. Nothing else was done.
    settled = frozenset({f"{rule}/join_jira_issue", f"{rule}/reply",
                         refused_key(7, "ENG-42")})
    after = by_key(plan(ticket, History(settled)))
    create = after[f"{rule}/create_jira_issue"]
    assert isinstance(create, CreateJiraIssue)
    assert "zendesk-7" in create.labels
    assert not any(isinstance(a, JoinJiraIssue | CommentOnIssue) for a in after.values())
    # Once filed, the ticket's link, tag and note are the filed issue's, never a join's;
    # and closed, it owes that issue no join comment.
    own = JiraIssueRef("ENG-43", "https://acme.atlassian.net/browse/ENG-43")
    filed = by_key(plan(ticket, History(settled | {f"{rule}/create_jira_issue"}, own)))
    assert filed[f"{rule}/jira_tag"] == AddTags(7, ("jira_eng_43",))
    note = filed[f"{rule}/jira_note"]
    assert isinstance(note, AddInternalNote)
    assert "filed this ticket in Jira as ENG-43" in note.body
    assert not any(isinstance(a, CommentOnIssue) for a in filed.values())
    solved = replace(ticket, status="solved")
    owed = plan(solved, History(settled | {f"{rule}/create_jira_issue"}, own))
    assert [p.key for p in owed.actions] == [f"{rule}/link_jira_issue"]


def test_explain_says_a_refused_or_unlinked_known_issue_is_not_joined() -> None:
    ticket = make_ticket(**EXPORT_BUG)
    rule = "ticket:7/route:product-bug"
    for undone, why in ((refused_key(7, "ENG-42"), "joining it failed for good"),
                        (unlink_key(7, "ENG-42"), "a lead unlinked the ticket from it")):
        history = History(frozenset({f"{rule}/join_jira_issue", undone}))
        explained = explain_ticket(ticket, POLICY, NIGHT + timedelta(minutes=5),
                                   Ledger("state.sqlite3", found=True, history=history))
        text = render_explanation(explained)
        assert f"  1. export-outage (ENG-42): matches, but not joined: {why}" in text
        [known] = [k for k in explanation_to_json(explained)["known_issues"]
                   if k["jira"] == "ENG-42"]
        assert not known["joined"]
        assert known["not_joined_because"].startswith(why)
        assert "create_jira_issue" in {p.key.rpartition("/")[2] for p in explained.plan.actions}
