"""Business-hours arithmetic on a policy schedule: pure functions of aware datetimes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

from afterhours.domain.memo import by_identity
from afterhours.policy.model import Schedule

# A schedule that opens less than once a year is broken; stop looking after that.
_SEARCH_DAYS = 400
# The names strftime's %A and %B write in the C locale, the one afterhours runs in (nothing
# sets LC_TIME): formatting by hand is several times faster, and moments are formatted on
# every plan.
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")
# The same, as strftime's %a and %b write them, and the clock's two-digit numbers: a format
# spec (`:02d`) costs more than the rest of a moment's words.
_DAY_ABBREVIATIONS = tuple(name[:3] for name in DAY_NAMES)
_MONTH_ABBREVIATIONS = tuple(name[:3] for name in MONTH_NAMES)
TWO_DIGITS = tuple(f"{number:02d}" for number in range(100))
_DAY = timedelta(days=1)
# Days of intervals kept per schedule (about ten years' worth) before the memo starts afresh.
_MEMO_DAYS = 4096
# Moments kept per schedule and question: a pass's tickets, many times over.
_MEMO_MOMENTS = 16384
K = TypeVar("K")
V = TypeVar("V")


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=1024)
def minutes_of(count: int) -> timedelta:
    """`count` minutes as a timedelta (made once: building one costs more than adding it)."""
    return timedelta(minutes=count)


def local_time(moment: datetime, schedule: Schedule) -> datetime:
    """`moment` in the schedule's time zone."""
    return moment.astimezone(_zone(schedule.time_zone))


def in_zone(moment: datetime, time_zone: str) -> datetime:
    """`moment` in the IANA zone named `time_zone`."""
    return moment.astimezone(_zone(time_zone))


def is_business_time(moment: datetime, schedule: Schedule) -> bool:
    """True when the desk is staffed at `moment` (an aware datetime)."""
    spans = _spans(schedule)
    # Asked of each ticket's creation time every time the ticket is planned: kept.
    known = spans.staffed.get(moment)
    if known is None:
        known = spans.remember(spans.staffed, moment, _is_staffed(moment, spans))
    return known


def _is_staffed(moment: datetime, spans: _DaySpans) -> bool:
    day = moment.astimezone(spans.zone).date()
    # The day before too: a range may run past midnight. A loop: any() costs a generator.
    for start, end in (*spans.on(day - _DAY), *spans.on(day)):  # noqa: SIM110
        if start <= moment < end:
            return True
    return False


def describe_moment(moment: datetime, schedule: Schedule) -> str:
    """A human form of `moment` in the schedule's zone, for reasons and reports: what
    strftime's "%a %d %b %H:%M" writes, followed by the zone's name."""
    return _described(moment, schedule.time_zone)


# A ticket's creation time and its levels' deadlines are described every time it is planned.
@lru_cache(maxsize=4096)
def _described(moment: datetime, time_zone: str) -> str:
    local = in_zone(moment, time_zone)
    return (f"{_DAY_ABBREVIATIONS[local.weekday()]} {TWO_DIGITS[local.day]}"
            f" {_MONTH_ABBREVIATIONS[local.month - 1]}"
            f" {TWO_DIGITS[local.hour]}:{TWO_DIGITS[local.minute]} {time_zone}")


def add_business_minutes(start: datetime, minutes: int, schedule: Schedule) -> datetime | None:
    """The moment `minutes` of open desk time after `start`; None if the schedule never opens."""
    spans = _spans(schedule)
    # A ticket's promise and its business-clock levels are counted from the same moments
    # every time it is planned: kept (with the zone `start` is in, which a result may keep).
    asked = (start, start.tzinfo, minutes)
    added = spans.added
    if asked not in added:  # None (the desk never opens) is an answer too
        return spans.remember(added, asked, _add(start, minutes, spans))
    return added[asked]


def _add(start: datetime, minutes: int, spans: _DaySpans) -> datetime | None:
    remaining = minutes_of(minutes)
    day = start.astimezone(spans.zone).date() - _DAY  # a range may run past midnight
    for _ in range(_SEARCH_DAYS + 1):
        for open_at, close_at in spans.on(day):
            begin = open_at if open_at > start else start
            if close_at <= begin:
                continue
            if begin + remaining <= close_at:
                return begin + remaining
            remaining -= close_at - begin
        day += _DAY
    return None


class _DaySpans:
    """One schedule's open intervals, day by day, worked out once per day: the tickets of a
    pass were created over a few days, and every plan asks about the same ones."""

    def __init__(self, schedule: Schedule) -> None:
        self.zone = _zone(schedule.time_zone)
        self._holidays = frozenset(schedule.holidays)
        self._by_day = {day.number: sorted(ranges, key=lambda r: r.start)
                        for day, ranges in schedule.hours.items()}
        self._memo: dict[date, tuple[tuple[datetime, datetime], ...]] = {}
        # Answers about moments (see is_business_time, add_business_minutes).
        self.staffed: dict[datetime, bool] = {}
        self.added: dict[tuple[datetime, tzinfo | None, int], datetime | None] = {}

    def remember(self, memo: dict[K, V], asked: K, answer: V) -> V:
        """`answer`, kept in `memo` under `asked`; a full memo starts afresh."""
        if len(memo) >= _MEMO_MOMENTS:
            memo.clear()
        memo[asked] = answer
        return answer

    def on(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The intervals the desk opens on `day` (local), in UTC, in order."""
        found = self._memo.get(day)
        if found is None:
            if len(self._memo) >= _MEMO_DAYS:
                self._memo.clear()
            found = self._memo[day] = tuple(self._work_out(day))
        return found

    def _work_out(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        # Intervals are built from local wall-clock times and compared in UTC, so a day that
        # is 23 or 25 hours long across a daylight-saving change counts its real length.
        if day in self._holidays:
            return
        for span in self._by_day.get(day.weekday(), []):
            open_at = _at(day, span.start, self.zone)
            end_day = day + _DAY if span.end == time(0, 0) else day
            yield open_at, _at(end_day, span.end, self.zone)


_spans = by_identity(_DaySpans, limit=64)


def _at(day: date, wall: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)
