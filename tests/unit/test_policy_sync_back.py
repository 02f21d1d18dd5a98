"""The policy's sync_back: section: what it accepts, and each mistake located at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from afterhours.errors import PolicyError
from afterhours.inspect.live_command import policy_references
from afterhours.policy import load_policy, parse_policy
from afterhours.policy.sync_back_checks import watched_projects

HEAD = "version: 1\nschedule:\n  time_zone: UTC\n  hours: {}\n"  # lines 1-4
ROUTE = "routes:\n  - {name: bugs, jira: {project: ENG}}\n"
TEMPLATES = ("templates:\n  fixed: 'Fixed in {fix_version} ({issue_key}), ticket #{ticket_id}'\n"
             "  ack: 'We will reply by {reply_by}'\n")
# Line 5 promises, 6-7 the route, 8-10 the templates: a section starts on line 11.
BASE = HEAD + "reply_promises: {none: {minutes: 60}}\n" + ROUTE + TEMPLATES
SHIPPED = Path(__file__).parents[2] / "config" / "policy.yaml"


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.yaml")
    return caught.value.problems


def test_the_shipped_policy_syncs_back_from_the_project_it_files_into() -> None:
    policy = load_policy(SHIPPED).policy
    assert policy.sync_back is not None
    assert watched_projects(policy) == ("ENG",)
    assert policy.sync_back.copy_comments is not None
    assert policy.sync_back.copy_comments.marker == "[zendesk]"
    assert policy.sync_back.on_resolution is not None
    assert policy.sync_back.on_resolution.reply == "fix-released"


def test_a_whole_section_is_read() -> None:
    policy = parse_policy(BASE + (
        "sync_back:\n"
        "  projects: [OPS]\n"
        "  notes_on: [status, fix_version]\n"
        "  copy_comments: {marker: '[zendesk]', visibility: ['role:Support']}\n"
        "  on_resolution: {resolutions: [Done], reopen: true, tags: [fixed], reply: fixed}\n"
        "  in_jira:\n"
        "    ticket_solved: {comment: 'Ticket #{ticket_id} solved', labels: [zendesk-solved]}\n"
        "    customer_comment: {comment: 'The customer wrote on {issue_key}:'}\n"))
    sync = policy.sync_back
    assert sync is not None
    assert watched_projects(policy) == ("ENG", "OPS")
    assert sync.notes_on == ["status", "fix_version"]
    assert sync.in_jira.customer_comment is not None
    assert sync.in_jira.customer_comment.quote is True
    assert sync.in_jira.ticket_reopened is None


def test_without_the_section_nothing_is_watched() -> None:
    policy = parse_policy(BASE)
    assert policy.sync_back is None
    assert watched_projects(policy) == ()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        pytest.param("sync_back:\n  notes_on: [status]\n  on_resolution: {reply: fixd}\n",
                     "p.yaml:13:26: template 'fixd' is not declared; did you mean 'fixed'? "
                     "(at sync_back.on_resolution.reply)", id="unknown-template"),
        pytest.param("sync_back:\n  on_resolution: {reply: ack}\n",
                     "p.yaml:12:26: template 'ack' uses {reply_by}, which a reply on "
                     "resolution cannot say (it belongs to the ticket's arrival) "
                     "(at sync_back.on_resolution.reply)", id="arrival-placeholder"),
        pytest.param("sync_back:\n  in_jira:\n    ticket_solved: {comment: 'by {requester}'}\n",
                     "p.yaml:13:30: unknown placeholder {requester} in a comment for Jira: "
                     "known: {ticket_id}, {issue_key} "
                     "(at sync_back.in_jira.ticket_solved.comment)", id="jira-placeholder"),
        pytest.param("sync_back:\n  copy_comments: {}\n",
                     "p.yaml:12:18: copy_comments needs a marker: or a visibility: list, or no "
                     "comment would ever be copied (at sync_back.copy_comments)",
                     id="copy-nothing"),
        pytest.param("sync_back:\n  copy_comments: {visibility: [Support]}\n",
                     "p.yaml:12:32: String should match pattern", id="visibility-form"),
        pytest.param("sync_back: {}\n",
                     "p.yaml:11:12: sync_back does nothing: give notes_on:, copy_comments:, "
                     "on_resolution: or in_jira:, or leave the section out (at sync_back)",
                     id="does-nothing"),
        pytest.param("sync_back:\n  on_resolution: {resolutions: [Done]}\n",
                     "p.yaml:12:18: on_resolution does nothing: give reopen: true, tags: or "
                     "reply: (at sync_back.on_resolution)", id="resolution-nothing"),
        pytest.param("sync_back:\n  in_jira: {ticket_reopened: {}}\n",
                     "p.yaml:12:30: give a comment: or labels: (or leave this out) "
                     "(at sync_back.in_jira.ticket_reopened)", id="reaction-nothing"),
        pytest.param("sync_back:\n  notes_on: [status, priority]\n",
                     "p.yaml:12:22: Input should be 'status', 'assignee', 'fix_version' or "
                     "'resolution' (at sync_back.notes_on.1)", id="unknown-change"),
        pytest.param("sync_back:\n  notes_on: [status]\n  projects: [eng]\n",
                     "p.yaml:13:14: String should match pattern", id="project-key"),
    ],
)
def test_each_mistake_is_located(section: str, message: str) -> None:
    found = problems(BASE + section)
    assert len(found) == 1, found
    assert found[0].startswith(message), found[0]


def test_a_rule_cannot_reply_with_a_template_that_names_the_issue() -> None:
    found = problems(HEAD + ROUTE.replace("jira: {project: ENG}}",
                                          "jira: {project: ENG}, reply: fixed}") + TEMPLATES)
    assert found == ["p.yaml:6:47: template 'fixed' uses {fix_version}, which only a sync_back "
                     "on_resolution: reply can fill (a rule's reply has no Jira issue to name) "
                     "(at routes.0.reply)",
                     "p.yaml:9:8: {reply_by} needs reply_promises: to say when the first reply "
                     "is due (at templates.ack)"]


def test_a_section_without_a_project_to_watch_says_so() -> None:
    found = problems(HEAD + "sync_back:\n  notes_on: [status]\n")
    assert found == ["p.yaml:6:3: sync_back has no Jira project to watch: no rule files into "
                     "Jira; list some under projects: (at sync_back)"]


def test_check_live_looks_up_the_projects_sync_back_watches() -> None:
    policy = parse_policy(BASE + "sync_back:\n  projects: [OPS]\n  notes_on: [status]\n")
    projects = {(r.name, r.where) for r in policy_references(policy) if r.kind == "jira_project"}
    assert projects == {("ENG", "bugs.jira.project"), ("OPS", "sync_back.projects")}
