"""The report's figures from literal audit rows and snapshots: volume, response times and SLA,
escalations, Jira issues and repeated problems, and the same figures as CSV, JSON and HTML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from afterhours.policy import load_policy
from afterhours.report.build import build_report
from afterhours.report.model import Event, Facts, Filed, Report, Table
from afterhours.report.problems import similar_subjects
from afterhours.report.tickets import night_of
from factories import make_ticket

POLICY = load_policy(Path(__file__).parents[2] / "config" / "policy.yaml").policy
FRI_NIGHT = datetime(2026, 1, 17, 2, tzinfo=UTC)  # Saturday 02:00 in London (GMT)
END = datetime(2026, 1, 18, 12, tzinfo=UTC)
PAGE_REASON = ("priority 'urgent'; created after hours; no first reply yet; this level acts at"
               " once; alex.lead@acme.example is on call for support-leads")


def at(minutes: float) -> datetime:
    return FRI_NIGHT + timedelta(minutes=minutes)


def done(ticket: int, minutes: float, rule: str, step: str, action: str, *, reason: str = "r",
         **detail: Any) -> Event:
    return Event(at(minutes), ticket, f"ticket:{ticket}/{rule}/{step}", rule, action, "done",
                 reason, detail)


TICKETS = (
    # Afterhours acknowledged it; a person replied too, after: Zendesk's first reply is ours.
    make_ticket(id=1, subject="Export button crashes", priority="urgent", created_at=at(0),
                first_reply_at=at(5), replies=2, tags=frozenset({"p1", "export"})),
    # A person replied first, in 30 minutes of an hour's promise.
    make_ticket(id=2, subject="Cannot log in", priority="urgent", created_at=at(90),
                first_reply_at=at(120), replies=1, tags=frozenset({"export"})),
    # Only afterhours replied; its reply-promise level fired.
    make_ticket(id=3, subject="=HYPERLINK(\"x\") <script>", priority="urgent",
                created_at=at(120), first_reply_at=at(121), replies=1),
    # In business hours on Friday afternoon: not after hours.
    make_ticket(id=4, subject="Invoice copy", created_at=datetime(2026, 1, 16, 14, tzinfo=UTC)),
    # Saturday night, solved without a public reply, filed in Jira.
    make_ticket(id=5, subject="The export button crashes the app", priority="normal",
                created_at=at(20 * 60), status="solved", solved_at=at(21 * 60)),
)
EVENTS = (
    done(1, 5, "route:general-inquiry", "reply", "AddPublicReply"),
    done(1, 5, "escalation:p1-after-hours/level:page", "note", "AddInternalNote"),
    done(1, 5, "escalation:p1-after-hours/level:page", "page", "NotifyChannel", reason=PAGE_REASON,
         channel="oncall-lead"),
    done(2, 95, "priority:p1-urgent", "set_priority", "SetPriority", priority="urgent"),
    done(3, 121, "route:general-inquiry", "reply", "AddPublicReply"),
    done(3, 180, "escalation:reply-promise/level:missed", "note", "AddInternalNote"),
    done(3, 180, "escalation:reply-promise/level:missed", "notify", "NotifyChannel",
         channel="support-lead"),
    Event(at(200), 3, "ticket:3/escalation:p1-after-hours/level:page/tags", "x", None, "skipped",
          "acknowledged: tag 'oncall_ack'; the ladder p1-after-hours stops"),
    done(5, 20 * 60 + 10, "route:product-bug", "create_jira_issue", "CreateJiraIssue"),
    Event(at(30), None, None, None, None, "policy_loaded", "policy in force"),
)
FACTS = Facts(start=END - timedelta(days=30), end=END, tickets=TICKETS,
              backlog=[t for t in TICKETS if not t.is_closed], events=EVENTS,
              filed=[Filed(5, "ENG-1", at(20 * 60 + 10))])


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report(FACTS, POLICY)


def figure(report: Report, name: str) -> list[dict[str, Any]]:
    found: Table = next(t for t in report.tables() if t.name == name)
    return found.records()


def rows(report: Report, name: str) -> dict[Any, tuple[Any, ...]]:
    found = next(t for t in report.tables() if t.name == name)
    return {row[0]: row[1:] for row in found.rows}


def test_a_night_runs_from_noon_to_noon_named_by_its_evening() -> None:
    assert night_of(at(0), POLICY) == "Fri 16 Jan"
    assert night_of(datetime(2026, 1, 17, 13, tzinfo=UTC), POLICY) == "Sat 17 Jan"


def test_after_hours_tickets_by_night_hour_category_and_priority(report: Report) -> None:
    assert rows(report, "after_hours_by_night") == {"Fri 16 Jan": (3,), "Sat 17 Jan": (1,)}
    hours = {h: n for h, (n,) in rows(report, "after_hours_by_hour").items() if n}
    assert hours == {"02:00": 1, "03:00": 1, "04:00": 1, "22:00": 1}
    assert rows(report, "after_hours_by_category") == {
        "general-inquiry": (2,), "product-bug": (1,), "(no route)": (1,)}
    assert rows(report, "after_hours_by_priority") == {"urgent": (3,), "normal": (1,)}


def test_first_action_and_replies_against_the_promise(report: Report) -> None:
    tickets = {r["ticket"]: r for r in figure(report, "response_by_ticket")}
    assert set(tickets) == {1, 2, 3, 5}  # 4 came in business hours
    one, two, three = tickets[1], tickets[2], tickets[3]
    assert (one["first action"], one["first reply"], one["first human reply"]) == (5.0, 5.0, None)
    assert one["a person replied"] == "yes"  # two replies, one of them afterhours'
    assert (two["first action"], two["first human reply"], two["promised"]) == (5.0, 30.0, 60.0)
    assert three["a person replied"] == "no"
    assert [tickets[i]["SLA"] for i in (1, 2, 3, 5)] == ["unknown", "met", "missed", "unknown"]
    urgent = rows(report, "response_by_priority")["urgent"]
    assert urgent[:4] == (5.0, 5.0, 30.0, 60.0)  # medians: first action, reply, human, promise


def test_sla_attainment_per_priority_and_backlog_beyond_it(report: Report) -> None:
    sla = rows(report, "sla_by_priority")
    # met, missed, not yet due, unknown, no promise, attained %
    assert sla["urgent"] == (1, 1, 0, 1, 0, 50.0)
    assert sla["normal"] == (0, 0, 0, 1, 0, None)
    backlog = rows(report, "backlog_beyond_sla")
    # Open: 1 (unknown), 2 (met), 3 (missed), 4 (promised by Monday: not yet due).
    assert backlog["open tickets"] == (4,)
    assert backlog["beyond SLA"] == (1,)
    assert backlog["beyond SLA %"] == (25.0,)


def test_escalations_by_ladder_level_target_and_outcome(report: Report) -> None:
    assert rows(report, "escalations_by_ladder") == {
        "p1-after-hours": (1, 0, 0), "reply-promise": (0, 0, 1)}
    assert rows(report, "escalations_by_level") == {
        "p1-after-hours / page": (1,), "reply-promise / missed": (1,)}
    assert rows(report, "escalations_by_target") == {
        "on call: alex.lead@acme.example (support-leads)": (1,),
        "channel #support-lead": (1,)}
    assert rows(report, "escalations_by_outcome") == {
        "acknowledged": (1,), "resolved": (0,), "still open": (1,)}


def test_an_escalation_the_daemon_saw_acknowledged_ended_so() -> None:
    skip = Event(at(200), 3, "ticket:3/escalation:reply-promise/level:missed/notify",
                 "escalation:reply-promise/level:missed", None, "skipped",
                 "acknowledged: tag 'oncall_ack'; the ladder reply-promise stops")
    report = build_report(Facts(**{**FACTS.__dict__, "events": (*EVENTS, skip)}), POLICY)
    assert rows(report, "escalations_by_ladder")["reply-promise"] == (1, 0, 0)


def test_jira_issues_with_status_and_age(report: Report) -> None:
    assert figure(report, "jira_issues") == [{
        "issue": "ENG-1", "age days": 0.6, "ticket": 5, "ticket status": "solved",
        "Jira status": "not read"}]


def test_repeated_problems_by_tag_and_similar_subject(report: Report) -> None:
    tags = rows(report, "repeated_tags")
    assert tags["export"] == (2, "no")
    assert tags["p1"] == (1, "yes")
    first = figure(report, "similar_subjects")[0]
    assert first == {"problem": "Export button crashes", "tickets": 2, "ids": "#1 #5"}


def test_similar_subjects_ignore_case_punctuation_and_order() -> None:
    tickets = [make_ticket(id=i, subject=s) for i, s in enumerate(
        ["Password reset mail never arrives", "password reset: mail never arrives!",
         "Refund please", "Mail never arrives for password reset"], start=1)]
    assert similar_subjects(tickets) == [
        ("Password reset mail never arrives", [1, 2, 4]), ("Refund please", [3])]


def test_a_ticket_that_joined_a_known_issue_is_shown_joined_not_filed() -> None:
    why = ("about the known issue similar-eng-7 (ENG-7): 83% alike in meaning to a ticket of"
           " ENG-7 (threshold 80; shared words: sso)")
    joined = [Filed(1, "ENG-7", at(10), "open", joined=True, why=why),
              Filed(2, "ENG-7", at(95), "open", joined=True, why=why)]
    facts = Facts(**{**FACTS.__dict__, "filed": [*FACTS.filed, *joined]})
    report = build_report(facts, POLICY)
    [jira] = [s for s in report.sections if s.name == "jira"]
    assert dict(jira.headline) == {"issues filed": 1, "their tickets still open": 0,
                                   "tickets joined to a known issue": 2,
                                   "known issues joined": 1}
    assert [r["issue"] for r in figure(report, "jira_issues")] == ["ENG-1"]
    assert figure(report, "jira_by_status") == [{"status": "not read", "issues": 1}]
    assert figure(report, "jira_joined") == [
        {"ticket": 1, "issue": "ENG-7", "ticket status": "new", "Jira status": "open",
         "why": why},
        {"ticket": 2, "issue": "ENG-7", "ticket status": "new", "Jira status": "open",
         "why": why}]
