"""Reading exposure: per client, its history, and platform-wide. Reads never write."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from db import books, reservations, snapshots
from db import platform as platform_db
from db.checkstate import load_client_state
from db.lean import Conn
from domain.access import Caller, authorize, client_scope
from domain.current import (
    ClientSnapshot,
    PlatformSnapshot,
    client_snapshot,
    platform_snapshot,
)
from domain.exposure import (
    ExposureReport,
    exposure_report,
)
from domain.history import validate_window
from domain.limits import PlatformLimits
from domain.values import validate_page_limit
from resolvers.deps import Deps

MAX_HISTORY = 1000


async def load_client(conn: Conn, deps: Deps, client_id: str, now: datetime) -> ClientSnapshot:
    """Bounded by the client's open books and reservations, never by its history."""
    found = await load_client_state(
        conn, client_id=client_id, day=deps.calendar.day_of(now), now=now
    )
    return client_snapshot(
        client_id, found.books, found.catalog, found.account, found.reservations, found.realized
    )


async def load_platform(
    conn: AsyncConnection,
    deps: Deps,
    now: datetime,
    *,
    limits: PlatformLimits | None = None,
) -> PlatformSnapshot:
    """Platform sums from one row per instrument and direction plus active reservations."""
    if limits is None:
        limits, _ = await platform_db.get_limits(conn)
    platform_books, catalog = await books.platform_books(conn)
    held = await reservations.platform_active(conn, now)
    realized = await books.platform_realized_on(conn, deps.calendar.day_of(now))
    return platform_snapshot(limits, platform_books, catalog, held, realized)


async def get_exposure(deps: Deps, caller: Caller, client_id: str | None) -> ExposureReport:
    """The caller's (or a named client's) exposure now."""
    target = client_scope(caller, client_id)
    now = deps.now()
    loaded = await deps.db.read_direct(lambda lean: load_client(lean, deps, target, now))
    return exposure_report(loaded.exposure, now)


async def exposure_history(
    deps: Deps,
    caller: Caller,
    client_id: str | None,
    *,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[ExposureReport]:
    """Stored snapshots, newest first."""
    target = client_scope(caller, client_id)
    validate_page_limit(limit, MAX_HISTORY)
    validate_window(since, until)
    return await deps.db.read(
        lambda conn: snapshots.list_snapshots(conn, target, since=since, until=until, limit=limit)
    )


async def global_exposure(deps: Deps, caller: Caller) -> PlatformSnapshot:
    """Platform-wide sums, limits, utilization and trading mode (admin)."""
    authorize(caller, "globalExposure")
    now = deps.now()
    return await deps.db.read(lambda conn: load_platform(conn, deps, now))
