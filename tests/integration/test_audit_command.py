"""`afterhours audit`: newest first, chosen by ticket, outcome and time, text or JSON, followed."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from afterhours.adapters.state import StateStore
from afterhours.audit_command import run_audit
from afterhours.cli import build_parser, main
from afterhours.clock import ManualClock
from afterhours.settings import command_line_settings, state_url_for

START = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


@pytest.fixture
def trail(state_url: str) -> str:
    """A state with five audit rows an hour apart: tickets 1 and 2, done, failed, skipped."""
    state = StateStore(state_url)
    rows = [(1, "done", "route:billing"), (2, "failed", "route:product-bug"),
            (1, "skipped", "priority:p2"), (2, "done", "escalation:p1/level:page"),
            (1, "done", "escalation:reply-promise/level:missed")]
    for hour, (ticket, outcome, rule) in enumerate(rows):
        state.record(at=START + timedelta(hours=hour), ticket_id=ticket, outcome=outcome,
                     reason=f"reason {hour}", rule=rule, action="AddTags")
    state.close()
    return state_url


def rows(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_newest_first_by_default_and_limit_keeps_the_newest(
    trail: str, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["audit", "--state", trail, "--output", "json", "--limit", "2"]) == 0
    found = rows(capsys.readouterr().out)
    assert [r["reason"] for r in found] == ["reason 4", "reason 3"]


def test_text_output_is_one_line_per_row(trail: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--state", trail]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    assert lines[0].startswith("2026-11-20T22:00:00+00:00  #1       done       escalation:")
    assert lines[0].endswith("AddTags: reason 4")


@pytest.mark.parametrize(
    ("options", "reasons"),
    [
        (["--ticket", "2"], ["reason 3", "reason 1"]),
        (["--outcome", "done"], ["reason 4", "reason 3", "reason 0"]),
        (["--outcome", "failed", "--outcome", "skipped"], ["reason 2", "reason 1"]),
        (["--ticket", "1", "--outcome", "done"], ["reason 4", "reason 0"]),
    ],
)
def test_rows_are_chosen_by_ticket_and_outcome(
    trail: str, options: list[str], reasons: list[str], capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["audit", "--state", trail, "-o", "json", *options]) == 0
    assert [r["reason"] for r in rows(capsys.readouterr().out)] == reasons


def test_since_counts_back_from_now(trail: str) -> None:
    args = build_parser().parse_args(["audit", "--since", "90m", "-o", "json"])
    out = io.StringIO()
    with command_line_settings({"state_url": state_url_for(trail)}):
        assert run_audit(args, clock=ManualClock(START + timedelta(hours=4)), out=out) == 0
    assert [r["reason"] for r in rows(out.getvalue())] == ["reason 4", "reason 3"]


def test_follow_prints_the_latest_oldest_first_then_each_new_row(
    trail: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("afterhours.audit_command.FOLLOW_SECONDS", 0.01)
    args = build_parser().parse_args(["audit", "--follow", "--limit", "2", "--ticket", "1",
                                      "-o", "json"])
    out, stop = io.StringIO(), threading.Event()
    listed, seen = threading.Event(), threading.Event()

    class Watching(io.StringIO):
        def write(self, text: str) -> int:
            if "reason 4" in text:  # the latest rows are printed: now it follows
                listed.set()
            if "late row" in text:
                seen.set()
                stop.set()
            return out.write(text)

    def follow() -> None:
        with command_line_settings({"state_url": state_url_for(trail)}):
            run_audit(args, out=Watching(), stop=stop)

    follower = threading.Thread(target=follow)
    follower.start()
    assert listed.wait(10)
    state = StateStore(trail)
    try:
        state.record(at=START + timedelta(hours=9), ticket_id=2, outcome="done", reason="other")
        state.record(at=START + timedelta(hours=9), ticket_id=1, outcome="done",
                     reason="late row")
    finally:
        state.close()
    assert seen.wait(10)
    follower.join(10)
    assert [r["reason"] for r in rows(out.getvalue())] == ["reason 2", "reason 4", "late row"]


def test_the_db_option_still_reads_a_sqlite_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    state = StateStore(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    state.record(at=START, ticket_id=7, outcome="done", reason="kept")
    state.close()
    capsys.readouterr()  # the migration's log line (logging is not set up before main)
    assert main(["audit", "--db", str(tmp_path / "state.sqlite3"), "-o", "json"]) == 0
    captured = capsys.readouterr()
    assert [r["ticket_id"] for r in rows(captured.out)] == [7]
    assert "--db is deprecated" in captured.err
