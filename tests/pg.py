"""A real PostgreSQL for the `postgres` tests (fixtures in tests/conftest.py).

Where the server comes from, in order:
1. AFTERHOURS_TEST_POSTGRES_URL, e.g. postgresql://afterhours:pw@127.0.0.1:5432/afterhours_test
   (`.ci/run` exports it after starting Debian's cluster): its role needs CREATEDB. Read when
   this module is imported, because the autouse fixture clears AFTERHOURS_* during each test.
2. Else a throwaway cluster on a free port in a temporary folder (initdb and pg_ctl from
   /usr/lib/postgresql/*/bin or PATH; as root it runs as the `postgres` user via runuser).
3. Else the tests skip, saying why; but where CI is set they fail: CI must not skip them.
Each test gets a database of its own, dropped after it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg

GIVEN_URL = os.environ.get("AFTERHOURS_TEST_POSTGRES_URL", "")
IN_CI = bool(os.environ.get("CI"))
_ROLE = "afterhours"
_PREFIX = "afterhours-pg-"


class PostgresUnavailableError(Exception):
    """No PostgreSQL could be found or started; the message says why."""


@contextlib.contextmanager
def server() -> Iterator[str]:
    """The URL of a server whose role may create databases, running until the block ends."""
    if GIVEN_URL:
        _check(GIVEN_URL, "AFTERHOURS_TEST_POSTGRES_URL")
        yield GIVEN_URL
        return
    cluster = _ThrowawayCluster.start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


@contextlib.contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new empty database on the server, dropped afterwards: its URL."""
    name = f"afterhours_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(server)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            # FORCE: a connection a failed test left open must not keep the database alive.
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _check(url: str, source: str) -> None:
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        raise PostgresUnavailableError(f"{source}: cannot connect: {error}") from error


@dataclass
class _ThrowawayCluster:
    folder: Path
    bin: Path
    user: str | None  # None: this process's own user
    url: str

    @classmethod
    def start(cls) -> _ThrowawayCluster:
        bin_dir = _postgres_bin()
        user = _server_user()
        _reap_orphans(bin_dir, user)
        folder = Path(tempfile.mkdtemp(prefix=_PREFIX))
        (folder / "owner").write_text(str(os.getpid()))
        password = secrets.token_hex(16)
        (folder / "password").write_text(password + "\n")
        if user is not None:
            entry = pwd.getpwnam(user)
            for path in (folder, folder / "password"):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        port = _free_port()
        cluster = cls(folder, bin_dir, user,
                      f"postgresql://{_ROLE}:{quote(password)}@127.0.0.1:{port}/postgres")
        try:
            cluster._run("initdb", "--pgdata", str(folder / "data"), "--username", _ROLE,
                         "--pwfile", str(folder / "password"), "--auth", "scram-sha-256",
                         "--encoding", "UTF8", "--no-locale", "--no-sync")
            # fsync off: a throwaway cluster need not survive a power cut.
            options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {folder}"
                       " -c fsync=off -c full_page_writes=off")
            cluster._run("pg_ctl", "start", "--pgdata", str(folder / "data"), "--wait",
                         "--timeout", "60", "--log", str(folder / "server.log"),
                         "--options", options)
        except PostgresUnavailableError:
            cluster.stop()
            raise
        return cluster

    def stop(self) -> None:
        with contextlib.suppress(PostgresUnavailableError):
            if (self.folder / "data" / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "--pgdata", str(self.folder / "data"),
                          "--mode", "immediate", "--wait")
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, cwd=self.folder, capture_output=True, text=True,  # noqa: S603
                              timeout=120, check=False)
        if done.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise PostgresUnavailableError(
                f"{program} failed ({done.returncode}): {done.stderr.strip()[-2000:]}\n{tail}")


def _reap_orphans(bin_dir: Path, user: str | None) -> None:
    """Stop the clusters of test runs that were killed before they could stop their own."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        try:
            os.kill(int((folder / "owner").read_text()), 0)
        except ProcessLookupError:
            _ThrowawayCluster(folder, bin_dir, user, "").stop()
        except (OSError, ValueError):
            continue  # another user's, or still being made


def _postgres_bin() -> Path:
    """Debian keeps initdb and pg_ctl off PATH, in /usr/lib/postgresql/<version>/bin."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise PostgresUnavailableError(
            "no PostgreSQL: set AFTERHOURS_TEST_POSTGRES_URL or install PostgreSQL"
            " (e.g. `apt-get install postgresql`; `.ci/run` does)")
    return Path(initdb).parent


def _server_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailableError(
            "running as root, and there is no `postgres` user to run a throwaway cluster as"
        ) from None
    if shutil.which("runuser") is None:
        raise PostgresUnavailableError("running as root, and there is no runuser")
    return "postgres"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
