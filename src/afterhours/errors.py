"""The one error tree of afterhours.

    AfterhoursError
    ├── ConfigError          settings or policy unusable: fix the input, do not retry
    │   └── PolicyError      carries located messages (file:line:column)
    ├── StateError           the state store cannot be opened, read or written: one line
    │   │                    naming the setting, the path and what to do
    │   └── StateLockedError another daemon holds the state file
    ├── ServiceError         a call to Zendesk, Jira or a chat webhook failed
    │   ├── TransientError   may succeed in seconds: retried by the policy in retrying.py
    │   │   ├── CircuitOpenError  the dependency's breaker is open (breaker.py): not tried,
    │   │   │                not retried; deferred to a later pass
    │   │   └── RateBudgetError  the rate budget (budget.py) holds requests longer than a
    │   │                    retry may wait: not sent; deferred to a later pass
    │   ├── OutcomeUnknownError  the request may have taken effect (its answer was lost):
    │   │                    never retried blindly; reconciled on a later pass
    │   ├── AccessError      401/403 (a rotated token, a revoked permission): not retried
    │   │                    now, not settled either; the next pass tries again
    │   └── PermanentError   fails the same way again (400, 404, 422): parked
    │       ├── ConflictError  409 on safe_update: the ticket changed; re-read, re-plan
    │       ├── MalformedTicketError  Zendesk answered a ticket afterhours cannot read
    │       │                (no id, no created_at...): quarantined, re-read each pass
    │       └── JoinRefusedError  a known issue no ticket may join now (Done, moved out
    │                        of the policy's projects): the ticket files its own instead
    ├── LeaseLostError       another replica took the lease over: this one's fenced write
    │                        is refused; it stops acting and waits as a standby
    └── DeliveryRefusedError a pushed webhook delivery refused (afterhours.push): its HTTP
                             status and why, never its content; nothing was queued
"""

from __future__ import annotations

from collections.abc import Sequence

from afterhours.redact import redact


class AfterhoursError(Exception):
    """Base of every error afterhours raises on purpose. Its message never holds a secret:
    each registered one (see afterhours.redact) is replaced, whoever built the message."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


class ConfigError(AfterhoursError):
    """Settings or policy that cannot be used."""


class PolicyError(ConfigError):
    """A policy file that does not validate; `problems` are `file:line:column: message` lines."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class StateError(AfterhoursError):
    """The state store failed: unopenable, read-only, corrupt, full, or held by another daemon.

    Its message is one line naming the setting, the path and what to do about it.
    """


class StateLockedError(StateError):
    """Another daemon holds the state file: one daemon per SQLite file."""


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


class CircuitOpenError(TransientError):
    """The dependency failed repeatedly without answering: the call was not even tried."""


class RateBudgetError(TransientError):
    """The rate budget would hold the request longer than a retry may wait: it was not sent."""


class OutcomeUnknownError(ServiceError):
    """A write whose answer was lost: it may have landed, so look before writing again."""


class NotesUnknownError(OutcomeUnknownError):
    """A ticket update whose first part (its fields and public reply) landed and whose
    internal notes, sent after it, may not have: only the notes are looked for again."""


class AccessError(ServiceError):
    """Credentials or permissions refused: an operator must act, and nothing is given up."""


class PermanentError(ServiceError):
    """A failure that will repeat: the request itself is wrong or not allowed."""


class ConflictError(PermanentError):
    """The ticket changed since we read it (409 on safe_update)."""


class LeaseLostError(AfterhoursError):
    """Another replica holds the lease now: a write fenced by the old token is refused."""


class MalformedTicketError(PermanentError):
    """Zendesk answered a ticket without a field a decision needs, or with one unreadable."""


class JoinRefusedError(PermanentError):
    """A known issue Jira shows as no place for another ticket: Done, or moved to a project
    the policy does not join issues in."""


class DeliveryRefusedError(AfterhoursError):
    """A pushed delivery refused: `status` is the HTTP answer (401, 400, 413), `result` the
    afterhours_webhook_deliveries_total label; the message names what is wrong, in words of
    ours only (the delivery is untrusted: none of it is echoed)."""

    def __init__(self, status: int, result: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.result = result


TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
ACCESS_STATUSES = frozenset({401, 403})


def error_for_status(
    service: str,
    status: int | None,
    message: str,
    *,
    retry_after: float | None = None,
    access: frozenset[int] = ACCESS_STATUSES,
) -> ServiceError:
    """The error an HTTP failure means; `status` None is a failure without an answer."""
    message = message[:500]  # an HTML error page is no log line
    if status == 409:
        return ConflictError(service, "the ticket changed since it was read", status=409)
    if status is None or status in TRANSIENT_STATUSES:
        return TransientError(service, message, status=status, retry_after=retry_after)
    if status in access:
        return AccessError(service, message, status=status)
    return PermanentError(service, message, status=status)
