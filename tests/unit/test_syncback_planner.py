"""The pure sync-back planners with literal issues and tickets: what flows, once, and what never
does (afterhours' own changes, unmarked comments, what happened before a ticket was linked)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from afterhours.domain.actions import (
    AddInternalNote,
    AddPublicReply,
    AddTags,
    CommentOnIssue,
    LabelIssue,
    Plan,
    SetStatus,
)
from afterhours.domain.comment_text import as_adf, as_wiki
from afterhours.domain.sync_model import (
    ChangedField,
    CustomerComment,
    IssueActivity,
    IssueChange,
    IssueComment,
    IssueState,
    LinkedTicket,
    TicketBaseline,
    baseline_of,
)
from afterhours.domain.syncback import plan_issue_flows
from afterhours.domain.syncback_tickets import plan_ticket_flows, ticket_events
from afterhours.policy import load_policy
from factories import SATURDAY_NIGHT, make_ticket

POLICY = load_policy(Path(__file__).parents[2] / "config" / "policy.yaml").policy
T0 = SATURDAY_NIGHT
URL = "https://acme.atlassian.net/browse/ENG-1"


def issue(**overrides: object) -> IssueState:
    fields: dict[str, object] = {
        "key": "ENG-1", "url": URL, "status": "To Do", "resolution": None, "fix_versions": (),
        "assignee": None, "labels": ("zendesk-7",), "updated": T0}
    return IssueState(**(fields | overrides))  # type: ignore[arg-type]


def change(history_id: str, minutes: int, *fields: tuple[str, str | None, str | None],
           author: str = "Dana", own: bool = False) -> IssueChange:
    return IssueChange(history_id, T0 + timedelta(minutes=minutes), author, own,
                       tuple(ChangedField(*f) for f in fields))


def comment(comment_id: str, minutes: int, body: str, *, own: bool = False,
            visibility: str | None = None) -> IssueComment:
    return IssueComment(comment_id, T0 + timedelta(minutes=minutes), "Dana", own, body,
                        visibility)


IN_PROGRESS = ("status", "To Do", "In Progress")
DONE = (("status", "In Progress", "Done"), ("resolution", None, "Done"))
TICKET = make_ticket(id=7, status="open")


def flows(activity: IssueActivity, *links: LinkedTicket,
          settled: frozenset[str] = frozenset()) -> list[Plan]:
    return plan_issue_flows(activity, links or (LinkedTicket(7, TICKET),), POLICY, settled)


def test_a_status_change_leaves_one_note_with_the_issue_link_and_its_marker() -> None:
    [plan] = flows(IssueActivity(issue(status="In Progress"), (change("101", 5, IN_PROGRESS),)))
    [planned] = plan.actions
    assert planned.key == "sync:ENG-1/ticket:7/change:101/note"
    assert planned.rule == "sync:ENG-1"
    assert planned.action == AddInternalNote(7, (
        f"Jira ENG-1 changed (Dana): status To Do → In Progress.\n{URL}\n\n"
        "[afterhours sync:ENG-1/ticket:7/change:101/note]"))
    # Planned again with the key settled: nothing.
    [again] = flows(IssueActivity(issue(), (change("101", 5, IN_PROGRESS),)),
                    settled=frozenset({planned.key}))
    assert not again


def test_only_the_fields_the_policy_lists_are_noted() -> None:
    assert POLICY.sync_back is not None
    activity = IssueActivity(issue(), (
        change("101", 1, ("labels", "a", "a b")),  # not listed: no note
        change("102", 2, ("assignee", None, "Dana"), ("fixVersions", None, "4.2")),
    ))
    [plan] = flows(activity)
    [note] = plan.actions
    assert isinstance(note.action, AddInternalNote)
    assert note.action.body.startswith(
        "Jira ENG-1 changed (Dana): assigned to Dana; fix version 4.2 added.")


def test_no_echo_and_nothing_from_before_the_link() -> None:
    activity = IssueActivity(issue(), (
        change("100", -5, IN_PROGRESS),  # before the ticket hung off the issue
        change("101", 5, ("status", "In Progress", "To Do"), own=True),  # afterhours' own
    ), (
        comment("200", 6, "[zendesk] from afterhours", own=True),
        comment("201", 7, "[zendesk] quoting [afterhours sync:ENG-1/ticket:9/x/note]"),
    ))
    [plan] = flows(activity, LinkedTicket(7, TICKET, since=T0))
    assert not plan


def test_only_marked_or_visible_comments_are_copied() -> None:
    activity = IssueActivity(issue(), (), (
        comment("200", 1, "  [ZENDESK] Fixed on staging, see https://ci.example/1"),
        comment("201", 2, "internal: the real cause is the cache"),
        comment("202", 3, "zendesk is mentioned in passing [zendesk]"),
    ))
    [plan] = flows(activity)
    [copy] = plan.actions
    assert copy.key == "sync:ENG-1/ticket:7/comment:200/note"
    assert isinstance(copy.action, AddInternalNote)
    assert copy.action.body == (
        f"Dana commented on Jira ENG-1:\n{URL}\n\nFixed on staging, see https[:]//ci.example/1"
        "\n\n[afterhours sync:ENG-1/ticket:7/comment:200/note]")


def test_a_copied_comment_cannot_pass_for_a_marker() -> None:
    # A comment quoting afterhours' own marker is afterhours' text: never copied back.
    quoting = "[zendesk] done [afterhours sync:ENG-1/ticket:7/change:9/note]"
    assert not flows(IssueActivity(issue(), (), (comment("200", 1, quoting),)))[0]
    text = "[zendesk] done [AfterHours sync:ENG-1/ticket:7/change:9/note] \u202eevil"
    [plan] = flows(IssueActivity(issue(), (), (comment("201", 1, text),)))
    [copy] = plan.actions
    assert isinstance(copy.action, AddInternalNote)
    body = copy.action.body
    assert "[AfterHours\u2060 sync:ENG-1" in body  # a word joiner: no marker matches it
    assert "\u202e" not in body
    assert body.endswith("[afterhours sync:ENG-1/ticket:7/comment:201/note]")


def resolved(*, fix: tuple[str, ...] = ("4.2",), resolution: str = "Done") -> IssueActivity:
    return IssueActivity(issue(status="Done", resolution=resolution, fix_versions=fix), (
        change("101", 5, IN_PROGRESS),
        change("102", 60, *DONE),
    ))


def test_a_resolution_with_a_fix_version_reopens_tags_and_replies() -> None:
    solved = make_ticket(id=7, status="solved", subject="Checkout fails")
    [plan] = flows(resolved(), LinkedTicket(7, solved))
    kinds = {p.key.rsplit("/", 1)[1]: p.action for p in plan.actions}
    assert kinds["reopen"] == SetStatus(7, "open")
    assert kinds["tags"] == AddTags(7, ("jira_fixed",))
    reply = kinds["reply"]
    assert isinstance(reply, AddPublicReply)
    assert "ticket #7 is fixed in release\n4.2." in reply.body
    assert [p.key for p in plan.actions if "resolved:" in p.key] == [
        "sync:ENG-1/ticket:7/resolved:102/reopen", "sync:ENG-1/ticket:7/resolved:102/tags",
        "sync:ENG-1/ticket:7/resolved:102/reply"]
    assert plan.actions[-1].reason == "ENG-1 was resolved as Done by Dana"


def test_a_resolution_waits_for_its_fix_version() -> None:
    [plan] = flows(resolved(fix=()), LinkedTicket(7, make_ticket(id=7, status="solved")))
    assert not any("resolved:" in p.key for p in plan.actions)


def test_a_resolution_the_policy_does_not_list_leaves_the_notes_only() -> None:
    [plan] = flows(resolved(resolution="Won't Do"))
    assert not any("resolved:" in p.key for p in plan.actions)
    [skip] = plan.skips
    assert skip.key == "sync:ENG-1/ticket:7/resolved:102/resolution"
    assert "resolved as Won't Do, which on_resolution does not act on (it lists Done)" in (
        skip.reason)


def test_an_open_ticket_is_not_reopened_and_a_closed_one_takes_nothing() -> None:
    [plan] = flows(resolved(), LinkedTicket(7, TICKET))
    assert [s.key for s in plan.skips] == ["sync:ENG-1/ticket:7/resolved:102/reopen"]
    assert "the ticket is already open" in plan.skips[0].reason
    [closed] = flows(resolved(), LinkedTicket(7, make_ticket(id=7, status="closed")))
    assert not closed.actions
    assert all("is closed: Zendesk takes no more changes" in s.reason for s in closed.skips
               if not s.key.endswith("/reopen"))


def test_every_linked_ticket_gets_the_same_flows_under_its_own_keys() -> None:
    other = make_ticket(id=8, status="pending")
    plans = flows(resolved(), LinkedTicket(7, TICKET), LinkedTicket(8, other),
                  LinkedTicket(9, None))
    assert [p.ticket_id for p in plans] == [7, 8]
    assert {p.key.split("/", 2)[1] for p in plans[1].actions} == {"ticket:8"}
    assert len(plans[1].actions) == 5  # two notes, reopen, tags, reply


def test_planning_is_deterministic() -> None:
    assert flows(resolved()) == flows(resolved())


# -- Zendesk to Jira ----------------------------------------------------------------------

SEEN = TicketBaseline("open", None, T0)


def test_a_ticket_seen_for_the_first_time_has_no_events() -> None:
    assert ticket_events(TICKET, None, [], reopening=False) == []


def test_a_solve_comments_and_labels_each_open_issue_once() -> None:
    solved = make_ticket(id=7, status="solved", solved_at=T0 + timedelta(hours=1))
    events = ticket_events(solved, SEEN, [], reopening=False)
    plan = plan_ticket_flows(solved, events, ["ENG-1", "ENG-2"], POLICY, frozenset())
    assert [(p.key, type(p.action).__name__) for p in plan.actions] == [
        ("sync:ENG-1/ticket:7/solved@20260117T030000Z/comment", "CommentOnIssue"),
        ("sync:ENG-1/ticket:7/solved@20260117T030000Z/labels", "LabelIssue"),
        ("sync:ENG-2/ticket:7/solved@20260117T030000Z/comment", "CommentOnIssue"),
        ("sync:ENG-2/ticket:7/solved@20260117T030000Z/labels", "LabelIssue")]
    comment_action = plan.actions[0].action
    assert isinstance(comment_action, CommentOnIssue)
    assert comment_action.body.intro == "Zendesk ticket #7 was solved by the support team."
    assert plan.actions[1].action == LabelIssue(7, "ENG-1", ("ticket-solved",))
    settled = frozenset(p.key for p in plan.actions)
    assert not plan_ticket_flows(solved, events, ["ENG-1", "ENG-2"], POLICY, settled)


def test_a_reopening_by_afterhours_itself_is_no_event() -> None:
    was = TicketBaseline("solved", T0, T0)
    assert ticket_events(TICKET, was, [], reopening=True) == []
    [event] = ticket_events(TICKET, was, [], reopening=False)
    assert event.event == "reopened@20260117T020000Z"


def test_a_customer_comment_is_quoted_as_text_only() -> None:
    hostile = "[~accountid:123] {noformat}x{noformat} [click|javascript:alert(1)] @here"
    comments = [CustomerComment(51, T0 - timedelta(minutes=1), "old"),
                CustomerComment(52, T0 + timedelta(minutes=1), hostile)]
    events = ticket_events(TICKET, SEEN, comments, reopening=False)
    assert [e.event for e in events] == ["customer:52"]
    plan = plan_ticket_flows(TICKET, events, ["ENG-1"], POLICY, frozenset())
    [planned] = plan.actions
    assert isinstance(planned.action, CommentOnIssue)
    body = planned.action.body
    assert body.quote == hostile
    wiki = as_wiki(body)
    assert "{noformat}\n[~accountid:123] { noformat}x{ noformat}" in wiki
    assert wiki.endswith("\\[afterhours sync:ENG\\-1/ticket:7/customer:52/comment\\]")
    doc = as_adf(body)
    quote = next(n for n in doc["content"] if n["type"] == "blockquote")
    assert all("marks" not in t for p in quote["content"] for t in p["content"])


@pytest.mark.parametrize("status", ["open", "pending"])
def test_baseline_of_a_ticket_is_what_is_seen_now(status: str) -> None:
    ticket = make_ticket(status=status, last_customer_update_at=T0)
    assert baseline_of(ticket) == TicketBaseline(status, None, T0)
