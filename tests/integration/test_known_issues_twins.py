"""Join, don't duplicate, through the twins with the shipped SOP policy plus a known issue:
a night of tickets about one outage joins the outage's issue, once each, under restarts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from afterhours.adapters.state import SqliteState
from afterhours.cli import main
from afterhours.clock import ManualClock
from afterhours.policy import load_policy
from afterhours.report.build import build_report
from afterhours.report.gather import gather
from afterhours.report.tabular import report_data
from afterhours.settings import Settings
from afterhours.twins.chat import ChatTwin
from afterhours.twins.faults import FaultRule
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from chaos.scenario import file_known_issue
from twin_daemon import Daemon, sop_settings

pytestmark = pytest.mark.integration

SOP = Path(__file__).parents[2] / "config" / "policy.yaml"
STATUS = "Exports fail for some accounts since 4.1; a fix is in progress."
SIMILAR_STATUS = "We are already working on a problem like yours."


@pytest.fixture
def outage(jira: JiraTwin) -> str:
    """The outage's issue, filed by an engineer before the night began."""
    return file_known_issue(jira, "CSV exports fail since 4.1")


@pytest.fixture
def policy_file(tmp_path: Path, outage: str) -> Path:
    data: dict[str, Any] = yaml.safe_load(SOP.read_text(encoding="utf-8"))
    data["known_issues"] = [{"name": "export-outage", "jira": outage, "status": STATUS,
                             "when": {"keywords": ["export", "exports"]}}]
    data["templates"]["after-hours-ack"] += "\n{known_issue}\n"
    data["similar_issues"] = {"threshold": 71, "status": SIMILAR_STATUS}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def twins(zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin
          ) -> tuple[ZendeskTwin, JiraTwin, ChatTwin]:
    return zendesk, jira, chat


@pytest.fixture
def settings(twins: tuple[ZendeskTwin, JiraTwin, ChatTwin], tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch, policy_file: Path) -> Settings:
    return sop_settings(twins, policy_file, tmp_path / "state.sqlite3", monkeypatch)


@pytest.fixture
def daemon(settings: Settings, clock: ManualClock) -> Iterator[Daemon]:
    with Daemon(settings, clock) as running:
        yield running


def customers(zendesk: ZendeskTwin, count: int) -> list[int]:
    ids = []
    for n in range(count):
        org = zendesk.add_organization(f"Customer {n} Ltd")
        ids.append(int(zendesk.add_user(f"Person {n}", f"p{n}@c{n}.example",
                                        organization_id=int(org["id"]))["id"]))
    return ids


def issue_comments(jira: JiraTwin, key: str) -> list[str]:
    return [str(c["body"]) for c in jira.issue(key)["fields"]["comment"]["comments"]]


def export_tickets(zendesk: ZendeskTwin, clock: ManualClock, count: int
                   ) -> tuple[list[int], int]:
    """`count` tickets about the export outage, each from its own customer, and one
    unrelated bug."""
    people = customers(zendesk, count + 1)
    tickets = [int(zendesk.create_ticket(
        subject=f"Export fails with an error ({n})", description="The CSV export crashes.",
        requester_id=people[n], created_at=clock())["id"]) for n in range(count)]
    unrelated = int(zendesk.create_ticket(
        subject="The app crashes on login", description="Since this morning it crashes.",
        requester_id=people[count], created_at=clock())["id"])
    return tickets, unrelated


def test_five_tickets_about_one_outage_join_its_issue_once_each(
    zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, clock: ManualClock, outage: str,
) -> None:
    tickets, unrelated = export_tickets(zendesk, clock, 5)

    daemon.run_pass()
    daemon.restart()
    daemon.run_pass()
    daemon.run_pass()

    issues = {str(i["key"]): i for i in jira.issues()}
    assert len(issues) == 2  # the outage's, and the unrelated bug's own
    [own] = [key for key in issues if key != outage]
    assert f"zendesk-{unrelated}" in issues[own]["fields"]["labels"]
    labels = issues[outage]["fields"]["labels"]
    assert {f"zendesk-{t}" for t in tickets} <= set(labels)
    assert [label for label in labels if label.startswith("customers-")] == ["customers-5"]
    linked = sorted(link["object"]["title"].split(":")[0] for link in jira.remote_links(outage))
    assert linked == sorted(f"Zendesk #{t}" for t in tickets)
    comments = [c for c in issue_comments(jira, outage) if "Another customer affected" in c]
    assert len(comments) == 5
    assert any("Customer 0 Ltd" in c for c in comments)
    for ticket in tickets:
        assert f"jira_{outage.lower().replace('-', '_')}" in zendesk.ticket(ticket)["tags"]
        bodies = [c["body"] for c in zendesk.comments(ticket)]
        [reply] = [b for b in bodies if "Thank you for contacting us" in b]
        assert STATUS in reply
        [note] = [b for b in bodies if "joined this ticket to the known issue" in b]
        assert "keyword 'export'" in note
    unrelated_bodies = [c["body"] for c in zendesk.comments(unrelated)]
    assert not any(STATUS in b for b in unrelated_bodies)


def test_lost_answers_of_a_join_are_looked_up_not_repeated(
    zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, clock: ManualClock, outage: str,
) -> None:
    [person] = customers(zendesk, 1)
    ticket = int(zendesk.create_ticket(
        subject="Export fails with an error", description="The CSV export crashes.",
        requester_id=person, created_at=clock())["id"])
    # The label edit, then the comment (it waits for the join), land in Jira; their answers
    # never reach afterhours.
    comment = FaultRule("POST /rest/api/3/issue/{key}/comment", drop_after_commit_rate=1.0)
    jira.server.faults.add(comment)
    jira.server.faults.add(FaultRule("PUT /rest/api/2/issue/{key}",
                                     drop_after_commit_rate=1.0))
    daemon.run_pass()
    jira.server.faults.clear()
    jira.server.faults.add(comment)
    daemon.run_pass()
    dropped = {endpoint for kind, endpoint in jira.server.faults.by_endpoint
               if kind == "drop_after_commit"}
    assert dropped == {"POST /rest/api/3/issue/{key}/comment", "PUT /rest/api/2/issue/{key}"}
    jira.server.faults.clear()
    daemon.restart()
    for _ in range(3):
        daemon.run_pass()
    comments = [c for c in issue_comments(jira, outage) if "Another customer affected" in c]
    assert len(comments) == 1
    labels = jira.issue(outage)["fields"]["labels"]
    assert [label for label in labels if label.startswith("customers-")] == ["customers-1"]
    notes = [c for c in zendesk.comments(ticket) if "joined this ticket" in c["body"]]
    assert len(notes) == 1
    assert len(jira.issues()) == 1  # and nothing was filed instead


def test_unlink_takes_the_ticket_off_and_files_its_own_issue_once(
    twins: tuple[ZendeskTwin, JiraTwin, ChatTwin], daemon: Daemon, clock: ManualClock,
    outage: str, capsys: pytest.CaptureFixture[str],
) -> None:
    zendesk, jira, _ = twins
    people = customers(zendesk, 2)
    right, wrong = (int(zendesk.create_ticket(
        subject=subject, description="It fails with an error.", requester_id=person,
        created_at=clock())["id"]) for subject, person in zip(
            ("Export fails", "Export button crashes the app"), people, strict=True))
    daemon.run_pass()
    assert "customers-2" in jira.issue(outage)["fields"]["labels"]

    assert main(["unlink", str(wrong), outage]) == 0
    assert f"ticket {wrong} unlinked from {outage}" in capsys.readouterr().out
    labels = jira.issue(outage)["fields"]["labels"]
    assert f"zendesk-{wrong}" not in labels
    assert [label for label in labels if label.startswith("customers-")] == ["customers-1"]
    # Once only: the join is undone, a second unlink has nothing to undo.
    assert main(["unlink", str(wrong), outage]) == 2
    for _ in range(3):
        daemon.run_pass()
        daemon.restart()
    own = [i for i in jira.issues() if f"zendesk-{wrong}" in i["fields"]["labels"]]
    assert [i["key"] for i in own] != [outage]
    assert len(own) == 1
    new_key = str(own[0]["key"])
    assert f"jira_{new_key.lower().replace('-', '_')}" in zendesk.ticket(wrong)["tags"]
    assert [link["object"]["title"] for link in jira.remote_links(new_key)] == [
        f"Zendesk #{wrong}: Export button crashes the app"]
    assert f"zendesk-{right}" in jira.issue(outage)["fields"]["labels"]
    assert len(jira.issues()) == 2


OUTAGE_TICKETS = [  # none says "export": the policy's known issue is not about them
    ("Webhooks not delivered: error 500", "None of our webhooks are delivered, error 500."),
    ("Webhooks are not delivered, error 500", "Our webhooks fail with an error 500."),
    ("Webhook delivery error 500", "Webhooks are not delivered: we see error 500."),
    ("Error 500: webhooks not delivered", "No webhook is delivered since 02:00, error 500."),
    ("Webhooks not being delivered (error 500)", "Webhooks fail to deliver with error 500."),
]


def test_an_outage_with_no_known_issue_files_once_and_the_rest_join_by_similarity(
    twins: tuple[ZendeskTwin, JiraTwin, ChatTwin], daemon: Daemon, clock: ManualClock,
    outage: str,
) -> None:
    known = outage
    zendesk, jira, _ = twins
    people = customers(zendesk, 6)
    tickets = [int(zendesk.create_ticket(subject=subject, description=description,
                                         requester_id=person, created_at=clock())["id"])
               for (subject, description), person in zip(OUTAGE_TICKETS, people, strict=False)]
    unrelated = int(zendesk.create_ticket(
        subject="The app crashes on login", description="Since this morning it crashes.",
        requester_id=people[5], created_at=clock())["id"])
    for _ in range(3):
        daemon.run_pass()
    daemon.restart()
    daemon.run_pass()
    issues = [i for i in jira.issues() if i["key"] != known]  # the known issue: untouched
    assert len(issues) == 2
    assert not any(label.startswith("zendesk-") for label in jira.issue(known)["fields"]["labels"])
    [outage] = [i for i in issues if f"zendesk-{tickets[0]}" in i["fields"]["labels"]]
    labels = outage["fields"]["labels"]
    assert {f"zendesk-{t}" for t in tickets} <= set(labels)
    assert "customers-5" in labels
    comments = [c for c in issue_comments(jira, str(outage["key"]))
                if "Another customer affected" in c]
    assert len(comments) == 4  # the ticket that filed it is in its description
    for ticket in tickets[1:]:
        bodies = [c["body"] for c in zendesk.comments(ticket)]
        assert any("alike to a ticket of" in b for b in bodies)
        assert any(SIMILAR_STATUS in b for b in bodies)
    [own] = [i for i in issues if i is not outage]
    assert f"zendesk-{unrelated}" in own["fields"]["labels"]


def jira_report(settings: Settings, clock: ManualClock) -> Any:
    """The report's Jira section for the last day, from the daemon's state."""
    state = SqliteState(settings.state_db)
    try:
        facts = gather(state, clock() - timedelta(days=1), clock())
    finally:
        state.close()
    return report_data(build_report(facts, load_policy(settings.policy_file).policy)
                       )["sections"]["jira"]


def test_the_report_shows_joined_tickets_as_joined_not_as_issues_filed(
    twins: tuple[ZendeskTwin, JiraTwin, ChatTwin], daemon: Daemon, clock: ManualClock,
    outage: str, settings: Settings,
) -> None:
    zendesk, jira, _ = twins
    joining, unrelated = export_tickets(zendesk, clock, 2)
    for _ in range(2):
        daemon.run_pass()
    [own] = [str(i["key"]) for i in jira.issues() if i["key"] != outage]
    jira_part = jira_report(settings, clock)
    assert jira_part["headline"]["issues filed"] == 1
    assert jira_part["headline"]["tickets joined to a known issue"] == 2
    assert [(r["issue"], r["ticket"]) for r in jira_part["figures"]["jira_issues"]["rows"]] == [
        (own, unrelated)]
    assert sorted((r["ticket"], r["issue"]) for r in
                  jira_part["figures"]["jira_joined"]["rows"]) == [(t, outage) for t in joining]
    # Why each joined, in the planner's words: a lead reviewing the night spots a wrong join.
    assert all(r["why"].startswith("about the known issue ") and f"({outage}):" in r["why"]
               for r in jira_part["figures"]["jira_joined"]["rows"])


def test_a_join_comment_that_failed_after_the_join_is_written_by_a_later_pass(
    zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, clock: ManualClock, outage: str,
) -> None:
    [ticket], _ = export_tickets(zendesk, clock, 1)
    # The join lands and is recorded; the comment after it never reaches Jira (then a kill
    # or a restart: the ticket's issue is the outage's from now on).
    jira.server.faults.add(FaultRule("POST /rest/api/3/issue/{key}/comment", error_rate=1.0))
    daemon.run_pass()
    assert f"zendesk-{ticket}" in jira.issue(outage)["fields"]["labels"]
    assert not issue_comments(jira, outage)
    jira.server.faults.clear()
    daemon.restart()
    for _ in range(3):
        daemon.run_pass()
    comments = [c for c in issue_comments(jira, outage) if "Another customer affected" in c]
    assert len(comments) == 1
    assert len(jira.issues()) == 2  # and the unrelated bug's own


def test_a_join_comment_still_owed_when_the_ticket_is_solved_is_written_once(
    zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, clock: ManualClock, outage: str,
) -> None:
    [ticket], _ = export_tickets(zendesk, clock, 1)
    # The join lands; its comment and link wait out Jira's errors; meanwhile an agent solves
    # the ticket. The issue counts the customer, so its comment and link are still owed.
    jira.server.faults.add(FaultRule("POST /rest/api/3/issue/{key}/comment", error_rate=1.0))
    jira.server.faults.add(FaultRule("POST /rest/api/2/issue/{key}/remotelink", error_rate=1.0))
    daemon.run_pass()
    assert f"zendesk-{ticket}" in jira.issue(outage)["fields"]["labels"]
    zendesk.agent_update(ticket, status="solved")
    jira.server.faults.clear()
    for _ in range(3):
        daemon.run_pass()
    comments = [c for c in issue_comments(jira, outage) if "Another customer affected" in c]
    assert len(comments) == 1
    assert len(jira.remote_links(outage)) == 1


def test_nothing_says_a_ticket_joined_before_jira_shows_the_join(
    zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, clock: ManualClock, outage: str,
) -> None:
    [ticket], _ = export_tickets(zendesk, clock, 1)
    # Jira refuses the join's label edit: the ticket's acknowledgement still goes out, but
    # neither its tag and note nor the issue's link and comment claim a join Jira lacks.
    jira.server.faults.add(FaultRule("PUT /rest/api/2/issue/{key}", error_rate=1.0))
    daemon.run_pass()
    tag = f"jira_{outage.lower().replace('-', '_')}"
    assert tag not in zendesk.ticket(ticket)["tags"]
    bodies = [c["body"] for c in zendesk.comments(ticket)]
    assert any(STATUS in b for b in bodies)
    assert not any("joined this ticket" in b for b in bodies)
    assert not jira.remote_links(outage)
    assert not issue_comments(jira, outage)
    jira.server.faults.clear()
    for _ in range(2):
        daemon.run_pass()
    assert tag in zendesk.ticket(ticket)["tags"]
    assert f"zendesk-{ticket}" in jira.issue(outage)["fields"]["labels"]
    assert len(jira.remote_links(outage)) == 1
    assert len([c for c in issue_comments(jira, outage) if "Another customer" in c]) == 1
    notes = [c for c in zendesk.comments(ticket) if "joined this ticket" in c["body"]]
    assert len(notes) == 1


def export_ticket(zendesk: ZendeskTwin, clock: ManualClock) -> int:
    """One ticket about the export outage, from its own customer."""
    [person] = customers(zendesk, 1)
    return int(zendesk.create_ticket(
        subject="Export fails with an error", description="The CSV export crashes.",
        requester_id=person, created_at=clock())["id"])


def audited(settings: Settings, ticket: int, outcome: str) -> list[tuple[str, str]]:
    """(action, reason) of the ticket's audit rows with `outcome`."""
    state = SqliteState(settings.state_db)
    try:
        rows = state.audit_rows(ticket_id=ticket, outcomes=(outcome,))
    finally:
        state.close()
    return [(str(row.action), row.reason) for row in rows]


def _deleted(jira: JiraTwin, outage: str) -> str:
    jira.delete_issue(outage)
    return "404"


def _done(jira: JiraTwin, outage: str) -> str:
    jira.transition(outage, "Done")
    return "is Done"


def _moved(jira: JiraTwin, outage: str) -> str:
    jira.add_project("SEC", "Security")
    jira.move_issue(outage, "SEC")
    return "SEC"


def _rejected(status: int) -> Any:
    def reject(jira: JiraTwin, _: str) -> str:
        jira.server.faults.add(FaultRule("PUT /rest/api/2/issue/{key}", error_rate=1.0,
                                         error_status=status))
        return str(status)
    return reject


@pytest.mark.parametrize("break_join", [_deleted, _done, _moved, _rejected(400),
                                        _rejected(403)],
                         ids=["deleted", "done", "moved", "rejected-400", "rejected-403"])
def test_a_join_that_fails_for_good_files_the_tickets_own_issue_once(  # noqa: PLR0917
    zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, clock: ManualClock, outage: str,
    settings: Settings, break_join: Any,
) -> None:
    ticket = export_ticket(zendesk, clock)
    said = break_join(jira, outage)
    daemon.run_pass()
    daemon.restart()
    for _ in range(3):
        daemon.run_pass()
    own = [i for i in jira.issues() if f"zendesk-{ticket}" in i["fields"]["labels"]]
    assert len(own) == 1
    new_key = str(own[0]["key"])
    assert new_key != outage
    assert own[0]["fields"]["project"]["key"] == "ENG"
    tags = zendesk.ticket(ticket)["tags"]
    assert f"jira_{new_key.lower().replace('-', '_')}" in tags
    assert f"jira_{outage.lower().replace('-', '_')}" not in tags
    bodies = [c["body"] for c in zendesk.comments(ticket)]
    assert not any("joined this ticket" in b for b in bodies)
    assert len([b for b in bodies if f"filed this ticket in Jira as {new_key}" in b]) == 1
    # The acknowledgement goes out, without the status of an issue the ticket did not join.
    assert any("Thank you for contacting us" in b for b in bodies)
    assert not any(STATUS in b for b in bodies)
    [(action, reason)] = audited(settings, ticket, "join_refused")
    assert action == "JoinJiraIssue"
    assert outage in reason
    assert said in reason
    assert "files its own issue" in reason


def test_a_refused_join_whose_own_issue_cannot_be_filed_is_parked_not_retried(  # noqa: PLR0917
    zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, clock: ManualClock, outage: str,
    settings: Settings,
) -> None:
    ticket = export_ticket(zendesk, clock)
    jira.delete_issue(outage)
    for endpoint in ("POST /rest/api/3/issue", "POST /rest/api/3/issue/bulk"):
        jira.server.faults.add(FaultRule(endpoint, error_rate=1.0, error_status=400))
    for _ in range(3):
        daemon.run_pass()
    tried = sum(n for (kind, _), n in jira.server.faults.by_endpoint.items() if kind == "400")
    for _ in range(2):
        daemon.run_pass()
    assert sum(n for (kind, _), n in jira.server.faults.by_endpoint.items()
               if kind == "400") == tried  # parked: not tried again and again
    state = SqliteState(settings.state_db)
    try:
        parked = [(p.ticket_id, p.action) for p in state.parked()]
    finally:
        state.close()
    assert parked == [(ticket, "CreateJiraIssue")]
    assert len(audited(settings, ticket, "join_refused")) == 1
    assert not any("joined this ticket" in c["body"] for c in zendesk.comments(ticket))


def test_an_unlinked_ticket_is_seen_unlinked_by_later_plans_explain_and_the_ledger(  # noqa: PLR0917
    twins: tuple[ZendeskTwin, JiraTwin, ChatTwin], daemon: Daemon, clock: ManualClock,
    outage: str, settings: Settings, capsys: pytest.CaptureFixture[str],
) -> None:
    zendesk, jira, _ = twins
    people = customers(zendesk, 2)
    # An open issue afterhours filed that the wrongly joined ticket is much like.
    zendesk.create_ticket(
        subject="The button crashes the app", description="It fails with an error.",
        requester_id=people[0], created_at=clock())
    daemon.run_pass()
    [alike_issue] = [str(i["key"]) for i in jira.issues() if i["key"] != outage]
    wrong = int(zendesk.create_ticket(
        subject="Export button crashes the app", description="It fails with an error.",
        requester_id=people[1], created_at=clock())["id"])
    daemon.run_pass()
    assert f"zendesk-{wrong}" in jira.issue(outage)["fields"]["labels"]
    assert main(["unlink", str(wrong), outage]) == 0
    capsys.readouterr()
    for _ in range(3):
        daemon.run_pass()
    # Later plans: the ticket files its own issue, once, and claims no join of another.
    own = [i for i in jira.issues() if f"zendesk-{wrong}" in i["fields"]["labels"]]
    assert len(own) == 1
    assert str(own[0]["key"]) not in (outage, alike_issue)
    tags = zendesk.ticket(wrong)["tags"]
    assert f"jira_{alike_issue.lower().replace('-', '_')}" not in tags
    assert not jira.remote_links(alike_issue)[1:]  # the alike ticket's own link only
    assert not [c for c in issue_comments(jira, alike_issue) if f"#{wrong}" in c]
    # The ledger: the join is settled as undone, not left done.
    state = SqliteState(settings.state_db)
    try:
        assert state.ledger_status(
            f"ticket:{wrong}/route:product-bug/join_jira_issue") == "skipped"
        assert state.joined_by(wrong, outage) is None
    finally:
        state.close()
    # Explain: the known issue is not the ticket's join any more.
    assert main(["explain", str(wrong), "--output", "json"]) == 0
    explained = json.loads(capsys.readouterr().out)
    [known] = explained["known_issues"]
    assert not known["joined"]
    assert "unlinked" in known["not_joined_because"]
    # The report: the ticket filed its own issue; it is not among the joined.
    jira_part = jira_report(settings, clock)
    joined = [(r["ticket"], r["issue"]) for r in jira_part["figures"]["jira_joined"]["rows"]]
    assert (wrong, outage) not in joined


def test_a_refused_join_files_even_when_a_create_was_intended_before_the_join(  # noqa: PLR0917
    zendesk: ZendeskTwin, jira: JiraTwin, daemon: Daemon, clock: ManualClock, outage: str,
    settings: Settings,
) -> None:
    # Found by the chaos night: the create waited out a 429, a later plan joined a known issue
    # instead (the create settled as skipped), Jira refused the join; the ticket never filed.
    [person] = customers(zendesk, 1)
    ticket = int(zendesk.create_ticket(subject="The app crashes", description="On save.",
                                       requester_id=person, created_at=clock())["id"])
    for endpoint in ("POST /rest/api/3/issue", "POST /rest/api/3/issue/bulk"):
        jira.server.faults.add(FaultRule(endpoint, error_rate=1.0, error_status=429))
    daemon.run_pass()
    jira.server.faults.clear()
    assert not [i for i in jira.issues() if f"zendesk-{ticket}" in i["fields"]["labels"]]
    zendesk.agent_update(ticket, subject="The app crashes on export")  # now the known issue's
    _done(jira, outage)
    for _ in range(4):
        clock.advance(timedelta(minutes=5))
        daemon.run_pass()
    own = [i for i in jira.issues() if f"zendesk-{ticket}" in i["fields"]["labels"]]
    assert len(own) == 1
    assert own[0]["key"] != outage
    assert [a for a, _ in audited(settings, ticket, "join_refused")] == ["JoinJiraIssue"]
