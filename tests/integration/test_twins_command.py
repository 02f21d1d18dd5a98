"""`afterhours twins` and the README's offline walkthrough, run as a lead would: the twins in
one process, the walkthrough's commands in others, with the export lines the twins printed."""

from __future__ import annotations

import io
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from afterhours.cli import build_parser, main
from afterhours.twins_command import run_twins, sample_night_start

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
WALKTHROUGH = "### Trying it offline"


def exports(text: str) -> dict[str, str]:
    """The variables of the `export NAME=value` lines `afterhours twins` printed."""
    found = {}
    for line in text.splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            found[name] = shlex.split(value)[0]
    return found


@pytest.fixture
def twins(tmp_path: Path) -> Iterator[dict[str, str]]:
    """`afterhours twins` in a process of its own; the environment its export lines make."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERHOURS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "afterhours", "twins"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("#   ") and len([x for x in lines if x.startswith("#   ")]) == 6:
            break
    try:
        yield {**env, **exports("".join(lines)), "AFTERHOURS_LOG_FORMAT": "json"}
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()
        process.stdout.close()
        process.stderr.close()


def walkthrough() -> list[str]:
    """The command lines of the README's offline walkthrough (its code block after the
    `afterhours twins` line), as typed."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(WALKTHROUGH):]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    commands = [line.split("  #")[0].strip() for block in blocks[:2]
                for line in block.splitlines()]
    return [c for c in commands if c.startswith(".venv/bin/afterhours ") and " twins" not in c]


def afterhours(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run one walkthrough line (`.venv/bin/afterhours ...`) with this interpreter."""
    argv = shlex.split(command)[1:]
    return subprocess.run(  # noqa: S603  (our own command)
        [sys.executable, "-m", "afterhours", *argv], capture_output=True, text=True, env=env,
        cwd=ROOT, timeout=120, check=False)


def test_the_readme_walkthrough_runs_offline_against_the_twins(twins: dict[str, str]) -> None:
    lines = walkthrough()
    assert [shlex.split(line)[1] for line in lines] == [
        "check", "explain", "replay", "run", "audit", "config"]
    for line in lines:
        done = afterhours(line, twins)
        assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        assert "Traceback" not in done.stderr
        if " check --live" in line:
            assert "ok   channel finance: test message delivered" in done.stdout
            # The demo's targets, each on its twin: nobody is paged, nothing is mailed.
            assert "routing key well-formed, events endpoint reachable" in done.stdout
            assert "TLS and login accepted (nothing sent)" in done.stdout
            assert "bot afterhours in Acme" in done.stdout
            assert "FAIL" not in done.stdout
        if " explain " in line:
            assert "Production API is down" in done.stdout
            assert "p1-urgent: WON" in done.stdout
        if " replay " in line:
            assert "Replay of 6 tickets" in done.stdout
        if " audit " in line:
            assert " done " in done.stdout


def test_twins_print_exports_for_a_file_of_tickets_and_stop_when_told(tmp_path: Path) -> None:
    tickets = tmp_path / "tickets.yaml"
    tickets.write_text(
        "- subject: Site down\n  requester: ann@globex.com\n  created_at: 2026-11-20T22:00\n"
        "- subject: Invoice question\n  tags: [vip]\n", encoding="utf-8")
    args = build_parser().parse_args(["twins", "--tickets", str(tickets)])
    out, stop = io.StringIO(), threading.Event()
    stop.set()  # serve no longer than it takes to seed and print
    assert run_twins(args, out=out, stop=stop) == 0
    text = out.getvalue()
    found = exports(text)
    assert set(found) >= {"AFTERHOURS_ZENDESK_URL", "AFTERHOURS_JIRA_URL", "AFTERHOURS_WEBHOOKS",
                          "AFTERHOURS_STATE_URL", "AFTERHOURS_BACKFILL_HOURS"}
    assert found["AFTERHOURS_ZENDESK_URL"].startswith("http://127.0.0.1:")
    assert "#   1: Site down (created Fri 20 Nov 22:00 UTC)" in text
    assert "#   2: Invoice question" in text


def test_a_ticket_file_that_is_not_a_list_of_tickets_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    tickets = tmp_path / "tickets.yaml"
    tickets.write_text("subject: not a list\n", encoding="utf-8")
    assert main(["twins", "--tickets", str(tickets)]) == 2
    assert "expected a list of tickets" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("now", "start"),
    [
        (datetime(2026, 11, 23, 9, tzinfo=UTC), datetime(2026, 11, 20, 16, tzinfo=UTC)),
        # Friday evening: this week's night is not over, so last week's.
        (datetime(2026, 11, 20, 20, tzinfo=UTC), datetime(2026, 11, 13, 16, tzinfo=UTC)),
        # Summer time: 16:00 in London is 15:00 UTC.
        (datetime(2026, 7, 1, 12, tzinfo=UTC), datetime(2026, 6, 26, 15, tzinfo=UTC)),
    ],
)
def test_the_sample_night_is_the_latest_friday_night_that_is_over(
    now: datetime, start: datetime,
) -> None:
    assert sample_night_start(now) == start
