"""One grammar for every command: help that says what a command reads, typos answered with the
command's own usage and a suggestion, global options anywhere, old spellings still working."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from afterhours.adapters.state import SqliteState
from afterhours.cli import build_parser, main

POLICY = Path(__file__).parents[2] / "config" / "policy.yaml"


def commands() -> dict[str, argparse.ArgumentParser]:
    """Every sub-command and its parser."""
    parser = build_parser()
    found = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(found.choices)


COMMANDS = sorted(commands())


def test_afterhours_alone_prints_help_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: afterhours")
    assert all(f"    {name} " in out for name in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_lists_settings_signals_and_exit_codes(
    command: str, capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: afterhours {command}")
    assert "settings read" in out
    assert "\nsignals:\n" in out
    assert "\nexit codes:\n  0  " in out


def test_run_help_names_every_setting_and_the_signals(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    for expected in ("AFTERHOURS_ZENDESK_TOKEN_FILE", "AFTERHOURS_WEBHOOKS",
                     "AFTERHOURS_HTTP_LISTEN", "SIGTERM, SIGINT: finish the action in hand",
                     "SIGHUP: reload the policy",
                     "--policy FILE", "--state URL|PATH", "--log-format FORMAT"):
        assert expected in out


@pytest.mark.parametrize("command", COMMANDS)
def test_a_mistyped_option_gets_the_commands_usage(
    command: str, capsys: pytest.CaptureFixture[str],
) -> None:
    positional = {"explain": ["7"], "completion": ["bash"], "unlink": ["7", "ENG-1"]}.get(
        command, [])
    with pytest.raises(SystemExit) as done:
        main([command, *positional, "--no-such-option"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: afterhours {command}")
    assert "unrecognized arguments: --no-such-option" in err


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["run", "--onec"], "did you mean '--once'?"),
        (["rnu"], "did you mean 'run'?"),
        (["audit", "--outcom", "done"], "did you mean '--outcome'?"),
        (["explain", "7", "--output", "jsn"], "did you mean 'json'?"),
        (["completion", "bsh"], "did you mean 'bash'?"),
        (["check", "--log-format", "jsno"], "did you mean 'json'?"),
    ],
)
def test_a_typo_gets_a_did_you_mean(
    argv: list[str], suggestion: str, capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    assert suggestion in capsys.readouterr().err


def test_global_options_go_before_or_after_the_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--policy", str(POLICY), "check"]) == 0
    assert main(["check", "--policy", str(POLICY)]) == 0
    out = capsys.readouterr().out
    assert out.count(f"{POLICY}: ok") == 2


def test_the_environment_gives_what_the_option_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AFTERHOURS_POLICY_FILE", str(tmp_path / "missing.yaml"))
    assert main(["check"]) == 2
    assert main(["check", "--policy", str(POLICY)]) == 0  # the option wins
    assert "missing.yaml" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "note"),
    [
        (["check", str(POLICY)], "`check FILE` is deprecated; use `afterhours check --policy"),
        (["failed", "--db", "STATE"], "--db is deprecated; use --state PATH"),
        (["failed", "--json", "--db", "STATE"], "--json is deprecated; use --output json"),
    ],
)
def test_old_spellings_still_work_with_a_note(
    argv: list[str], note: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    state = tmp_path / "state.sqlite3"
    assert main(["failed", "--state", str(state)]) == 2  # never created by a reader
    SqliteState(state).close()
    assert main([str(state) if a == "STATE" else a for a in argv]) == 0
    assert note in capsys.readouterr().err


def test_output_json_on_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["check", "--policy", str(POLICY), "--output", "json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert (found["ok"], found["routes"], found["channels"]) == (True, 3, 4)
    broken = tmp_path / "policy.yaml"
    broken.write_text("version: 2\n", encoding="utf-8")
    assert main(["check", "--policy", str(broken), "-o", "json"]) == 2
    found = json.loads(capsys.readouterr().out)
    assert found["ok"] is False
    assert any(":1:10:" in problem for problem in found["problems"])


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_is_generated_from_the_parser(
    shell: str, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert all(name in script for name in COMMANDS)
    assert "--dry-run" in script
    assert "--outcome" in script


def test_the_bash_completion_script_is_valid_bash(tmp_path: Path) -> None:
    script = tmp_path / "afterhours.bash"
    script.write_text(subprocess.run(
        [sys.executable, "-m", "afterhours", "completion", "bash"], capture_output=True,
        text=True, check=True).stdout, encoding="utf-8")
    bash = shutil.which("bash")
    assert bash is not None
    checked = subprocess.run([bash, "-n", str(script)], capture_output=True, text=True,  # noqa: S603
                             check=False)
    assert checked.returncode == 0, checked.stderr


def test_an_interrupt_is_exit_130_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    def interrupted(_: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("afterhours.cli._schema", interrupted)
    assert main(["schema"]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err
    assert "Traceback" not in err
