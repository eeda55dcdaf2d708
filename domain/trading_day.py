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
