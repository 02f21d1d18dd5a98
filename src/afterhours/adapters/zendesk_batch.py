"""Zendesk's bulk ticket endpoints behind `TicketDesk.fetch_tickets` and `update_tickets`.

Show Multiple Tickets reads 100 tickets a call, side-loads included. Update Many Tickets
takes 100 tickets a job, each with its own changes, `safe_update` and `updated_stamp`, and
answers a queued job whose status (`job_statuses/{id}`) is polled until it has one result
per ticket; the jobs of a call are queued up to ten at a time and followed together
(`job_statuses/show_many`). A job is sent once: its answer lost, its tickets' outcomes are
unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import requests
import structlog

from afterhours.adapters.ports import MalformedTicket, TicketWrite, WriteResult
from afterhours.adapters.zendesk_http import json_object
from afterhours.adapters.zendesk_jobs import (
    MAX_TICKETS,
    JobPolling,
    TicketPut,
    jobs_of,
    result_error,
    ticket_body,
)
from afterhours.adapters.zendesk_update import build_updates
from afterhours.domain.model import Ticket
from afterhours.errors import (
    MalformedTicketError,
    NotesUnknownError,
    OutcomeUnknownError,
    ServiceError,
    TransientError,
)
from afterhours.retrying import RetryPolicy

T = TypeVar("T")
log = structlog.get_logger()
SHOW_MANY = "/api/v2/tickets/show_many.json"
UPDATE_MANY = "/api/v2/tickets/update_many.json"
JOB_STATUS = "/api/v2/job_statuses/{id}.json"
JOB_STATUSES = "/api/v2/job_statuses/show_many.json"
# Jobs queued before they are followed together: Zendesk lets an account have 30 queued or
# running at once, and the agents' tools need some of them.
JOBS_AT_ONCE = 10
FINISHED = frozenset({"completed", "failed", "killed"})
_JOB_ID = re.compile(r"[A-Za-z0-9]{1,64}")
_SERVICE = "zendesk"


class Call(Protocol):
    """The desk's `_call`: retry policy, breaker and error classification around `fn`."""

    def __call__(self, operation: str, fn: Callable[[], T], *, once: bool = False) -> T: ...


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[start:start + size] for start in range(0, len(items), size)]


@dataclass(frozen=True)
class ZendeskBatch:
    """The bulk calls of one ZenpyTicketDesk: on its session, under its `call`, read by its
    `read` (the export's parsing), names resolved by its lookups."""

    session: requests.Session
    origin: str
    include: str  # the side-loads, as fetch_ticket asks for them
    call: Call
    read: Callable[[Mapping[str, Any]], tuple[list[Ticket], list[MalformedTicket]]]
    fetch_one: Callable[[int], Ticket | None]
    group_id: Callable[[str], int]
    agent_id: Callable[[str], int]
    retry: RetryPolicy  # its sleep (stop-aware in the daemon) and cancel pace the job polls
    polling: JobPolling

    def fetch_tickets(self, ticket_ids: Sequence[int]) -> dict[int, Ticket | None]:
        """Tickets as they are now, 100 a call: None for one Zendesk leaves out (deleted), and
        one that cannot be read left out (logged as `zendesk.ticket_malformed`)."""
        found: dict[int, Ticket | None] = {}
        for chunk in _chunks(list(dict.fromkeys(ticket_ids)), MAX_TICKETS):
            found.update(self._show_many(chunk))
        return found

    def _show_many(self, ids: Sequence[int]) -> dict[int, Ticket | None]:
        def fetch() -> dict[str, Any]:
            response = self.session.get(f"{self.origin}{SHOW_MANY}", params={
                "ids": ",".join(str(i) for i in ids), "include": self.include})
            response.raise_for_status()
            answer = json_object(response)
            if not isinstance(answer.get("tickets"), list):
                raise TransientError(_SERVICE, "Zendesk answered show_many without its tickets",
                                     status=response.status_code)
            return answer

        tickets, malformed = self.read(self.call("fetch_tickets", fetch))
        found: dict[int, Ticket | None] = {t.id: t for t in tickets if t.id in ids}
        unreadable = {bad.ticket_id for bad in malformed}
        missing = [i for i in ids if i not in found and i not in unreadable]
        if None in unreadable:
            # A ticket without a usable id may be any of those missing: each is asked alone
            # rather than taken for deleted.
            for ticket_id in missing:
                try:
                    found[ticket_id] = self.fetch_one(ticket_id)
                except MalformedTicketError:
                    continue
            return found
        return found | dict.fromkeys(missing)

    def update_tickets(self, writes: Sequence[TicketWrite]) -> list[WriteResult]:
        """Each write with safe_update, in update_many jobs of 100; one result per write, in
        order. A write with a public reply and notes takes a second job for its notes, once
        its first update is applied."""
        results = [WriteResult(write.ticket.id) for write in writes]
        firsts: list[TicketPut] = []
        seconds: list[TicketPut] = []
        for index, write in enumerate(writes):
            try:
                updates = build_updates(write.changes, group_id=self.group_id,
                                        agent_id=self.agent_id)
            except ServiceError as error:  # a name that does not resolve: this write alone
                results[index] = WriteResult(write.ticket.id, error=error)
                continue
            firsts.append(TicketPut(index, write.ticket.id, ticket_body(
                write.ticket.id, updates[0], write.ticket.updated_at)))
            # The notes after a reply change nothing safe_update protects, and the stamp the
            # reply left is not told by update_many: sent without it.
            seconds += [TicketPut(index, write.ticket.id,
                                  ticket_body(write.ticket.id, update, None))
                        for update in updates[1:]]
        for index, outcome in self._run(firsts).items():
            results[index] = WriteResult(results[index].ticket_id, error=outcome)
        applied = [put for put in seconds if results[put.index].error is None]
        for index, outcome in self._run(applied).items():
            if outcome is not None:
                ticket_id = results[index].ticket_id
                # The reply is on the ticket, the notes may not be: the next pass must look
                # (reconcile) before sending anything again, never repeat the reply.
                log.warning("zendesk.update_partly_applied", ticket_id=ticket_id,
                            error=str(outcome))
                results[index] = WriteResult(ticket_id, error=NotesUnknownError(
                    _SERVICE, f"the public reply was added; the notes after it failed: {outcome}",
                    status=outcome.status))
        return results

    def _run(self, puts: Sequence[TicketPut]) -> dict[int, ServiceError | None]:
        """Each put's outcome (None: applied), by its write's index: the jobs sent a wave at
        a time, each wave's jobs followed together."""
        outcomes: dict[int, ServiceError | None] = {}
        for wave in _chunks(list(jobs_of(puts)), JOBS_AT_ONCE):
            queued: dict[str, list[TicketPut]] = {}
            for job in wave:
                try:
                    queued[self._send(job)] = job
                except ServiceError as error:
                    self._unsettled(job, error, outcomes)
            for job_id, status in self._follow(list(queued)).items():
                job = queued[job_id]
                if isinstance(status, ServiceError):
                    self._unsettled(job, status, outcomes)
                    continue
                by_id: dict[object, object] = {}
                for result in status.get("results") or ():
                    if isinstance(result, Mapping):
                        by_id.setdefault(result.get("id"), result)
                outcomes.update({put.index: result_error(by_id.get(put.ticket_id),
                                                         put.ticket_id, job_id) for put in job})
        return outcomes

    @staticmethod
    def _unsettled(job: Sequence[TicketPut], error: ServiceError,
                   outcomes: dict[int, ServiceError | None]) -> None:
        if isinstance(error, OutcomeUnknownError):
            log.warning("zendesk.job_unsettled", tickets=len(job), error=str(error))
        outcomes.update({put.index: error for put in job})

    def _send(self, puts: list[TicketPut]) -> str:
        """Queue one job; return its id (OutcomeUnknownError when the answer names none)."""
        def send() -> Any:
            response = self.session.put(f"{self.origin}{UPDATE_MANY}",
                                        json={"tickets": [put.body for put in puts]})
            response.raise_for_status()
            return response.json()

        # Once: notes are not idempotent, and a job that landed would be applied twice.
        queued = self.call("update_tickets", send, once=True)
        job = queued.get("job_status") if isinstance(queued, Mapping) else None
        job_id = job.get("id") if isinstance(job, Mapping) else None
        if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
            raise OutcomeUnknownError(_SERVICE, "update_many answered without a job id")
        return job_id

    def _poll(self, job_ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        """The jobs' statuses now, by id: one job's own endpoint, or several in one call."""
        def poll() -> dict[str, Mapping[str, Any]]:
            if len(job_ids) == 1:
                response = self.session.get(f"{self.origin}{JOB_STATUS.format(id=job_ids[0])}")
                response.raise_for_status()
                statuses = [json_object(response).get("job_status")]
            else:
                response = self.session.get(f"{self.origin}{JOB_STATUSES}",
                                            params={"ids": ",".join(job_ids)})
                response.raise_for_status()
                listed = json_object(response).get("job_statuses")
                statuses = listed if isinstance(listed, list) else [None]
            if not all(isinstance(status, Mapping) for status in statuses):
                raise TransientError(_SERVICE, "Zendesk answered a job status without it",
                                     status=response.status_code)
            return {str(status.get("id")): status for status in statuses
                    if isinstance(status, Mapping)}

        return self.call("job_status", poll)

    def _follow(self, job_ids: list[str]) -> dict[str, Mapping[str, Any] | ServiceError]:
        """Each job's final status, polled together with growing waits; OutcomeUnknownError
        for a job that cannot be followed to its end (a failed poll, the cap, a stop)."""
        pending, finished = list(job_ids), dict[str, Mapping[str, Any] | ServiceError]()
        waits = self.polling.waits()
        while pending:
            try:
                statuses = self._poll(pending)
            except ServiceError as error:
                return finished | {job_id: OutcomeUnknownError(
                    _SERVICE, f"update_many job {job_id} was queued; following it failed: "
                    f"{error}", status=error.status) for job_id in pending}
            for job_id in list(pending):
                status = statuses.get(job_id)
                if status is not None and status.get("status") in FINISHED:
                    finished[job_id] = {**status, "id": job_id}
                    pending.remove(job_id)
            if not pending:
                break
            wait = next(waits, None)
            if wait is None:
                return finished | {job_id: OutcomeUnknownError(
                    _SERVICE, f"update_many job {job_id} did not finish within"
                    f" {self.polling.total:g} s") for job_id in pending}
            self.retry.sleep(wait)
            if self.retry.cancel is not None and self.retry.cancel.is_set():
                return finished | {job_id: OutcomeUnknownError(
                    _SERVICE, f"stopping before update_many job {job_id} finished")
                    for job_id in pending}
        return finished
