"""Parked actions through the twins and the real `afterhours` command: listed, released by
`afterhours retry` or by a fixed policy or webhook URL, and done once."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from afterhours.adapters.state import SqliteState
from afterhours.bootstrap import build_reloader, build_service
from afterhours.cli import main
from afterhours.clock import ManualClock
from afterhours.parking import replan_on_change
from afterhours.policy import load_policy
from afterhours.retrying import RetryPolicy
from afterhours.settings import Settings
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin

pytestmark = pytest.mark.integration
POLICY = """\
version: 1
schedule:
  time_zone: Europe/London
  hours: {{mon: ["09:00-17:30"]}}
channels:
  finance: {{}}
routes:
  - name: product-bug
    when: {{keywords: [crash, crashes]}}
    jira: {{project: {project}, issue_type: Bug}}
  - name: billing
    when: {{keywords: [refund]}}
    group: Finance
    notify: finance
"""


class Setup:
    """The environment `afterhours` reads, pointed at the twins, and what a test does with it."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys:
                 pytest.CaptureFixture[str], twins: tuple[ZendeskTwin, JiraTwin, ChatTwin]) -> None:
        self.zendesk, self.jira, self.chat = twins
        self.monkeypatch, self.capsys = monkeypatch, capsys
        self.policy = tmp_path / "policy.yaml"
        self.state = tmp_path / "state.sqlite3"
        self.write_policy("ENG")
        self.hook("finance")
        for name, value in {
            "ZENDESK_URL": self.zendesk.base_url, "ZENDESK_EMAIL": "bot@example.com",
            "ZENDESK_TOKEN": "zd-secret-token", "JIRA_URL": self.jira.base_url,
            "JIRA_EMAIL": "bot@example.com", "JIRA_TOKEN": "jira-secret-token",
            "POLICY_FILE": str(self.policy), "STATE_DB": str(self.state),
            "LOG_FORMAT": "json",
            # The twins run on the test clock (a Friday evening); `run` on the real one.
            "BACKFILL_HOURS": str(24 * 365 * 20),
        }.items():
            monkeypatch.setenv(f"AFTERHOURS_{name}", value)
        self.requester = self.zendesk.add_user("Bob", "bob@initech.com")["id"]

    def write_policy(self, project: str) -> None:
        self.policy.write_text(POLICY.format(project=project), encoding="utf-8")

    def hook(self, path: str) -> None:
        """Point the finance channel at the chat twin's /hooks/`path`."""
        self.monkeypatch.setenv("AFTERHOURS_WEBHOOKS",
                                json.dumps({"finance": self.chat.webhook_url(path)}))

    def ticket(self, subject: str) -> int:
        return int(self.zendesk.create_ticket(subject=subject, description="help",
                                              requester_id=self.requester)["id"])

    def run(self, *argv: str) -> tuple[int, str, str]:
        """`afterhours ARGV...`: exit code, stdout, stderr."""
        self.capsys.readouterr()
        code = main(list(argv))
        out, err = self.capsys.readouterr()
        return code, out, err

    def audit(self) -> list[tuple[str | None, str, str]]:
        with closing(SqliteState(self.state)) as state:
            return [(r.key, r.outcome, r.reason) for r in state.audit()]


@pytest.fixture
def setup(  # noqa: PLR0917  (pytest fixtures)
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin,
) -> Setup:
    return Setup(tmp_path, monkeypatch, capsys, (zendesk, jira, chat))


def action_rows(setup: Setup) -> list[tuple[str | None, str, str]]:
    return [row for row in setup.audit() if row[0] is not None]


def test_an_unknown_jira_project_is_parked_listed_and_filed_once_after_retry(
    setup: Setup,
) -> None:
    setup.write_policy("APP")
    ticket = setup.ticket("The app crashes on start")
    key = f"ticket:{ticket}/route:product-bug/create_jira_issue"
    assert setup.run("run", "--once")[0] == 1  # something failed

    code, out, _ = setup.run("failed")
    assert code == 0
    header, row, last = out.splitlines()
    assert header.split()[:4] == ["KEY", "TICKET", "RULE", "ACTION"]
    assert row.split()[:4] == [key, str(ticket), "route:product-bug", "CreateJiraIssue"]
    assert row.endswith("jira: valid project is required")
    assert last.startswith("1 parked action;")
    code, out, _ = setup.run("failed", "--json")
    [parked, count] = [json.loads(line) for line in out.splitlines()]
    assert (parked["key"], parked["ticket_id"], parked["action"]) == (
        key, ticket, "CreateJiraIssue")
    assert count == {"parked": 1, "quarantined": 0}

    setup.jira.add_project("APP", "App")
    assert setup.run("run", "--once")[0] == 0  # parked: not redone on its own
    assert setup.jira.issues() == []

    code, out, _ = setup.run("retry", key)
    assert code == 0
    assert out.splitlines()[-1] == "1 action released; the next pass re-plans them"
    assert setup.run("failed")[1].splitlines() == ["0 parked actions"]
    assert setup.run("run", "--once")[0] == 0
    [issue] = setup.jira.issues()
    assert f"zendesk-{ticket}" in issue["fields"]["labels"]

    before = action_rows(setup)
    assert setup.run("run", "--once")[0] == 0
    assert action_rows(setup) == before  # another pass changes nothing
    assert len(setup.jira.issues()) == 1
    outcomes = [outcome for k, outcome, _ in before if k == key]
    assert outcomes == ["failed", "retry_requested", "done"]

    code, _, err = setup.run("retry", key, "ticket:1/nope/step")
    assert code == 2
    assert f"{key}: not parked (it is done)" in err
    assert "ticket:1/nope/step: no such action in the ledger" in err
    assert setup.run("retry", key)[0] == 1


def test_a_corrected_policy_replans_the_parked_action_on_restart(setup: Setup) -> None:
    setup.write_policy("ENGG")  # a typo for ENG
    setup.ticket("Export crash")
    assert setup.run("run", "--once")[0] == 1
    assert setup.run("run", "--once")[0] == 0  # nothing changed: it stays parked
    assert setup.jira.issues() == []

    setup.write_policy("ENG")
    assert setup.run("run", "--once")[0] == 0
    assert len(setup.jira.issues()) == 1
    [released] = [row for row in setup.audit() if row[1] == "retry_automatic"]
    assert released[2] == "policy changed"
    assert setup.run("run", "--once")[0] == 0
    assert len(setup.jira.issues()) == 1


def test_a_corrected_policy_replans_the_parked_action_on_hot_reload(
    setup: Setup, clock: ManualClock
) -> None:
    setup.write_policy("ENGG")
    setup.ticket("Export crash")
    settings = Settings()
    loaded = load_policy(setup.policy)
    service = build_service(settings, loaded.policy, clock=clock, retry=RetryPolicy.disabled())
    with closing(service):
        replan_on_change(settings, service.state, service.clock, loaded)
        reloader = build_reloader(settings, service, loaded)
        assert service.run_pass().failed == 1
        assert service.state.parked_count() == 1

        setup.write_policy("APP")  # another wrong key: released, fails, parked again
        assert reloader.reload_if_changed()
        assert service.run_pass().failed == 1
        assert service.run_pass().failed == 0  # no loop: parked until the next change

        setup.write_policy("ENG")
        assert reloader.reload_if_changed()
        report = service.run_pass()
        assert (report.failed, service.state.parked_count()) == (0, 0)
        assert len(setup.jira.issues()) == 1
        assert service.run_pass().done == 0


def test_a_mistyped_webhook_url_fixed_in_settings_replans_the_message(setup: Setup) -> None:
    setup.zendesk.add_group("Finance")
    setup.hook("finanse")
    setup.chat.answer_with("finanse", 404, "no_service")  # Slack's word for no such hook
    ticket = setup.ticket("Refund please")
    assert setup.run("run", "--once")[0] == 1
    out = setup.run("failed", "--json")[1]
    [parked, _] = [json.loads(line) for line in out.splitlines()]
    assert (parked["action"], parked["reason"]) == (
        "NotifyChannel", "chat: finance: HTTP 404: no_service")

    setup.hook("finance")
    assert setup.run("run", "--once")[0] == 0
    [message] = setup.chat.messages("finance")
    assert f"ticket #{ticket}" in message
    assert "→ Finance" in message  # the group change landed on the first pass
    assert ("settings changed" in
            [reason for _, outcome, reason in setup.audit() if outcome == "retry_automatic"])
    assert setup.run("run", "--once")[0] == 0
    assert len(setup.chat.messages("finance")) == 1


def test_a_webhook_refusing_the_message_with_422_is_parked_not_delivered(setup: Setup) -> None:
    setup.zendesk.add_group("Finance")
    setup.chat.answer_with("finance", 422, "invalid_blocks")
    setup.ticket("Refund please")
    assert setup.run("run", "--once")[0] == 1
    out = setup.run("failed")[1]
    assert "chat: finance: HTTP 422: invalid_blocks" in out
    assert setup.chat.messages() == []


def test_a_group_that_does_not_exist_is_not_announced(setup: Setup) -> None:
    ticket = setup.ticket("Refund please")  # the Zendesk twin has no group Finance
    assert setup.run("run", "--once")[0] == 1
    [message] = setup.chat.messages("finance")
    assert "→" not in message
    assert message.endswith(
        f"/tickets/{ticket}> (group change to Finance failed: zendesk: no group named"
        " 'Finance')")
    group = f"ticket:{ticket}/route:billing/assign_group"
    out = setup.run("failed")[1]
    assert group in out

    setup.zendesk.add_group("Finance")
    assert setup.run("retry", "--all")[0] == 0
    assert setup.run("run", "--once")[0] == 0
    moved: dict[str, Any] = setup.zendesk.ticket(ticket)
    assert moved["group_id"] is not None
    assert len(setup.chat.messages("finance")) == 1  # the message was sent once, honestly
