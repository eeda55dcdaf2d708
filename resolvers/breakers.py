"""Breaker evaluation inside a writer's transaction, mode-change alerts, and publishing.

Every writer that can move a breaker (trades, cash flows, marks, profile and platform limit
changes) calls `evaluate` at the end of its transaction, while it holds the platform lock, so
the stored level and the data it was computed from can never disagree. The alerts it returns
are published once the transaction has committed (`resolvers.unit_of_work`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection

from db import alerts as alerts_db
from db.jobqueries import ClientFilter, ClientRows, load_clients
from domain.breakers import (
    Alert,
    Reading,
    client_readings,
    mode_change,
    platform_readings,
    transitions,
)
from domain.exposure import client_exposure
from domain.values import TradingMode
from resolvers.deps import Deps
from resolvers.exposure import load_platform


def readings_of(rows: ClientRows) -> list[Reading]:
    """Drawdown and daily-loss readings of every loaded client."""
    out: list[Reading] = []
    for client_id, account in rows.accounts.items():
        exposure = client_exposure(
            client_id,
            rows.books.get(client_id, ()),
            rows.catalog,
            account,
            (),
            rows.realized_today[client_id],
        )
        out.extend(
            client_readings(
                client_id,
                drawdown_percent=exposure.drawdown_percent,
                daily_pnl=exposure.daily_pnl,
                limits=rows.limits[client_id],
            )
        )
    return out


async def measure(
    conn: AsyncConnection, deps: Deps, now: datetime, *, clients: ClientFilter, platform: bool
) -> list[Reading]:
    """Current readings of the chosen clients' breakers and, if asked, the platform's."""
    readings: list[Reading] = []
    if clients is None or isinstance(clients, Select) or len(clients) > 0:
        rows = await load_clients(conn, clients, deps.calendar.day_of(now))
        readings.extend(readings_of(rows))
    if platform:
        snapshot = await load_platform(conn, deps, now)
        readings.extend(platform_readings(snapshot.exposure, snapshot.limits))
    return readings


async def evaluate(
    conn: AsyncConnection,
    deps: Deps,
    now: datetime,
    *,
    clients: ClientFilter = (),
    platform: bool = False,
) -> list[Alert]:
    """Measure, compare with the stored levels, store each change and its alert.

    Call inside a write transaction that holds the platform lock; the writer returns the
    result with its value (`Written`) to have it published after the commit.
    `clients`: ids, a subquery of ids, or None for every client."""
    readings = await measure(conn, deps, now, clients=clients, platform=platform)
    if not readings:
        return []
    scopes = None if clients is None else sorted({r.scope for r in readings})
    states = await alerts_db.load_states(conn, scopes)
    return await alerts_db.record(conn, transitions(readings, states), at=now)


async def mode_change_alert(
    conn: AsyncConnection,
    deps: Deps,
    *,
    client_id: str | None,
    old: TradingMode,
    new: TradingMode,
    reason: str,
    at: datetime,
) -> Alert:
    """Store the alert for a trading-mode change (client, or the platform when None).

    Call inside the transaction that changes the mode; return the alert with the writer's
    value (`Written`) to have it published after the commit."""
    [alert] = await alerts_db.record(conn, [mode_change(client_id, old, new, reason)], at=at)
    return alert
