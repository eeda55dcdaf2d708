"""What every use case is given: the database, the calendar, the clock, the alert sink and
the live alert feed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from db.engine import Database
from domain.breakers import Alert, FeedGap
from domain.decisions import Decision
from domain.trading_day import TradingCalendar


def utc_now() -> datetime:
    return datetime.now(UTC)


async def _drop(_alerts: Sequence[Alert]) -> None:
    return None


# What a subscription receives: alerts as they are published, and gaps in that stream
# (the subscriber catches up on a gap from the stored alerts).
FeedItem = Alert | FeedGap
AlertFeed = Callable[[], AbstractAsyncContextManager[AsyncIterator[FeedItem]]]
Publish = Callable[[Sequence[Alert]], Awaitable[None]]


class AlertBus(Protocol):
    """Delivers committed alerts to subscribers (in this process, or in every process)."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, alerts: Sequence[Alert]) -> None: ...

    def subscribe(self) -> AbstractAsyncContextManager[AsyncIterator[FeedItem]]: ...

    @property
    def subscribers(self) -> int: ...


def _unobserved(_decision: Decision, _dry_run: bool) -> None:
    return None


def _unclaimed(_outcome: str) -> None:
    return None


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
    publish: Publish = field(default=_drop)
    # Live alerts for subscriptions; None where nothing can subscribe (jobs, the CLI).
    subscribe: AlertFeed | None = None
    # Told of every decision a check makes (after it committed); the service counts them.
    on_decision: Callable[[Decision, bool], None] = _unobserved
    # Told how each PostgreSQL check's claim ended, as it happens: "stood", "lost" (decided
    # again) or "locked" (the check took the platform lock instead); the service counts them.
    on_claim: Callable[[str], None] = _unclaimed
