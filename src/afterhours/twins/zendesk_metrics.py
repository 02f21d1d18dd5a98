"""A ticket's metric set (Zendesk's `ticket_metric` object), kept up to date from its events."""

from __future__ import annotations

from datetime import datetime

from afterhours.twins.zendesk_shapes import Json, iso

# Which status means who is waiting: Zendesk counts new/open/hold as the requester waiting
# on the agents, and pending as the agents waiting on the requester.
_REQUESTER_WAITS = ("new", "open", "hold")


def _minutes(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)


def _span(minutes: int | None) -> Json:
    # The twin has no business-hours schedule, so business time equals calendar time.
    return {"calendar": minutes, "business": minutes}


class TicketMetrics:
    """Tracks one ticket's replies, stations, status times and wait times."""

    def __init__(self, metric_id: int, api: str, ticket_id: int, created: datetime, *,
                 status: str, group_id: int | None, assignee_id: int | None) -> None:
        self.metric_id = metric_id
        self.url = f"{api}/ticket_metrics/{metric_id}.json"
        self.ticket_id = ticket_id
        self.created = created
        self.updated = created
        self.status = status
        self.status_since = created
        self.status_updated: datetime = created
        self.requester_updated: datetime = created
        self.assignee_updated: datetime | None = None
        self.latest_comment: datetime = created
        self.initially_assigned: datetime | None = created if assignee_id else None
        self.assigned: datetime | None = self.initially_assigned
        self.first_solved: datetime | None = None
        self.solved: datetime | None = None
        self.first_reply: datetime | None = None
        self.replies = 0
        self.reopens = 0
        self.group_stations = 1 if group_id else 0
        self.assignee_stations = 1 if assignee_id else 0
        self.waits = {"agent": 0, "requester": 0, "hold": 0}

    def on_comment(self, at: datetime, *, public: bool, by_agent: bool, by_requester: bool,
                   by_assignee: bool) -> None:
        """Count a comment: a public one by an agent is a reply."""
        self.updated = self.latest_comment = at
        if by_requester:
            self.requester_updated = at
        if by_assignee:
            self.assignee_updated = at
        if public and by_agent and not by_requester:
            self.replies += 1
            if self.first_reply is None:
                self.first_reply = at

    def on_status(self, at: datetime, status: str) -> None:
        """Record a status change, closing the wait interval of the previous status."""
        if status == self.status:
            return
        elapsed = _minutes(self.status_since, at)
        if self.status in _REQUESTER_WAITS:
            self.waits["requester"] += elapsed
        if self.status == "pending":
            self.waits["agent"] += elapsed
        if self.status == "hold":
            self.waits["hold"] += elapsed
        if self.status == "solved" and status not in ("closed", "solved"):
            self.reopens += 1
        if status == "solved":
            self.solved = at
            self.first_solved = self.first_solved or at
        self.status, self.status_since = status, at
        self.updated = self.status_updated = at

    def on_group(self, at: datetime) -> None:
        """Count a move to another group."""
        self.group_stations += 1
        self.updated = at

    def on_assignee(self, at: datetime) -> None:
        """Count a new assignee."""
        self.assignee_stations += 1
        self.assigned = at
        self.initially_assigned = self.initially_assigned or at
        self.updated = at

    def as_json(self) -> Json:
        """The metric set as the incremental export side-loads it."""
        first_reply = None if self.first_reply is None else _minutes(self.created,
                                                                     self.first_reply)
        first_resolution = None if self.first_solved is None else _minutes(
            self.created, self.first_solved)
        full_resolution = None if self.solved is None else _minutes(self.created, self.solved)
        reply_seconds = None if self.first_reply is None else int(
            (self.first_reply - self.created).total_seconds())
        optional = {
            "assignee_updated_at": self.assignee_updated, "initially_assigned_at":
            self.initially_assigned, "assigned_at": self.assigned, "solved_at": self.solved,
        }
        return {
            "id": self.metric_id, "ticket_id": self.ticket_id, "url": self.url,
            "created_at": iso(self.created), "updated_at": iso(self.updated),
            "group_stations": self.group_stations, "assignee_stations": self.assignee_stations,
            "reopens": self.reopens, "replies": self.replies,
            **{key: None if value is None else iso(value) for key, value in optional.items()},
            "requester_updated_at": iso(self.requester_updated),
            "status_updated_at": iso(self.status_updated),
            "custom_status_updated_at": iso(self.status_updated),
            "latest_comment_added_at": iso(self.latest_comment),
            "reply_time_in_minutes": _span(first_reply),
            "reply_time_in_seconds": {"calendar": reply_seconds},
            "first_resolution_time_in_minutes": _span(first_resolution),
            "full_resolution_time_in_minutes": _span(full_resolution),
            "agent_wait_time_in_minutes": _span(self.waits["agent"]),
            "requester_wait_time_in_minutes": _span(self.waits["requester"]),
            "on_hold_time_in_minutes": _span(self.waits["hold"]),
        }
