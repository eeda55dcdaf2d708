"""Breaker states (the last level per breaker) and the stored alerts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.tables import breaker_alerts, breaker_states
from db.upsert import upsert
from domain.breakers import Alert, Transition
from domain.values import AlertLevel

# Bound parameters per statement stay far below SQLite's and asyncpg's limits.
CHUNK = 1000

_ALERT_COLUMNS = (
    breaker_alerts.c.id,
    breaker_alerts.c.client_id,
    breaker_alerts.c.kind,
    breaker_alerts.c.level,
    breaker_alerts.c.previous_level,
    breaker_alerts.c.value,
    breaker_alerts.c.limit_value,
    breaker_alerts.c.message,
    breaker_alerts.c.created_at,
)


def _alert(row: Any) -> Alert:
    id_, client_id, kind, level, previous, value, limit, message, created_at = row
    return Alert(
        int(id_),
        client_id,
        kind,
        AlertLevel(level),
        AlertLevel(previous),
        value,
        limit,
        message,
        created_at,
    )


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def load_states(
    conn: AsyncConnection, scopes: Sequence[str] | None = None
) -> dict[tuple[str, str], AlertLevel]:
    """Last level per (scope, kind): of the given scopes, or of every breaker (None)."""
    columns = (breaker_states.c.scope, breaker_states.c.kind, breaker_states.c.level)
    if scopes is None:
        rows = list(await conn.execute(select(*columns)))
    else:
        rows = []
        for part in chunks(sorted(set(scopes))):
            stmt = select(*columns).where(breaker_states.c.scope.in_(part))
            rows.extend(await conn.execute(stmt))
    return {(scope, kind): AlertLevel(level) for scope, kind, level in rows}


async def record(
    conn: AsyncConnection, changes: Sequence[Transition], *, at: datetime
) -> list[Alert]:
    """Store the new levels and one alert per change (batched); returns the stored alerts."""
    if not changes:
        return []
    await upsert(
        conn,
        breaker_states,
        [
            {"scope": t.scope, "kind": t.kind.value, "level": t.level.value, "updated_at": at}
            for t in changes
        ],
        keys=["scope", "kind"],
    )
    rows = [
        {
            "client_id": t.client_id,
            "kind": t.kind.value,
            "level": t.level.value,
            "previous_level": t.previous_level.value,
            "value": t.value,
            "limit_value": t.limit,
            "message": t.message,
            "created_at": at,
        }
        for t in changes
    ]
    stmt = insert(breaker_alerts).returning(breaker_alerts.c.id, sort_by_parameter_order=True)
    ids = [row[0] for row in await conn.execute(stmt, rows)]
    return [
        Alert(
            int(id_),
            t.client_id,
            t.kind.value,
            t.level,
            t.previous_level,
            t.value,
            t.limit,
            t.message,
            at,
        )
        for id_, t in zip(ids, changes, strict=True)
    ]


async def list_alerts(conn: AsyncConnection, client_id: str | None, *, limit: int) -> list[Alert]:
    """Newest first: one client's alerts, or every alert (None)."""
    stmt = select(*_ALERT_COLUMNS)
    if client_id is not None:
        stmt = stmt.where(breaker_alerts.c.client_id == client_id)
    stmt = stmt.order_by(breaker_alerts.c.created_at.desc(), breaker_alerts.c.id.desc())
    return [_alert(row) for row in await conn.execute(stmt.limit(limit))]


async def alerts_since(
    conn: AsyncConnection, client_id: str | None, since: datetime, *, limit: int
) -> list[Alert]:
    """Oldest first: alerts created at or after `since` (a subscriber catching up)."""
    stmt = select(*_ALERT_COLUMNS).where(breaker_alerts.c.created_at >= since)
    if client_id is not None:
        stmt = stmt.where(breaker_alerts.c.client_id == client_id)
    stmt = stmt.order_by(breaker_alerts.c.created_at, breaker_alerts.c.id)
    return [_alert(row) for row in await conn.execute(stmt.limit(limit))]
