"""Start Stoplight Prism mocks of both specs on free loopback ports (as run_mocks.sh does)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

PRISM_VERSION = "5.14.2"  # the version run_mocks.sh installs
STARTUP_TIMEOUT = 300.0  # seconds; Prism parses megabytes of spec before it listens
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def prism_binary() -> Path | None:
    """The prism that `run_mocks.sh install` put in $PRISM_DIR (default: its cache folder)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = Path(os.environ.get("PRISM_DIR") or cache / "afterhours-prism")
    binary = folder / "node_modules" / ".bin" / "prism"
    return binary if binary.exists() and shutil.which("node") else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Mock:
    """One running Prism mock and its log."""

    name: str
    url: str
    log: Path

    def lines(self) -> list[str]:
        """The log so far, without colours."""
        return [ANSI.sub("", line) for line in self.log.read_text(errors="replace").splitlines()]

    def request_errors(self) -> list[str]:
        """What Prism's validator rejected in the requests it received (responses ignored)."""
        return [line for line in self.lines()
                if ("VALIDATOR" in line and "error" in line and "Violation: response" not in line)
                or "NO_PATH_MATCHED" in line]

    def received(self) -> list[str]:
        """The "Request received" lines."""
        return [line for line in self.lines() if "Request received" in line]


def derive(specs_dir: Path, out: Path) -> None:
    """Make the Prism-friendly copies (every change listed in the copy's info.x-derived)."""
    script = specs_dir / "derive_specs.py"  # the specs' own script, beside the spec files
    subprocess.run([sys.executable, str(script), str(out)],  # noqa: S603
                   check=True, capture_output=True)


@contextmanager
def running_mocks(prism: Path, derived: Path) -> Iterator[dict[str, Mock]]:
    """Serve zendesk-support.prism.json and jira-platform.prism.json until the block ends."""
    specs = {"zendesk": "zendesk-support.prism.json", "jira": "jira-platform.prism.json"}
    with ExitStack() as stack:
        mocks: dict[str, Mock] = {}
        for name, file in specs.items():
            port = _free_port()
            log = derived / f"prism-{name}.log"
            out = stack.enter_context(log.open("w"))
            process = stack.enter_context(subprocess.Popen(  # noqa: S603  (our own binary)
                [str(prism), "mock", "-h", "127.0.0.1", "-p", str(port), str(derived / file)],
                stdout=out, stderr=subprocess.STDOUT))
            stack.callback(process.terminate)
            mocks[name] = Mock(name, f"http://127.0.0.1:{port}", log)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not all(any("Prism is listening" in x for x in m.lines()) for m in mocks.values()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"prism did not start within {STARTUP_TIMEOUT:.0f}s")
            time.sleep(0.2)
        yield mocks
