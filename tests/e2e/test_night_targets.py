"""The demo night with its escalation targets beside the chat webhooks: PagerDuty, e-mail
and Slack's Web API, each on its twin over real HTTP and SMTP, as `afterhours demo` runs it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from afterhours.demo.night import DemoNight
from afterhours.demo.report import write_report
from afterhours.demo.targets import CONVERSATION, PAGER, write_demo_policy
from afterhours.policy import load_policy

pytestmark = pytest.mark.e2e
SHIPPED = Path(__file__).parents[2] / "config" / "policy.yaml"
P1 = ("outage", "security")  # the night's after-hours P1 tickets, both answered


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoNight]:
    folder = tmp_path_factory.mktemp("targets")
    policy = load_policy(write_demo_policy(SHIPPED.read_text(encoding="utf-8"), folder)).policy
    with DemoNight(policy, folder / "state.sqlite3") as running:
        running.run()
        yield running


def test_each_p1_pages_pagerduty_once_and_the_answer_resolves_it(night: DemoNight) -> None:
    incidents = night.targets.pagerduty.incidents()
    assert [(i.service, i.triggers, i.status) for i in incidents] == [(PAGER, 1, "resolved")] * 2
    assert {i.incident_key.split("/")[0] for i in incidents} == {
        f"ticket:{night.ticket_ids[name]}" for name in P1}


def test_each_p1_mails_the_on_call_primary_and_backup_once(night: DemoNight) -> None:
    smtp = night.targets.smtp
    mails = smtp.messages()
    assert len(mails) == 2
    assert all(m["To"] == "alex.lead@acme.example, sam.lead@acme.example" for m in mails)
    assert sum(smtp.deliveries.values()) == 2


def test_each_p1_slack_message_is_updated_once_when_the_ladder_stops(night: DemoNight) -> None:
    slack = night.targets.slack
    messages = slack.messages(CONVERSATION)
    assert len(messages) == 2
    assert all("stopped: an agent has replied in public" in m["text"] for m in messages)
    assert sorted(slack.updates_by_key.values()) == [1, 1]
    assert sorted(slack.posts_by_key.values()) == [1, 1]


def test_the_summary_names_the_pages_mail_and_messages(night: DemoNight) -> None:
    out = io.StringIO()
    write_report(night, out)
    said = out.getvalue()
    assert "PagerDuty incidents:" in said
    assert "triggered 1x, now resolved" in said
    assert "to alex.lead@acme.example, sam.lead@acme.example:" in said
    assert "#oncall-room (updated in place):" in said
