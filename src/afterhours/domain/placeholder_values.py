"""The values a template's placeholders are filled with, for one view of a ticket at one
moment: each worked out only when a template asks for it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime

from afterhours.domain import render
from afterhours.domain.articles import articles_text
from afterhours.domain.known_issues import known_status
from afterhours.domain.ladders import reply_by
from afterhours.domain.model import History, Ticket
from afterhours.domain.schedule import add_business_minutes
from afterhours.policy.model import Policy
from afterhours.policy.templates import PLACEHOLDERS


class Placeholders(Mapping[str, str]):
    """Placeholder values for one view of a ticket at one moment, made on demand."""

    def __init__(self, view: Ticket, policy: Policy, now: datetime,
                 history: History | None = None) -> None:
        self._view, self._policy, self._now = view, policy, now
        self._history = history

    def __getitem__(self, name: str) -> str:
        return self._value(name)

    def _value(self, name: str) -> str:  # noqa: PLR0911  (one return per placeholder)
        view = self._view
        if name == "ticket_id":
            return str(view.id)
        if name == "reply_by":  # the other most asked (the reply a route sends says it)
            due = reply_by(view, self._policy)
            return (render.customer_moment(due, self._policy.schedule) if due
                    else "as soon as we can")
        if name == "subject":
            return render.one_line(view.subject, 200)
        if name == "requester_email":
            return view.requester_email or ""
        if name == "priority":
            return view.priority or "none"
        if name == "next_open":
            schedule = self._policy.schedule
            opens = add_business_minutes(self._now, 0, schedule)
            return render.customer_moment(opens, schedule) if opens else "soon"
        if name == "known_issue":
            return known_status(view, self._policy, self._history)
        if name == "articles":
            found = None if self._history is None else self._history.articles
            return articles_text(view, found, self._policy.articles)
        raise KeyError(name)

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        """The value of `name`, or `default` when there is no such placeholder."""
        # Mapping.get's try/except costs more than the values: templates are filled per plan
        # (and self[name] costs a slot lookup more than the method).
        return self._value(name) if name in PLACEHOLDERS else default

    def __iter__(self) -> Iterator[str]:
        return iter(PLACEHOLDERS)

    def __len__(self) -> int:
        return len(PLACEHOLDERS)
