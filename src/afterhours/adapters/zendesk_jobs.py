"""The parts of Zendesk's update_many jobs that need no HTTP: each ticket's body, the puts
cut into jobs, what a job's result says of each ticket, and how long a job is followed.

Apart from zendesk_batch, which sends and follows the jobs on the desk's session, so that
these rules read (and are tested) on their own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from afterhours.adapters.zendesk_update import TicketUpdate
from afterhours.errors import ConflictError, OutcomeUnknownError, PermanentError, ServiceError

MAX_TICKETS = 100  # Zendesk's limit for both show_many and update_many
_SERVICE = "zendesk"


@dataclass(frozen=True)
class JobPolling:
    """How an update_many job is followed: polled at once, then after waits growing from
    `first_wait` by `growth` up to `max_wait` seconds, for at most `total` seconds of waiting
    in all; a job still unfinished then has unknown outcomes."""

    first_wait: float = 0.5
    growth: float = 2.0
    max_wait: float = 8.0
    total: float = 60.0

    def waits(self) -> Iterator[float]:
        """The wait before each poll after the first, while the total allows it."""
        wait, spent = self.first_wait, 0.0
        while spent + wait <= self.total:
            yield wait
            spent += wait
            wait = min(wait * self.growth, self.max_wait)


@dataclass(frozen=True)
class TicketPut:
    """One ticket's update in a job, and the write it belongs to (its place in the call)."""

    index: int
    ticket_id: int
    body: dict[str, Any]


def ticket_body(ticket_id: int, update: TicketUpdate, stamp: datetime | None) -> dict[str, Any]:
    """The ticket as update_many takes it; with `stamp`, a safe update against it."""
    body: dict[str, Any] = {"id": ticket_id, **update.fields}
    if update.comment is not None:
        body["comment"] = {"body": update.comment.body, "public": update.comment.public}
    if stamp is not None:
        body["safe_update"] = True
        body["updated_stamp"] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    return body


def jobs_of(puts: Sequence[TicketPut]) -> Iterator[list[TicketPut]]:
    """The puts in jobs of at most MAX_TICKETS, in order, no ticket twice in one job (Zendesk
    would apply both at once; the later one is refused by its stamp, as one by one)."""
    job: list[TicketPut] = []
    for put in puts:
        if len(job) == MAX_TICKETS or any(p.ticket_id == put.ticket_id for p in job):
            yield job
            job = []
        job.append(put)
    if job:
        yield job


def result_error(result: object, ticket_id: int, job_id: str) -> ServiceError | None:
    """What one job result means for its ticket: None when applied."""
    if not isinstance(result, Mapping):
        return OutcomeUnknownError(
            _SERVICE, f"update_many job {job_id} reports no result for ticket {ticket_id}")
    if result.get("success") is True:
        return None
    error, details = str(result.get("error") or ""), str(result.get("details") or "")
    if not error and result.get("success") is not False:
        return OutcomeUnknownError(
            _SERVICE, f"update_many job {job_id} reports an unreadable result for ticket"
            f" {ticket_id}")
    said = f"{error}: {details}" if details else error
    if error == "UpdateConflict" or "updated_stamp" in said or "safe update" in said.casefold():
        return ConflictError(_SERVICE, f"the ticket changed since it was read ({said[:300]})",
                             status=409)
    return PermanentError(_SERVICE, f"ticket {ticket_id} refused: {said[:400]}")
