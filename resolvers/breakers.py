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
from db import audit, clients
from db.jobqueries import ClientFilter, ClientRows, load_clients
from domain.breakers import (
    Alert,
    Reading,
    client_readings,
    mode_change,
    platform_readings,
    stop_outs,
    transitions,
    weekly_reading,
)
from domain.exposure import client_exposure
from domain.values import TradingMode
from resolvers.deps import Deps
from resolvers.exposure import load_platform


def readings_of(rows: ClientRows) -> list[Reading]:
    """Drawdown, daily-loss and (when the week was loaded) weekly-loss readings."""
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
        if client_id in rows.realized_week:
            weekly_pnl = exposure.totals.unrealized + rows.realized_week[client_id]
            out.append(weekly_reading(client_id, weekly_pnl, rows.weekly_caps[client_id]))
    return out


async def measure(
    conn: AsyncConnection, deps: Deps, now: datetime, *, clients: ClientFilter, platform: bool
) -> tuple[list[Reading], set[str]]:
    """Current readings of the chosen clients' breakers and, if asked, the platform's; with
    the clients among them that asked to be stopped out on a breach."""
    readings: list[Reading] = []
    opted_in: set[str] = set()
    if clients is None or isinstance(clients, Select) or len(clients) > 0:
        day, week = deps.calendar.day_of(now), deps.calendar.week_of(now)
        rows = await load_clients(conn, clients, day, week)
        readings.extend(readings_of(rows))
        opted_in = {c for c, wanted in rows.stop_out.items() if wanted}
    if platform:
        snapshot = await load_platform(conn, deps, now)
        readings.extend(platform_readings(snapshot.exposure, snapshot.limits))
    return readings, opted_in


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
    `clients`: ids, a subquery of ids, or None for every client. A client that opted in to
    stop-out and whose breach has just become CRITICAL is halted in the same transaction."""
    readings, opted_in = await measure(conn, deps, now, clients=clients, platform=platform)
    if not readings:
        return []
    scopes = None if clients is None else sorted({r.scope for r in readings})
    states = await alerts_db.load_states(conn, scopes)
    changes = transitions(readings, states)
    raised = await alerts_db.record(conn, changes, at=now)
    for client_id, reason in stop_outs(changes, opted_in).items():
        raised.extend(await stop_out(conn, deps, client_id, reason, now))
    return raised


async def stop_out(
    conn: AsyncConnection, deps: Deps, client_id: str, reason: str, now: datetime
) -> list[Alert]:
    """Halt a client whose breach calls for it: audited, with a mode-change alert (logged
    when published, after the commit). Only an explicit setTradingMode lifts it."""
    profile = await clients.get_profile(conn, client_id)
    if profile is None or profile.trading_mode is TradingMode.HALTED:
        return []
    await clients.save_trading_mode(conn, client_id, TradingMode.HALTED, at=now)
    await audit.record_change(
        conn,
        actor_sub="riskgate",
        actor_role="system",
        action="trading_mode.stop_out",
        client_id=client_id,
        before={"trading_mode": profile.trading_mode.value},
        after={"trading_mode": TradingMode.HALTED.value},
        at=now,
        reason=reason,
    )
    alert = await mode_change_alert(
        conn,
        deps,
        client_id=client_id,
        old=profile.trading_mode,
        new=TradingMode.HALTED,
        reason=reason,
        at=now,
    )
    return [alert]


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
