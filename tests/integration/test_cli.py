"""The `afterhours` command as ops and support leads use it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from afterhours.cli import main
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin

POLICY = Path(__file__).parents[2] / "config" / "policy.yaml"


def test_check_accepts_the_shipped_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(POLICY)]) == 0
    assert ": ok (3 priority rules, 3 routes" in capsys.readouterr().out


def test_check_reads_the_policy_file_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AFTERHOURS_POLICY_FILE", str(POLICY))
    assert main(["check"]) == 0
    assert str(POLICY) in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nschedule: [", ":2:12: invalid YAML"),
        ("version: 1\nschedule:\n  time_zone: Mars/Olympus\n  hours: {}\n",
         ":3:14: unknown time zone 'Mars/Olympus'"),
        ("version: 1\nschedule:\n  time_zone: UTC\n  hours: {}\nroutes:\n  - name: a\n"
         "    gruop: Finance\n", ":7:5: unknown field 'gruop': did you mean 'group'?"),
        ("- just\n- a list\n", ":1:1: the policy must be a mapping"),
        ("\x00\x01binary", ":1:1:"),
    ],
    ids=["yaml-syntax", "time-zone", "misspelt-field", "not-a-mapping", "binary"],
)
def test_check_rejects_a_broken_policy_with_a_located_message_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(text, encoding="utf-8")
    assert main(["check", str(policy)]) == 2
    err = capsys.readouterr().err
    assert f"{policy}{expected}" in err
    assert "Traceback" not in err


def test_check_on_a_missing_file_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(tmp_path / "nope.yaml")]) == 2
    assert "cannot read policy" in capsys.readouterr().err


def test_run_with_webhooks_that_are_not_json_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AFTERHOURS_WEBHOOKS", "finance=https://hooks.example/x")
    assert main(["run", "--once"]) == 2
    err = capsys.readouterr().err
    assert "AFTERHOURS_WEBHOOKS" in err or "webhooks" in err
    assert "Traceback" not in err


def test_run_without_settings_names_the_missing_variables(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "--once"]) == 2
    err = capsys.readouterr().err
    assert "AFTERHOURS_ZENDESK_URL" in err
    assert "AFTERHOURS_JIRA_TOKEN" in err


@pytest.mark.integration
def test_run_once_from_the_environment_acts_and_audits(  # noqa: PLR0917  (pytest fixtures)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    zendesk: ZendeskTwin,
    jira: JiraTwin,
    chat: ChatTwin,
) -> None:
    # The twins run on the test clock (a Friday evening, after hours); `run` uses the real
    # clock, so the backfill reaches back far enough to export that evening's ticket.
    user = zendesk.add_user("Bob", "bob@initech.com")["id"]
    zendesk.add_group("Finance")
    # The real clock is days past the twin's Friday evening: the 24-hour ladder acts at once.
    zendesk.add_group("Support Leads")
    filed = zendesk.create_ticket(subject="Refund please", description="double charge",
                                  requester_id=user)
    state = tmp_path / "state.sqlite3"
    hooks = {c: chat.webhook_url(c) for c in ("finance", "engineering", "oncall-lead",
                                              "support-lead")}
    for name, value in {
        "ZENDESK_URL": zendesk.base_url, "ZENDESK_EMAIL": "bot@example.com",
        "ZENDESK_TOKEN": "zd-secret-token", "JIRA_URL": jira.base_url,
        "JIRA_EMAIL": "bot@example.com", "JIRA_TOKEN": "jira-secret-token",
        "WEBHOOKS": json.dumps(hooks), "POLICY_FILE": str(POLICY), "STATE_DB": str(state),
        "LOG_FORMAT": "json", "BACKFILL_HOURS": str(24 * 365 * 20),
    }.items():
        monkeypatch.setenv(f"AFTERHOURS_{name}", value)

    assert main(["run", "--once"]) == 0
    out = capsys.readouterr().err  # the log lines; stdout is for what a command prints
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert {"daemon.started", "pass.completed"} <= {e["event"] for e in events}
    assert "secret-token" not in out

    assert main(["audit", "--state", str(state), "--ticket", str(filed["id"]),
                 "--output", "json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all(r["ticket_id"] == filed["id"] and r["reason"] for r in rows)
    routed = [r for r in rows if r["rule"] == "route:billing" and r["outcome"] == "done"]
    assert {r["action"] for r in routed} == {
        "AssignGroup", "AddTags", "NotifyChannel", "AddPublicReply"}
    assert len(chat.messages("finance")) == 1


def test_a_reader_that_goes_away_gets_no_traceback() -> None:
    demo = subprocess.Popen(  # a pipe closed early, like `afterhours demo | head -0`
        [sys.executable, "-m", "afterhours", "demo"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert demo.stdout is not None
    assert demo.stderr is not None
    # Gone before the first line: after one line, a demo whose whole output fits the pipe's
    # buffer could finish writing before the reader left, and exit 0.
    demo.stdout.close()
    assert "Traceback" not in demo.stderr.read().decode()
    demo.stderr.close()
    assert demo.wait(timeout=120) == 1
