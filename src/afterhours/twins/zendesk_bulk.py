"""The Zendesk twin's bulk ticket endpoints: Show Multiple Tickets, Update Many Tickets and the
job statuses that report an update_many job's result for each ticket.

`PUT /api/v2/tickets/update_many.json` takes `{"tickets": [{"id": 1, ...}, ...]}` (each ticket
its own changes, `safe_update` and `updated_stamp` included) or `?ids=1,2` with
`{"ticket": {...}}` (the same changes for each), at most 100 tickets, and answers a queued
job. The twin applies the changes at once, one ticket at a time as Zendesk's worker does, so
one ticket's refusal (a stale stamp, an invalid value, an unknown id) fails that ticket alone;
the results are shown only through `GET /api/v2/job_statuses/{id}.json` (or several jobs at
once through `job_statuses/show_many.json?ids=`), `working` for the
first `Jobs.polls_before_done` polls, then `completed` with one result per ticket in request
order (the spec's UpdateResourceResult or FailedResult). A lost PUT answer (the fault kind
`drop_after_commit`) leaves changes applied that no job id was seen for, as in the live API.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from afterhours.twins._http import HttpError, Request, Response
from afterhours.twins.zendesk_shapes import Json, not_found
from afterhours.twins.zendesk_state import ZendeskState

SHOW_MANY = "/api/v2/tickets/show_many.json"
UPDATE_MANY = "/api/v2/tickets/update_many.json"
JOB_STATUS = "/api/v2/job_statuses/{id}.json"
JOB_STATUSES = "/api/v2/job_statuses/show_many.json"
MAX_TICKETS = 100


def _too_many(what: str) -> HttpError:
    return HttpError(400, {"error": "InvalidValue",
                           "description": f"{what}: at most {MAX_TICKETS} tickets a request"})


def ticket_ids(request: Request) -> list[int]:
    """The `ids` query parameter (comma-separated, at most 100) as ticket ids."""
    text = request.arg("ids") or ""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or not all(part.isdigit() for part in parts):
        raise HttpError(400, {"error": "InvalidValue",
                              "description": "ids must be a comma-separated list of ticket ids"})
    if len(parts) > MAX_TICKETS:
        raise _too_many("ids")
    return [int(part) for part in parts]


def show_many(state: ZendeskState, request: Request) -> Json:
    """Answer `GET /api/v2/tickets/show_many.json?ids=...`: the tickets that exist, in the
    order asked for (an unknown id is left out, not an error)."""
    found = [state.tickets[i] for i in dict.fromkeys(ticket_ids(request)) if i in state.tickets]
    # Deep copies: the server serialises the answer after releasing the lock.
    return {"tickets": copy.deepcopy(found)}


def _failure(ticket_id: int, refused: HttpError) -> Json:
    body = refused.response.body if isinstance(refused.response.body, dict) else {}
    details = body.get("details")
    said = "; ".join(item["description"] for items in details.values() for item in items
                     ) if isinstance(details, dict) else ""
    return {"id": ticket_id, "action": "update", "success": False,
            "error": str(body.get("error", refused.response.status)),
            "details": said or str(body.get("description", ""))}


@dataclass
class Job:
    """One update_many job: its results, and how many more polls see it still working."""

    id: str
    results: list[Json]
    finished: datetime
    polls_left: int


@dataclass
class Jobs:
    """The account's update_many jobs, by id."""

    state: ZendeskState
    base_url: Callable[[], str]
    polls_before_done: int = 0  # polls answered `working` before `completed`
    jobs: dict[str, Job] = field(default_factory=dict)
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _status(self, job: Job, status: str) -> Json:
        done = status == "completed"
        return {"job_status": {
            "id": job.id, "url": f"{self.base_url()}/api/v2/job_statuses/{job.id}.json",
            "job_type": "Bulk Update", "total": len(job.results),
            "progress": len(job.results) if done else None if status == "queued" else 0,
            "status": status,
            "message": f"Completed at {job.finished:%Y-%m-%d %H:%M:%S} +0000" if done else None,
            "results": copy.deepcopy(job.results) if done else None,
        }}

    def update_many(self, request: Request) -> Response:
        """Answer `PUT /api/v2/tickets/update_many.json`: run the job, answer it queued."""
        body: Any = request.body if isinstance(request.body, dict) else {}
        if request.arg("ids") is not None:
            same = body.get("ticket")
            if not isinstance(same, dict):
                raise HttpError(400, {"error": "InvalidValue",
                                      "description": "ids= needs a {\"ticket\": {...}} body"})
            changes = [(ticket_id, same) for ticket_id in ticket_ids(request)]
        else:
            tickets = body.get("tickets")
            if not isinstance(tickets, list) or not tickets or not all(
                    isinstance(t, dict) and isinstance(t.get("id"), int) for t in tickets):
                raise HttpError(400, {"error": "InvalidValue", "description":
                                      "tickets must be a list of objects, each with its id"})
            if len(tickets) > MAX_TICKETS:
                raise _too_many("tickets")
            changes = [(t["id"], {k: v for k, v in t.items() if k != "id"}) for t in tickets]
        results = []
        for ticket_id, change in changes:
            try:
                self.state.update_ticket(ticket_id, change)
            except HttpError as refused:
                results.append(_failure(ticket_id, refused))
                continue
            results.append({"id": ticket_id, "action": "update", "status": "Updated",
                            "success": True})
        job = Job(f"{next(self._numbers):032x}", results, self.state.clock(),
                  self.polls_before_done)
        self.jobs[job.id] = job
        return Response(200, self._status(job, "queued"))

    def show(self, request: Request) -> Response:
        """Answer `GET /api/v2/job_statuses/{id}.json`."""
        job = self.jobs.get(request.params["id"])
        if job is None:
            raise not_found()
        return Response(200, self._polled(job))

    def show_many(self, request: Request) -> Response:
        """Answer `GET /api/v2/job_statuses/show_many.json?ids=...`: the jobs known, in the
        order asked for (an unknown id is left out); each answer counts as a poll of it."""
        text = request.arg("ids") or ""
        ids = [part.strip() for part in text.split(",") if part.strip()]
        if not ids:
            raise HttpError(400, {"error": "InvalidValue",
                                  "description": "ids must be a comma-separated list of job ids"})
        found = [self.jobs[i] for i in dict.fromkeys(ids) if i in self.jobs]
        return Response(200, {"job_statuses": [self._polled(job)["job_status"]
                                               for job in found]})

    def _polled(self, job: Job) -> Json:
        if job.polls_left > 0:
            job.polls_left -= 1
            return self._status(job, "working")
        return self._status(job, "completed")
