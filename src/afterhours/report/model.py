"""What a report is made of: the facts read from the state (as plain data), and the figures,
each a small table the HTML draws as a chart and CSV and JSON write as they are. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from afterhours.domain.model import Ticket

Cell = str | int | float | None
# How the HTML shows a figure: a bar chart (one series, or several side by side or stacked),
# or only as a table (per-ticket lists).
Chart = Literal["bar", "grouped", "stacked", "table"]


@dataclass(frozen=True)
class Event:
    """One audit row as the report reads it: what the daemon did or left, and why."""

    at: datetime
    ticket_id: int | None
    key: str | None
    rule: str | None
    action: str | None
    outcome: str
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Filed:
    """A Jira issue afterhours filed for a ticket, or (`joined`) the known issue the ticket
    joined instead of filing one; `status` when it is known (None: the state does not hold
    it)."""

    ticket_id: int
    key: str
    created_at: datetime
    status: str | None = None
    joined: bool = False
    why: str = ""  # a join's reason, as the planner gave it


@dataclass(frozen=True)
class Facts:
    """Everything a report is computed from: the period, the moment it is made, the latest
    snapshot of each ticket seen in the period, the open backlog, the audit rows of the
    period (oldest first) and the Jira issues filed."""

    start: datetime
    end: datetime
    tickets: Sequence[Ticket]
    backlog: Sequence[Ticket]
    events: Sequence[Event]
    filed: Sequence[Filed]


@dataclass(frozen=True)
class Table:
    """One figure: a title, its columns (the first names the rows) and rows, how it is
    drawn, and a line saying how it was counted."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    chart: Chart = "bar"
    note: str = ""
    log_scale: bool = False  # minutes and days far apart: 5 beside 4,000 must still show

    def records(self) -> list[dict[str, Cell]]:
        """The rows as column -> value mappings."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Section:
    """A part of the report: a heading, a few headline numbers and its figures."""

    name: str
    title: str
    headline: tuple[tuple[str, Cell], ...]
    tables: tuple[Table, ...]


@dataclass(frozen=True)
class Report:
    """The whole report, section by section."""

    start: datetime
    end: datetime
    time_zone: str
    sections: tuple[Section, ...]

    def tables(self) -> list[Table]:
        """Every figure, section by section."""
        return [table for section in self.sections for table in section.tables]


def table(name: str, title: str, columns: Sequence[str], rows: Sequence[Sequence[Cell]],
          *, chart: Chart = "bar", note: str = "", log_scale: bool = False) -> Table:
    """A Table from any sequences."""
    return Table(name, title, tuple(columns), tuple(tuple(row) for row in rows), chart, note,
                 log_scale)
