"""A settable clock handed to the app in place of the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """A settable clock for trading-day and expiry tests (time, not the database, is faked)."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self.fixed or datetime.now(UTC)

    def set(self, at: datetime) -> None:
        self.fixed = at

    def advance(self, **kwargs: float) -> None:
        self.fixed = self() + timedelta(**kwargs)
