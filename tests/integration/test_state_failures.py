"""A state store that cannot be used stops `afterhours run` with one line and exit 2: a SQLite
file, or a PostgreSQL database (its password never shown).

Each case runs the real command in a child process. The read-only and full volumes are real
mounts (a read-only bind mount, a tiny tmpfs) made inside a private mount namespace
(`unshare -m`), so they vanish with the child and need no clean-up.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from afterhours.adapters.sql_text import redact_url
from afterhours.adapters.state import SqliteState

REPO = Path(__file__).parents[2]
POLICY = REPO / "config" / "policy.yaml"
CHANNELS = ("finance", "engineering", "oncall-lead", "support-lead")


def env_for(state: Path) -> dict[str, str]:
    """Settings for a daemon whose services are never reached: it must stop before them."""
    nowhere = "http://127.0.0.1:9"
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("AFTERHOURS_")},
        "AFTERHOURS_ZENDESK_URL": nowhere, "AFTERHOURS_ZENDESK_EMAIL": "bot@example.com",
        "AFTERHOURS_ZENDESK_TOKEN": "zd-token", "AFTERHOURS_JIRA_URL": nowhere,
        "AFTERHOURS_JIRA_EMAIL": "bot@example.com", "AFTERHOURS_JIRA_TOKEN": "jira-token",
        "AFTERHOURS_WEBHOOKS": json.dumps({c: f"{nowhere}/{c}" for c in CHANNELS}),
        "AFTERHOURS_POLICY_FILE": str(POLICY), "AFTERHOURS_STATE_DB": str(state),
        "AFTERHOURS_LOG_FORMAT": "json",
    }


def run_once(
    state: Path, *, mount: str = "", url: str = "",
) -> subprocess.CompletedProcess[str]:
    """`afterhours run --once` on `state` (or on AFTERHOURS_STATE_URL `url`), after the shell
    commands `mount` when given."""
    command = [sys.executable, "-m", "afterhours", "run", "--once"]
    if mount:
        script = f"set -e; {mount}; exec {' '.join(command)}"
        command = ["unshare", "-m", "sh", "-c", script]
    env = env_for(state) | ({"AFTERHOURS_STATE_URL": url} if url else {})
    return subprocess.run(command, env=env,  # noqa: S603  (our own command)
                          capture_output=True, text=True, timeout=60, check=False)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The child's error: exactly one line on stderr, no traceback."""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def can_mount() -> bool:
    """Whether this machine lets a test make private mounts (root, or user namespaces)."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "mount", "-t", "tmpfs", "tmpfs", "/mnt"],  # noqa: S607
                           capture_output=True, check=False)  # (found on PATH just above)
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(
    not can_mount() and not os.environ.get("CI"),
    reason="needs `unshare -m` and mount (root) to make a read-only or full volume")


def test_a_corrupt_state_file_is_named_with_what_to_do(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    state.write_bytes(b"this is not a database, it is a shopping list\n" * 200)
    result = run_once(state)
    assert result.returncode == 2
    line = one_line_error(result)
    assert f"AFTERHOURS_STATE_DB={state}" in line
    assert "not a SQLite database, or it is corrupt: restore it from a backup" in line


def test_a_missing_directory_is_named_and_never_created(tmp_path: Path) -> None:
    state = tmp_path / "mistyped" / "state.sqlite3"
    result = run_once(state)
    assert result.returncode == 2
    line = one_line_error(result)
    assert f"AFTERHOURS_STATE_DB={state}" in line
    assert "does not exist: create it" in line
    assert not state.parent.exists()


def test_a_second_daemon_on_the_same_file_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    first = SqliteState(state, exclusive=True)
    try:
        result = run_once(state)
    finally:
        first.close()
    assert result.returncode == 2
    line = one_line_error(result)
    assert f"AFTERHOURS_STATE_DB={state}: another afterhours daemon is using" in line
    assert f"(pid {os.getpid()} on " in line
    assert "one daemon per SQLite file" in line


def test_the_lock_is_released_with_the_daemon(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    SqliteState(state, exclusive=True).close()
    SqliteState(state, exclusive=True).close()  # no leftover lock: a restart goes ahead


@needs_mounts
def test_a_read_only_volume_is_named_with_what_to_do(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    state = volume / "state.sqlite3"
    SqliteState(state).close()
    result = run_once(
        state, mount=f"mount --bind {volume} {volume}; mount -o remount,bind,ro {volume}")
    assert result.returncode == 2
    line = one_line_error(result)
    assert f"AFTERHOURS_STATE_DB={state}: it is read-only" in line


@needs_mounts
def test_a_full_disk_is_named_with_what_to_do(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    state = volume / "state.sqlite3"
    # A state file written elsewhere, copied onto a tiny volume that is then filled up.
    SqliteState(tmp_path / "made.sqlite3").close()
    fill = (f"mount -t tmpfs -o size=256k tmpfs {volume}; cp {tmp_path / 'made.sqlite3'} {state};"
            f" dd if=/dev/zero of={volume}/filler bs=4k 2>/dev/null || true")
    result = run_once(state, mount=fill)
    assert result.returncode == 2
    line = one_line_error(result)
    assert f"AFTERHOURS_STATE_DB={state}: the disk is full" in line


def _with(url: str, *, password: str | None = None, database: str | None = None,
          port: int | None = None) -> str:
    parts = urlsplit(url)
    user = parts.username or ""
    secret = parts.password if password is None else password
    netloc = f"{user}:{secret}@{parts.hostname}:{port or parts.port}"
    return parts._replace(netloc=netloc, path=f"/{database}" if database else parts.path).geturl()


@pytest.mark.postgres
def test_a_wrong_postgresql_password_is_named_without_showing_it(
    postgres_url: str, tmp_path: Path,
) -> None:
    wrong = _with(postgres_url, password="not-the-password-42")
    result = run_once(tmp_path / "unused.sqlite3", url=wrong)
    assert result.returncode == 2
    line = one_line_error(result)
    assert line.startswith(f"afterhours: AFTERHOURS_STATE_URL={redact_url(wrong)}: authentication"
                           " failed: check the user and password in AFTERHOURS_STATE_URL")
    assert "not-the-password-42" not in result.stderr + result.stdout


@pytest.mark.postgres
def test_a_missing_postgresql_database_is_named_with_what_to_do(
    postgres_url: str, tmp_path: Path,
) -> None:
    missing = _with(postgres_url, database="no_such_afterhours_db")
    line = one_line_error(run_once(tmp_path / "unused.sqlite3", url=missing))
    assert (f"AFTERHOURS_STATE_URL={redact_url(missing)}: the database does not exist:"
            " create it") in line


def test_a_postgresql_server_that_does_not_answer_is_named(tmp_path: Path) -> None:
    nowhere = "postgresql://afterhours:secret-pw@127.0.0.1:9/afterhours"  # discard port: closed
    result = run_once(tmp_path / "unused.sqlite3", url=nowhere)
    assert result.returncode == 2
    line = one_line_error(result)
    assert line.startswith("afterhours: AFTERHOURS_STATE_URL=postgresql://afterhours:***@"
                           "127.0.0.1:9/afterhours: cannot connect: check that the server is"
                           " running")
    assert "secret-pw" not in result.stderr


@pytest.mark.postgres
def test_a_read_only_postgresql_database_is_named_with_what_to_do(
    postgres_url: str, tmp_path: Path,
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        name = urlsplit(postgres_url).path.lstrip("/")
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    result = run_once(tmp_path / "unused.sqlite3", url=postgres_url)
    assert result.returncode == 2
    line = one_line_error(result)
    assert f"AFTERHOURS_STATE_URL={redact_url(postgres_url)}: the database is read-only" in line
    assert "point AFTERHOURS_STATE_URL at the primary" in line
