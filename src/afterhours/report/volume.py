"""After-hours volume: tickets by night, by hour, by category (the route the daemon applied)
and by priority. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from afterhours.report.model import Section, table
from afterhours.report.tickets import NO_ROUTE, PRIORITIES, Counted


def volume_section(counted: Sequence[Counted]) -> Section:
    """The after-hours tickets of the period, counted four ways."""
    after = [c for c in counted if c.after_hours]
    nights: Counter[str] = Counter()
    for c in sorted(after, key=lambda c: c.ticket.created_at):
        nights[c.night] += 1  # in time order: a Counter keeps the order of first counts
    hours = Counter(c.hour for c in after)
    categories = Counter(c.category for c in after)
    priorities = Counter(c.priority for c in after)
    by_category = sorted(categories.items(), key=lambda kv: (kv[0] == NO_ROUTE, -kv[1], kv[0]))
    return Section(
        "volume", "After-hours tickets",
        (("after-hours tickets", len(after)), ("all tickets seen", len(counted)),
         ("nights with tickets", len(nights))),
        (
            table("after_hours_by_night", "After-hours tickets by night", ("night", "tickets"),
                  list(nights.items()),
                  note="A night runs from noon to noon in the schedule's time zone."),
            table("after_hours_by_hour", "After-hours tickets by hour of arrival",
                  ("hour", "tickets"), [(f"{h:02d}:00", hours.get(h, 0)) for h in range(24)],
                  note="Local time of the schedule."),
            table("after_hours_by_category", "After-hours tickets by category",
                  ("category", "tickets"), by_category,
                  note="The route the daemon applied, from its audit rows."),
            table("after_hours_by_priority", "After-hours tickets by priority",
                  ("priority", "tickets"),
                  [(p, priorities[p]) for p in PRIORITIES if priorities.get(p)]),
        ),
    )
