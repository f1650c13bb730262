"""Working time: SLA clocks run only during business hours, in the tenant's time zone.

A calendar has working weekdays (Monday to Friday), daily hours (09:00–18:00), public
holidays that are days off, and adjusted working days (调休: a Saturday or Sunday worked in
exchange for a holiday). Durations are working time: "4 hours" submitted at 17:00 on a
Friday is due at 12:00 on Monday.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 3660  # no SLA reaches ten years ahead; stops a calendar without working days


@dataclass(frozen=True)
class WorkingCalendar:
    timezone: str = "Asia/Shanghai"
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    start: time = time(9, 0)
    end: time = time(18, 0)
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)  # adjusted working days (调休)

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError("the working day must end after it starts")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def day_length(self) -> timedelta:
        return datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() in self.weekdays and day not in self.holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, self.start, tzinfo=self.zone),
            datetime.combine(day, self.end, tzinfo=self.zone),
        )

    def add(self, moment: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of working time after ``moment`` (aware, returned in UTC)."""
        if moment.tzinfo is None:
            raise ValueError("an aware datetime is needed")
        remaining = duration
        local = moment.astimezone(self.zone)
        day = local.date()
        for _ in range(MAX_DAYS):
            if self.is_working_day(day):
                opens, closes = self._window(day)
                begin = max(local, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return (begin + remaining).astimezone(UTC)
                    remaining -= available
            day += timedelta(days=1)
            local = datetime.combine(day, time.min, tzinfo=self.zone)
        raise ValueError("the calendar has no working time in the next ten years")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end`` (zero when end is not after start)."""
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        local_start, local_end = start.astimezone(self.zone), end.astimezone(self.zone)
        day = local_start.date()
        while day <= local_end.date():
            if self.is_working_day(day):
                opens, closes = self._window(day)
                begin, finish = max(opens, local_start), min(closes, local_end)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total
