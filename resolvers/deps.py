"""What every use case is given: the database, the calendar, the clock, the alert sink and
the live alert feed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from db.engine import Database
from domain.trading_day import TradingCalendar


def utc_now() -> datetime:
    return datetime.now(UTC)


async def _drop(_alerts: object) -> None:
    return None


# Opens a subscription to alerts as they are published (and to gaps in that stream).
AlertFeed = Callable[[], AbstractAsyncContextManager[AsyncIterator[object]]]


@dataclass(frozen=True, slots=True)
class Deps:
    db: Database
    calendar: TradingCalendar
    reservation_ttl: timedelta = timedelta(seconds=300)
    # A risk check that takes longer than this fails closed.
    check_timeout: float = 5.0
    # The most signals one checkSignals call may hold.
    max_batch: int = 10_000
    now: Callable[[], datetime] = utc_now
    # Receives alerts after their transaction committed; the service plugs in its bus.
    publish: Callable[[list[object]], Awaitable[None]] = field(default=_drop)
    # Live alerts for subscriptions; None where nothing can subscribe (jobs, the CLI).
    subscribe: AlertFeed | None = None
