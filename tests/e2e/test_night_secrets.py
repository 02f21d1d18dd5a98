"""A whole demo night with known secrets, and every line it leaves looked through for them.

The daemon runs the night with its own logs at debug, and a second night with the libraries'
loggers at debug too (where urllib3 prints every request's URL, so each webhook's secret
path). Afterwards `audit`, `failed`, `explain`, `replay` and `check --live` run against the
same twins and state, their secrets read from mounted files (*_FILE), and a chat receiver that
echoes the webhook URL in its errors. No token, webhook URL or webhook secret may appear in any
log line, any output, or the state file itself; no ticket's text may appear in afterhours' own
log lines, nor in any line at all while the libraries stay at their default WARNING.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from afterhours.cli import main
from afterhours.demo.night import TICKETS, DemoNight
from afterhours.demo.report import write_report
from afterhours.logs import configure_logging
from afterhours.policy import load_policy

pytestmark = pytest.mark.e2e
POLICY_FILE = Path(__file__).parents[2] / "config" / "policy.yaml"
ZENDESK_TOKEN = "zd-night-token-5c0ffee1"
JIRA_TOKEN = "jira-night-token-0ddba11"
WEBHOOK_SECRET = "XoXb-hook-secret-8675309"
SECRETS = (ZENDESK_TOKEN, JIRA_TOKEN, WEBHOOK_SECRET)


@dataclass
class Night:
    """What a night left behind, by where it was written."""

    own_lines: list[str]  # afterhours' own log lines (structlog, JSON)
    library_lines: list[str]  # the libraries' lines (standard logging)
    outputs: dict[str, str]  # each command's stdout and stderr
    state: bytes  # the state file, raw

    def everything(self) -> list[str]:
        """Every line and output there is."""
        return [*self.own_lines, *self.library_lines, *self.outputs.values(),
                self.state.decode("utf-8", "replace")]


def commands(night: DemoNight, state: Path, files: Path) -> dict[str, list[str]]:
    """The commands a person runs after the night, and their arguments."""
    bug = night.ticket_ids["bug"]
    return {
        "audit": ["audit", "--db", str(state)],
        "failed": ["failed", "--db", str(state)],
        "explain": ["explain", str(bug), "--db", str(state)],
        "explain --json": ["explain", str(bug), "--db", str(state), "--json"],
        "replay": ["replay", "--from", "2026-11-20", "--to", "2026-11-22"],
        "check --live": ["check", "--live"],
        "run --once --dry-run": ["run", "--once", "--dry-run"],
    }


def environment(night: DemoNight, state: Path, files: Path,
                monkeypatch: pytest.MonkeyPatch) -> None:
    """AFTERHOURS_* for the commands: the secrets from files, as a container mounts them."""
    webhooks = {c: night.chat.webhook_url(c) for c in night.policy.channels}
    for name, content in (("ZENDESK_TOKEN", ZENDESK_TOKEN), ("JIRA_TOKEN", JIRA_TOKEN),
                          ("WEBHOOKS", json.dumps(webhooks))):
        (files / name).write_text(content + "\n")
        monkeypatch.setenv(f"AFTERHOURS_{name}_FILE", str(files / name))
    for name, value in (("ZENDESK_URL", night.zendesk.base_url),
                        ("ZENDESK_EMAIL", "bot@example.com"), ("JIRA_URL", night.jira.base_url),
                        ("JIRA_EMAIL", "bot@example.com"), ("POLICY_FILE", str(POLICY_FILE)),
                        ("STATE_DB", str(state)), ("LOG_FORMAT", "json")):
        monkeypatch.setenv(f"AFTERHOURS_{name}", value)


def run_night(tmp_path: Path, library_level: str) -> Night:
    state = tmp_path / "state.sqlite3"
    own, library, outputs = io.StringIO(), io.StringIO(), {}
    handler = logging.StreamHandler(library)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with (pytest.MonkeyPatch.context() as monkeypatch,
              DemoNight(load_policy(POLICY_FILE).policy, state, zendesk_token=ZENDESK_TOKEN,
                        jira_token=JIRA_TOKEN, webhook_secret=WEBHOOK_SECRET) as night):
            with contextlib.redirect_stdout(own), contextlib.redirect_stderr(own):
                configure_logging("json", "debug", library_level)
                # A receiver that echoes the URL it was posted to in its error, for a while.
                hook = night.chat.webhook_url("finance")
                night.chat.answer_with("finance", 500, {"error": f"no route for {hook}"})
                night.at(timedelta(hours=4), "finance's hook answers again",
                         lambda: night.chat.clear_answer("finance"))
                night.run()
            report = io.StringIO()
            write_report(night, report)
            outputs["demo report"] = report.getvalue()
            environment(night, state, tmp_path, monkeypatch)
            monkeypatch.setenv("AFTERHOURS_LIBRARY_LOG_LEVEL", library_level)
            for name, argv in commands(night, state, tmp_path).items():
                out, err = io.StringIO(), io.StringIO()
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    code = main(argv)
                outputs[name] = f"exit {code}\n{out.getvalue()}\n{err.getvalue()}"
    finally:
        root.removeHandler(handler)
    return Night(own.getvalue().splitlines(), library.getvalue().splitlines(), outputs,
                 b"".join(p.read_bytes() for p in tmp_path.glob("state.sqlite3*")))


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Night:
    """A night with the libraries at their default level."""
    return run_night(tmp_path_factory.mktemp("quiet"), "warning")


@pytest.fixture(scope="module")
def loud(tmp_path_factory: pytest.TempPathFactory) -> Night:
    """A night with the libraries at debug: every request's URL is logged by urllib3."""
    return run_night(tmp_path_factory.mktemp("loud"), "debug")


def leaks(texts: list[str], secrets: tuple[str, ...]) -> list[str]:
    return [f"{secret!r} in {text[:200]!r}" for text in texts for secret in secrets
            if secret in text]


@pytest.mark.parametrize("night", ["quiet", "loud"])
def test_no_secret_in_any_log_line_output_or_the_state_file(
    night: str, request: pytest.FixtureRequest,
) -> None:
    seen: Night = request.getfixturevalue(night)
    assert len(seen.own_lines) > 300  # a whole night at debug: a line a pass and more
    assert leaks(seen.everything(), SECRETS) == []


def test_every_command_ran_and_said_something(quiet: Night) -> None:
    for name in ("audit", "explain", "explain --json", "replay", "check --live", "failed"):
        assert quiet.outputs[name].startswith("exit 0\n"), (name, quiet.outputs[name][:500])
    assert "ok" in quiet.outputs["check --live"]


def test_the_libraries_logged_requests_only_when_asked(quiet: Night, loud: Night) -> None:
    assert not [line for line in quiet.library_lines if line.startswith("DEBUG")]
    # httpx logs each webhook's URL: the redaction marker stands where it was.
    assert any(line.startswith("HTTP Request: POST ********** ") for line in loud.library_lines)


def test_no_ticket_text_in_any_log_line(quiet: Night, loud: Night) -> None:
    bodies = tuple(t.description for t in TICKETS)
    assert leaks(quiet.own_lines + quiet.library_lines, bodies) == []
    assert leaks(loud.own_lines, bodies) == []  # the libraries' debug was asked for
