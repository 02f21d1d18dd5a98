"""Chat messages carry the channel's mentions and the Jira issue, and say what happened."""

from __future__ import annotations

from datetime import timedelta

import pytest

from afterhours.domain.actions import CreateJiraIssue, NotifyChannel
from afterhours.domain.model import History, JiraIssueRef
from afterhours.domain.planner import plan_actions
from afterhours.errors import PolicyError
from afterhours.policy import parse_policy
from factories import SATURDAY_NIGHT, make_ticket

POLICY = """
version: 1
schedule: {time_zone: UTC, hours: {mon: ["09:00-17:00"]}}
channels:
  engineering: {mentions: [S0ENGMGRS, U024BE7LH]}
  leads: {}
routes:
  - name: bug
    when: {subject: {contains: [crash, crashes]}}
    tags: [bug]
    notify: engineering
    jira: {project: ENG}
escalations:
  - name: slow
    levels:
      - {after_minutes: 60, until: first_reply, notify: engineering}
"""
ISSUE = JiraIssueRef("ENG-12", "https://acme.atlassian.net/browse/ENG-12")


def messages(history: History, minutes: int = 0) -> list[NotifyChannel]:
    plan = plan_actions(make_ticket(subject="The app crashes"), parse_policy(POLICY),
                        SATURDAY_NIGHT + timedelta(minutes=minutes), history)
    return [p.action for p in plan.actions if isinstance(p.action, NotifyChannel)]


def test_a_message_starts_with_the_channels_mentions() -> None:
    [message] = messages(History())
    assert message.text.startswith("<!subteam^S0ENGMGRS> <@U024BE7LH> [afterhours] bug:")


def test_a_route_filing_in_jira_files_first_and_lets_the_message_name_the_issue() -> None:
    plan = plan_actions(make_ticket(subject="The app crashes"), parse_policy(POLICY),
                        SATURDAY_NIGHT, History())
    kinds = [type(p.action).__name__ for p in plan.actions]
    assert kinds.index("CreateJiraIssue") < kinds.index("NotifyChannel")
    create = next(p for p in plan.actions if isinstance(p.action, CreateJiraIssue))
    [message] = [p.action for p in plan.actions if isinstance(p.action, NotifyChannel)]
    assert message.filing == create.key
    assert "→ ENG" not in message.text  # nothing is claimed before it happened


def test_a_message_after_the_filing_names_the_issue_itself() -> None:
    settled = frozenset({"ticket:7/route:bug/notify", "ticket:7/route:bug/create_jira_issue"})
    [message] = messages(History(settled, ISSUE), minutes=61)
    assert message.filing is None
    assert message.text.endswith("Jira: <https://acme.atlassian.net/browse/ENG-12|ENG-12>")
    assert "escalation slow level 1" in message.text


@pytest.mark.parametrize("bad", ['"@alex"', "alex", "u024be7lh", "C0123456"])
def test_a_mention_must_be_a_slack_id(bad: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(POLICY.replace("U024BE7LH", bad), "p.yaml")
    [problem] = caught.value.problems
    assert problem.startswith("p.yaml:5:")
    assert "is not a Slack id: U... or W... for a person" in problem
    assert "(at channels.engineering.mentions)" in problem
