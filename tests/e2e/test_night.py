"""One after-hours night, end to end: the daemon against the Zendesk, Jira and chat twins.

The same night `afterhours demo` shows, with the SOP policy in config/policy.yaml, run in
accelerated time on a manual clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from afterhours.demo.night import END, DemoNight
from afterhours.policy import load_policy

pytestmark = pytest.mark.e2e
POLICY = Path(__file__).parents[2] / "config" / "policy.yaml"
WRITES = ("PUT", "POST", "DELETE")


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoNight]:
    policy = load_policy(POLICY).policy
    with DemoNight(policy, tmp_path_factory.mktemp("night") / "state.sqlite3") as running:
        running.run()
        yield running


def ticket(night: DemoNight, name: str) -> dict[str, Any]:
    return night.zendesk.ticket(night.ticket_ids[name])


def private_notes(night: DemoNight, name: str) -> list[str]:
    comments = night.zendesk.comments(night.ticket_ids[name])
    return [c["body"] for c in comments if not c["public"]]


def writes(night: DemoNight) -> int:
    counts = [night.zendesk.server.requests, night.jira.server.requests, night.chat.server.requests]
    return sum(n for c in counts for label, n in c.items() if label.startswith(WRITES))


def test_an_after_hours_billing_ticket_goes_to_finance_with_one_chat_message(
    night: DemoNight,
) -> None:
    refund = ticket(night, "refund")
    assert refund["group_id"] == night.group_ids["Finance"]
    assert {"billing", "p2"} <= set(refund["tags"])
    (message,) = night.chat.messages("finance")
    assert f"ticket #{refund['id']}" in message


def test_an_after_hours_bug_gets_exactly_one_jira_issue_linked_both_ways(
    night: DemoNight,
) -> None:
    bug = ticket(night, "bug")
    (issue,) = night.jira.issues()
    key = issue["key"]
    assert f"zendesk-{bug['id']}" in issue["fields"]["labels"]
    assert issue["fields"]["summary"] == f"Export button crashes the app (Zendesk #{bug['id']})"
    # The ticket knows its issue: a tag and an internal note with the key and the link.
    assert f"jira_{key.lower().replace('-', '_')}" in bug["tags"]
    assert any(key in note and f"/browse/{key}" in note for note in private_notes(night, "bug"))
    # The issue points back at the ticket.
    (link,) = night.jira.remote_links(key)
    assert link["object"]["url"].endswith(f"/agent/tickets/{bug['id']}")
    assert link["globalId"].endswith(f":ticket:{bug['id']}")


def test_the_customers_hostile_text_cannot_break_out_of_the_jira_description(
    night: DemoNight,
) -> None:
    # Jira Cloud: the description is ADF, and the customer's wiki markup, HTML and links are
    # text nodes without marks; the only links go to the ticket and the organization.
    (issue,) = night.jira.issues()
    description = issue["fields"]["description"]
    bug = ticket(night, "bug")
    assert description["type"] == "doc"
    texts, hrefs = adf_texts_and_links(description)
    zendesk = night.zendesk.base_url
    assert hrefs == {f"{zendesk}/agent/tickets/{bug['id']}",
                     f"{zendesk}/agent/organizations/{bug['organization_id']}"}
    assert "{noformat}<script>alert('x')</script>{noformat} [click|javascript:alert(1)]" in texts


def adf_texts_and_links(node: dict[str, Any]) -> tuple[list[str], set[str]]:
    """Every text node's text, and every link mark's target, in an ADF document."""
    texts: list[str] = []
    hrefs: set[str] = set()
    if node.get("type") == "text":
        texts.append(node["text"])
        hrefs.update(m["attrs"]["href"] for m in node.get("marks", []) if m["type"] == "link")
    for child in node.get("content", []):
        found = adf_texts_and_links(child)
        texts += found[0]
        hrefs |= found[1]
    return texts, hrefs


def test_p1_keywords_make_tickets_urgent(night: DemoNight) -> None:
    assert ticket(night, "outage")["priority"] == "urgent"
    assert ticket(night, "security")["priority"] == "urgent"
    assert "p1" in ticket(night, "outage")["tags"]
    assert ticket(night, "password")["priority"] == "normal"


def test_stale_tickets_are_escalated_once_per_level(night: DemoNight) -> None:
    outage, security = ticket(night, "outage"), ticket(night, "security")
    pages = night.chat.messages("oncall-lead")
    # After-hours P1: the on-call lead is paged at once, by name, with the backup named too.
    assert all("On call for support-leads: " in m and "(backup " in m for m in pages)
    paged = [m.split("ticket #")[1].split(" ")[0] for m in pages]
    # The outage waits 70 minutes for its reply: paged at once, at 30 and again at 60 minutes.
    assert paged.count(str(outage["id"])) == 3
    assert set(paged) == {str(outage["id"]), str(security["id"])}
    leads = night.chat.messages("support-lead")
    # Unresolved after 24 hours: the Support Team Lead, once for each ticket that reached it.
    bug = ticket(night, "bug")
    late = [m for m in leads if "unresolved-24h" in m]
    assert sorted(m.split("ticket #")[1].split(" ")[0] for m in late) == sorted(
        [str(outage["id"]), str(bug["id"])]
    )
    # The outage's promised hour passed without a reply: the team lead hears of that too.
    assert [m for m in leads if "reply-promise" in m and f"#{outage['id']} " in m]
    assert {"escalated_oncall", "reply_overdue", "escalated_team_lead"} <= set(outage["tags"])
    assert outage["group_id"] == night.group_ids["Support Leads"]


def test_a_ladder_stops_when_its_condition_is_met(night: DemoNight) -> None:
    # Answered within 30 minutes: paged once, never again. Solved before 24 hours: no team lead.
    security = ticket(night, "security")
    pages = night.chat.messages("oncall-lead")
    assert len([m for m in pages if f"#{security['id']} " in m]) == 1
    assert "reply_overdue" not in security["tags"]
    assert "escalated_team_lead" not in ticket(night, "refund")["tags"]


def test_after_hours_tickets_are_told_when_to_expect_an_answer(night: DemoNight) -> None:
    refund, outage = ticket(night, "refund"), ticket(night, "outage")
    said = {
        name: [c["body"] for c in night.zendesk.comments(t["id"]) if c["public"]]
        for name, t in (("refund", refund), ("outage", outage))
    }
    # A P2 on a Friday evening: one working day, so Monday afternoon; a P1: within the hour.
    assert any("by Monday 23 November at 17:00 (Europe/London)" in b for b in said["refund"])
    assert any("by Friday 20 November at 23:40 (Europe/London)" in b for b in said["outage"])
    # The acknowledgement is not a first reply: the outage was still paged until an agent wrote.
    assert "escalated_oncall" in outage["tags"]


def test_a_business_hours_ticket_is_left_to_the_day_team_and_the_skip_is_recorded(
    night: DemoNight,
) -> None:
    daytime = ticket(night, "daytime-invoice")
    assert (daytime["priority"], daytime["group_id"], daytime["tags"]) == (None, None, [])
    rows = night.service.state.audit(ticket_id=daytime["id"])
    assert {r.outcome for r in rows} == {"skipped"}
    assert all("business hours" in r.reason for r in rows)


def test_running_the_loop_again_changes_nothing(night: DemoNight) -> None:
    before = writes(night)
    issues = len(night.jira.issues())
    night.run(until=night.clock() + timedelta(minutes=30))
    # A restarted daemon (same state file) has nothing to do either.
    night.restart()
    night.run(until=night.clock() + timedelta(minutes=30))
    assert writes(night) == before
    assert len(night.jira.issues()) == issues
    assert all(r.done == 0 and r.failed == 0 for r in night.reports[-4:])


def test_every_action_is_audited_with_its_rule_and_reason(night: DemoNight) -> None:
    rows = night.service.state.audit(limit=10_000)
    done = [r for r in rows if r.outcome == "done"]
    assert done
    assert all(r.rule and r.reason and r.key and r.action for r in done)
    assert not [r for r in rows if r.outcome in ("failed", "deferred", "conflict")]
    assert night.clock() >= END
