"""The trading day: starts at a configured local hour in a configured time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class TradingCalendar:
    timezone: ZoneInfo
    start_hour: int = 0

    def day_of(self, at: datetime) -> date:
        """The trading day an instant belongs to, labelled by the local date it started on."""
        local = at.astimezone(self.timezone)
        if local.hour < self.start_hour:
            return local.date() - timedelta(days=1)
        return local.date()

    def start_of(self, day: date) -> datetime:
        """UTC instant at which `day` starts; DST follows the zone's rules."""
        local = datetime.combine(day, time(self.start_hour), tzinfo=self.timezone)
        return local.astimezone(UTC)

    def week_of(self, at: datetime) -> date:
        """The trading week an instant belongs to, labelled by its first trading day (so
        `start_of` of the label is when the week starts).

        A week starts with the trading day that contains Monday 12:00 local time: the Monday
        itself when days start at or before noon, the Sunday when they start later (an FX
        desk's week opens Sunday 17:00 New York).
        """
        day = self.day_of(at)
        first = self.day_of(datetime.combine(_A_MONDAY, time(12), tzinfo=self.timezone))
        return day - timedelta(days=(day.weekday() - first.weekday()) % 7)


_A_MONDAY = date(2024, 1, 1)
