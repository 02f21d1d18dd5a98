"""Hot reload of the policy file, between passes, on SIGHUP or when its content changes.

A file that fails to load (or names a channel with no webhook) never replaces the policy in
force: the daemon goes on with the last good one and says why in the log and the audit trail.
Every successful reload is audited with the new file's sha256, so the audit trail tells which
version of the policy made each decision.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import structlog

from afterhours.errors import ConfigError, PolicyError
from afterhours.policy import LoadedPolicy, Policy, load_policy
from afterhours.service import Service

log = structlog.get_logger()
PolicyCheck = Callable[[Policy], None]


def _accept(_: Policy) -> None:
    """No check beyond the policy's own validation."""


class PolicyReloader:
    """Keeps `service.policy` in step with the policy file; call `reload_if_changed` between
    passes (it is `Service.run_forever`'s `before_pass`)."""

    def __init__(
        self, service: Service, loaded: LoadedPolicy, *, check: PolicyCheck = _accept
    ) -> None:
        self._service = service
        self._path = Path(loaded.path)
        self._check = check
        self.sha256 = loaded.sha256  # of the policy in force
        # The content last looked at, good or bad: a broken file is reported once, not on
        # every pass until someone fixes it.
        self._seen: str | None = loaded.sha256
        # Two counters rather than one flag: the signal handler only ever increments one and
        # the loop only ever writes the other, so a SIGHUP arriving mid-reload is never lost.
        self._requested = 0
        self._handled = 0

    def request(self) -> None:
        """Ask for a reload before the next pass; safe in a signal handler (it only counts)."""
        self._requested += 1

    def reload_if_changed(self) -> bool:
        """Reload if asked to or if the file's content changed; True if a new policy is in force."""
        requested = self._requested
        asked = requested != self._handled
        self._handled = requested
        # The content decides, not the mtime: an edit within one timestamp tick, or a copy
        # that keeps the old mtime, must not slip through. A policy file is a few KB.
        seen = _content_sha256(self._path)
        if seen == self._seen and not asked:
            return False
        trigger = "sighup" if asked else "file_changed"
        try:
            loaded = load_policy(self._path)
            self._check(loaded.policy)
        except PolicyError as error:
            self._refuse(error.problems, seen, trigger)
            return False
        except ConfigError as error:
            self._refuse([f"{self._path}: {error}"], seen, trigger)
            return False
        previous = self.sha256
        # Audit first: if the state file cannot be written, nothing changes and the next
        # pass tries again.
        self._service.state.record(
            at=self._service.clock(), ticket_id=None, outcome="policy_reloaded",
            reason=f"policy {self._path} reloaded ({trigger}); in force from now on",
            detail={"sha256": loaded.sha256, "previous_sha256": previous, "trigger": trigger},
        )
        self._service.policy = loaded.policy
        self._service.health.policy_in_force(loaded.sha256)
        self._service.metrics.policy_reload("ok")
        self.sha256 = self._seen = loaded.sha256
        log.info("policy.reloaded", path=str(self._path), sha256=loaded.sha256,
                 previous_sha256=previous, trigger=trigger)
        return True

    def _refuse(self, problems: list[str], seen: str | None, trigger: str) -> None:
        self._service.state.record(
            at=self._service.clock(), ticket_id=None, outcome="policy_reload_failed",
            reason=f"policy {self._path} rejected ({trigger}); the previous policy stays in force",
            detail={"sha256": seen, "in_force_sha256": self.sha256, "problems": problems,
                    "trigger": trigger},
        )
        self._seen = seen
        self._service.metrics.policy_reload("failed")
        log.error("policy.reload_failed", path=str(self._path), problems=problems, sha256=seen,
                  in_force_sha256=self.sha256, trigger=trigger)


def _content_sha256(path: Path) -> str | None:
    # Hashed as load_policy hashes it (decoded text, re-encoded), so an unchanged file compares
    # equal to the policy in force; None when it cannot be read, which load_policy reports.
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return hashlib.sha256(text.encode()).hexdigest()
