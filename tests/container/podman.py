"""Podman as this project's machines run it (../shared/container/README.md), for the image test."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
BASE_IMAGE = "localhost/python-base:bookworm"  # what ../shared/container/setup builds
SETUP_TIMEOUT = 900.0  # seconds: apt-get and debootstrap the first time on a machine
BUILD_TIMEOUT = 900.0  # seconds: pip installs the dependencies the first time


def setup_script() -> Path | None:
    """../shared/container/setup beside this checkout (CI's clone or a worktree's main)."""
    for folder in (ROOT.parent, ROOT.parent.parent):
        script = folder / "shared" / "container" / "setup"
        if script.is_file():
            return script
    return None


def unavailable(reason: str) -> None:
    """Skip with `reason`; under CI, fail instead unless `.ci/run` already said why it skips.

    `.ci/run` runs the setup script first: where podman cannot be set up it exports
    CONTAINER_TEST_SKIP_REASON, so CI only fails here when the two disagree.
    """
    if os.environ.get("CI") == "true" and not os.environ.get("CONTAINER_TEST_SKIP_REASON"):
        pytest.fail(f"container test: {reason}")
    pytest.skip(f"container test: {reason}")


@dataclass(frozen=True)
class Podman:
    """The podman command prefix that the setup script printed."""

    prefix: tuple[str, ...]

    @classmethod
    def set_up(cls) -> Podman:
        """Install podman and build the base image if needed (skips where that cannot be done)."""
        if reason := os.environ.get("CONTAINER_TEST_SKIP_REASON"):
            unavailable(reason)
        script = setup_script()
        if script is None:
            unavailable(f"no shared/container/setup beside {ROOT} (see the README's Operating"
                        " afterhours section)")
            raise AssertionError  # unreachable: unavailable() skips or fails
        # Through bash: CI's copy of shared/ may have lost its execute bits.
        done = subprocess.run(  # noqa: S603  (the project's own setup script)
            ["bash", str(script)], capture_output=True, text=True, timeout=SETUP_TIMEOUT,  # noqa: S607
            check=False)
        if done.returncode != 0 or not done.stdout.strip():
            unavailable(f"{script} could not set podman up (exit {done.returncode}):"
                        f" {done.stderr.strip()[-600:]}")
        return cls(tuple(done.stdout.split()))

    def run(self, *args: str, timeout: float = 120.0,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `podman ARGS`; with `check`, fail the test with podman's own words."""
        done = subprocess.run(  # noqa: S603  (podman, from the setup script)
            [*self.prefix, *args], capture_output=True, text=True, timeout=timeout, check=False)
        if check and done.returncode != 0:
            pytest.fail(f"podman {' '.join(args[:3])}... exited {done.returncode}:\n"
                        f"{done.stderr[-3000:]}\n{done.stdout[-2000:]}")
        return done

    def build(self, extras: str = "") -> str:
        """Build this checkout's Dockerfile on the local base image (with the Dockerfile's
        EXTRAS); return the image's tag.

        `--format docker` keeps the HEALTHCHECK (the OCI format has no such field). The tag
        names the checkout, so two checkouts on one machine never test each other's image.
        """
        tag = "localhost/afterhours:test-" + hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]
        tag += f"-{extras}" if extras else ""
        started = time.monotonic()
        self.run("build", "--format", "docker", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}",
                 "--build-arg", f"EXTRAS={extras}", "--tag", tag, str(ROOT),
                 timeout=BUILD_TIMEOUT)
        print(f"podman: built {tag} in {time.monotonic() - started:.0f}s")
        return tag

    def inspect(self, kind: str, name: str) -> dict[str, Any]:
        """`podman KIND inspect NAME` as JSON (kind: image or container)."""
        answer: list[dict[str, Any]] = json.loads(self.run(kind, "inspect", name).stdout)
        return answer[0]

    def logs(self, container: str) -> str:
        """Everything the container wrote so far."""
        done = self.run("logs", container, check=False)
        return done.stdout + done.stderr
