"""Protection state: the writes that keep it in step (closes move the loss streak and the
week, reserving checks the signal-rate bucket). A check reads it with the rest of its state
(`db.checkstate`); the settings themselves are profile columns (`db.rows.PROFILE`)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from db.failures import RetryTransaction
from db.lean import Conn, Lean, Sql
from db.rows import REALIZED, STREAK
from domain.numbers import ZERO
from domain.protections import (
    LossStreak,
    RateBucket,
    needs_recount,
    streak_after_close,
)

# Compare-and-set on `rate_seq`: a concurrent check that saved first makes this one retry.
# Sets a client's bucket and bumps its version; `SAVE_BUCKET` does so only from the version
# the writer read.
SET_BUCKET = (
    "INSERT INTO client_guards (client_id, loss_streak, rate_tokens, rate_at, rate_seq)"
    " VALUES (?, 0, ?, ?, 1)"
    " ON CONFLICT (client_id) DO UPDATE SET rate_tokens = excluded.rate_tokens,"
    " rate_at = excluded.rate_at, rate_seq = client_guards.rate_seq + 1"
)
_SAVE_BUCKET = Sql(f"{SET_BUCKET} WHERE client_guards.rate_seq = ? RETURNING rate_seq")


async def save_bucket(conn: Conn, client_id: str, bucket: RateBucket, *, seen_seq: int) -> None:
    saved = await (await Lean.of(conn)).row(
        _SAVE_BUCKET, client_id, bucket.tokens, bucket.at, seen_seq
    )
    if saved is None:
        raise RetryTransaction()


_GET_STREAK = Sql(f"SELECT {STREAK.sql('g')} FROM client_guards g WHERE g.client_id = ?")
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
_GET_WEEK = Sql(
    f"SELECT {REALIZED.sql('w')} FROM client_weekly_pnl w"
    " WHERE w.client_id = ? AND w.trading_week = ?"
)
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
    realized = (REALIZED.decode(row) if row else ZERO) + pnl
    await lean.run(_SAVE_WEEK, client_id, week, realized)
    found = await lean.row(_GET_STREAK, client_id)
    streak = STREAK.decode(found) if found else LossStreak()
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
