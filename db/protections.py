"""Protection settings and state: the one extra statement a check runs, and the writes that
keep the state in step (closes move the loss streak and the week, reserving checks the
signal-rate bucket)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from db.lean import Lean, RetryTransaction, Sql, dec, opt_dec, opt_ts
from domain.numbers import ZERO
from domain.protections import (
    PROTECTION_NAMES,
    GuardState,
    LossStreak,
    Protections,
    RateBucket,
    needs_recount,
    streak_after_close,
)

# Column order of a Protections value (risk_profiles; platform_limits prefixes `ceiling_`).
PROTECTION_COLUMNS = tuple(PROTECTION_NAMES)
_LISTS = ("allowed_instruments", "blocked_instruments")


def encode_symbols(symbols: Sequence[str] | None) -> str | None:
    """Symbols never hold a comma, so a list is stored as one text value."""
    return None if symbols is None else ",".join(symbols)


def decode_symbols(raw: str | None) -> tuple[str, ...] | None:
    if raw is None:
        return None
    return tuple(s for s in raw.split(",") if s)


def protection_values(protections: Protections, *, prefix: str = "") -> dict[str, Any]:
    """Column values of a Protections value, ready for an INSERT or UPDATE."""
    out: dict[str, Any] = {}
    for name in PROTECTION_COLUMNS:
        value = getattr(protections, name)
        out[prefix + name] = encode_symbols(value) if name in _LISTS else value
    return out


def protections_from_row(row: Sequence[Any]) -> Protections:
    """Build from PROTECTION_COLUMNS (or the same columns in SQL), in that order."""
    return Protections(
        max_leverage=opt_dec(row[0]),
        max_weekly_loss=opt_dec(row[1]),
        loss_streak_limit=None if row[2] is None else int(row[2]),
        cooldown_minutes=int(row[3]),
        max_signals_per_minute=None if row[4] is None else int(row[4]),
        allowed_instruments=decode_symbols(row[5]),
        blocked_instruments=decode_symbols(row[6]) or (),
        stop_out_on_breach=bool(row[7]),
    )


def protection_sql(alias: str, *, prefix: str = "") -> str:
    return ", ".join(f"{alias}.{prefix}{name}" for name in PROTECTION_COLUMNS)


# Settings, streak, bucket and the week's realized P&L of one client, in one statement.
_FOR_CHECK = Sql(
    f"SELECT {protection_sql('p')}, g.loss_streak, g.last_loss_at, g.last_close_at,"
    " g.last_win_at, g.rate_tokens, g.rate_at, g.rate_seq, w.realized"
    " FROM (SELECT 1 AS one) o"
    " LEFT JOIN risk_profiles p ON p.client_id = ?"
    " LEFT JOIN client_guards g ON g.client_id = ?"
    " LEFT JOIN client_weekly_pnl w ON w.client_id = ? AND w.trading_week = ?"
)


class CheckGuards:
    """What a check reads for the protections, and the bucket version it saw."""

    __slots__ = ("protections", "rate_seq", "state")

    def __init__(self, protections: Protections | None, state: GuardState, rate_seq: int) -> None:
        # None: the client has no profile row yet (the defaults apply).
        self.protections = protections
        self.state = state
        self.rate_seq = rate_seq


def _streak(row: Sequence[Any]) -> LossStreak:
    if row[0] is None:
        return LossStreak()
    return LossStreak(int(row[0]), opt_ts(row[1]), opt_ts(row[2]), opt_ts(row[3]))


async def load_for_check(
    conn: AsyncConnection, client_id: str, week: date, now: datetime
) -> CheckGuards:
    row = await (await Lean.of(conn)).row(_FOR_CHECK, client_id, client_id, client_id, week)
    assert row is not None
    width = len(PROTECTION_COLUMNS)
    protections = protections_from_row(row[:width]) if row[3] is not None else None
    guard = row[width:]
    bucket = None
    if guard[4] is not None and guard[5] is not None:
        bucket = RateBucket(dec(guard[4]), opt_ts(guard[5]) or now)
    state = GuardState(
        now=now,
        realized_week=opt_dec(guard[7]) or ZERO,
        streak=_streak(guard[:4]),
        bucket=bucket,
    )
    return CheckGuards(protections, state, int(guard[6]) if guard[6] is not None else 0)


# Compare-and-set on `rate_seq`: a concurrent check that saved first makes this one retry.
_SAVE_BUCKET = Sql(
    "INSERT INTO client_guards (client_id, loss_streak, rate_tokens, rate_at, rate_seq)"
    " VALUES (?, 0, ?, ?, 1)"
    " ON CONFLICT (client_id) DO UPDATE SET rate_tokens = excluded.rate_tokens,"
    " rate_at = excluded.rate_at, rate_seq = client_guards.rate_seq + 1"
    " WHERE client_guards.rate_seq = ?"
    " RETURNING rate_seq"
)


async def save_bucket(
    conn: AsyncConnection, client_id: str, bucket: RateBucket, *, seen_seq: int
) -> None:
    saved = await (await Lean.of(conn)).row(
        _SAVE_BUCKET, client_id, bucket.tokens, bucket.at, seen_seq
    )
    if saved is None:
        raise RetryTransaction()


_GET_STREAK = Sql(
    "SELECT loss_streak, last_loss_at, last_close_at, last_win_at FROM client_guards"
    " WHERE client_id = ?"
)
_SAVE_STREAK = Sql(
    "INSERT INTO client_guards (client_id, loss_streak, last_loss_at, last_close_at,"
    " last_win_at, rate_seq) VALUES (?, ?, ?, ?, ?, 0)"
    " ON CONFLICT (client_id) DO UPDATE SET loss_streak = excluded.loss_streak,"
    " last_loss_at = excluded.last_loss_at, last_close_at = excluded.last_close_at,"
    " last_win_at = excluded.last_win_at"
)
# Closes after a late win: all of them losses, since they follow the newest win.
_CLOSES_AFTER = Sql(
    "SELECT count(*) FROM trades WHERE client_id = ? AND closed_at > ? AND trade_id <> ?"
)
_GET_WEEK = Sql("SELECT realized FROM client_weekly_pnl WHERE client_id = ? AND trading_week = ?")
_SAVE_WEEK = Sql(
    "INSERT INTO client_weekly_pnl (client_id, trading_week, realized) VALUES (?, ?, ?)"
    " ON CONFLICT (client_id, trading_week) DO UPDATE SET realized = excluded.realized"
)


async def record_close(
    conn: AsyncConnection,
    *,
    trade_id: str,
    client_id: str,
    week: date,
    closed_at: datetime,
    pnl: Decimal,
) -> None:
    """Book a close into the week's realized P&L and the loss streak (same transaction)."""
    lean = await Lean.of(conn)
    row = await lean.row(_GET_WEEK, client_id, week)
    realized = (dec(row[0]) if row else ZERO) + pnl
    await lean.run(_SAVE_WEEK, client_id, week, realized)
    found = await lean.row(_GET_STREAK, client_id)
    streak = _streak(found) if found else LossStreak()
    later = 0
    if needs_recount(streak, closed_at, pnl):
        counted = await lean.row(_CLOSES_AFTER, client_id, closed_at, trade_id)
        later = int(counted[0]) if counted else 0
    after = streak_after_close(streak, closed_at, pnl, later_closes=later)
    await lean.run(
        _SAVE_STREAK,
        client_id,
        after.count,
        after.last_loss_at,
        after.last_close_at,
        after.last_win_at,
    )
