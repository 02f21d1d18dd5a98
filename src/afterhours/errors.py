"""The one error tree of afterhours.

    AfterhoursError
    ├── ConfigError          settings or policy unusable: fix the input, do not retry
    │   └── PolicyError      carries located messages (file:line:column)
    └── ServiceError         a call to Zendesk, Jira or a chat webhook failed
        ├── TransientError   may succeed later: retried by the policy in retrying.py
        └── PermanentError   fails the same way again (400, 403, 404, 422): recorded
            └── ConflictError  409 on safe_update: the ticket changed; re-read, re-plan
"""

from __future__ import annotations

from collections.abc import Sequence


class AfterhoursError(Exception):
    """Base of every error afterhours raises on purpose."""


class ConfigError(AfterhoursError):
    """Settings or policy that cannot be used."""


class PolicyError(ConfigError):
    """A policy file that does not validate; `problems` are `file:line:column: message` lines."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class ServiceError(AfterhoursError):
    """A call to an outside service failed."""

    def __init__(self, service: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.status = status


class TransientError(ServiceError):
    """A failure worth retrying: connection trouble, timeouts, 429, 502, 503, 504."""

    def __init__(
        self,
        service: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(service, message, status=status)
        self.retry_after = retry_after


class PermanentError(ServiceError):
    """A failure that will repeat: the request itself is wrong or not allowed."""


class ConflictError(PermanentError):
    """The ticket changed since we read it (409 on safe_update)."""
