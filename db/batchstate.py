"""Everything a batch of risk checks reads and writes, set-based.

A batch of signals for many clients is loaded with a fixed number of statements (each
client list passed as one array parameter) and stored with a fixed number of statements
(executemany), whatever its size: never a statement per signal.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from db.books import book_from_row
from db.catalog import INSTRUMENT_SQL, instrument_from_lean
from db.clients import PROFILE_SQL, account_from_row, profile_from_lean
from db.decisions import DECISION_COLUMNS, INSERT_DECISION, decision_args, decision_from_lean
from db.lean import Lean, Sql, dec
from db.reservations import (
    INSERT_RESERVATION,
    SAVE_TOTAL,
    Totals,
    reservation_args,
    reservation_from_lean,
)
from db.tables import accounts, risk_profiles
from db.upsert import insert_ignore
from domain.decisions import Decision
from domain.equity import AccountState
from domain.exposure import Reservation
from domain.instruments import Instrument
from domain.numbers import ZERO
from domain.positions import PositionBook
from domain.profile import DEFAULT_LIMITS, RiskProfile
from domain.values import TradingMode


class _InList:
    """A statement with `@IN` standing for "is one of a list given as one parameter"."""

    def __init__(self, text: str) -> None:
        self.pg = Sql(text.replace("@IN", "= ANY(?::text[])"))
        self.sqlite = Sql(text.replace("@IN", "IN (SELECT value FROM json_each(?))"))

    def on(self, lean: Lean) -> Sql:
        return self.pg if lean.is_pg else self.sqlite


def _list(lean: Lean, values: Iterable[str]) -> Any:
    return list(values) if lean.is_pg else json.dumps(list(values))


_PROFILES = _InList(f"SELECT p.client_id, {PROFILE_SQL} FROM risk_profiles p WHERE p.client_id @IN")
_ACCOUNTS = _InList(
    "SELECT client_id, balance, peak_equity, net_cash_flows, realized_pnl FROM accounts"
    " WHERE client_id @IN"
)
_REALIZED = _InList(
    "SELECT client_id, realized FROM client_daily_pnl WHERE trading_day = ? AND client_id @IN"
)
_PLATFORM_REALIZED = Sql("SELECT realized FROM platform_daily_pnl WHERE trading_day = ?")
_CLIENT_BOOKS = _InList(
    "SELECT client_id, symbol, direction, volume, entry_value, open_count FROM client_positions"
    " WHERE open_count > 0 AND client_id @IN"
)
_PLATFORM_BOOKS = Sql(
    "SELECT symbol, direction, volume, entry_value, open_count FROM instrument_positions"
    " WHERE open_count > 0"
)
_INSTRUMENTS = Sql(f"SELECT {INSTRUMENT_SQL} FROM instruments i")
_RES = "signal_id, client_id, symbol, direction, volume, notional, expires_at"
# Live reservations of the batch's clients 'C', every expired one 'X', platform totals 'T'.
_HELD = _InList(
    f"SELECT 'C', {_RES}, 0 FROM reservations WHERE expires_at > ? AND client_id @IN"
    f" UNION ALL SELECT 'X', {_RES}, 0 FROM reservations WHERE expires_at <= ?"
    " UNION ALL SELECT 'T', NULL, NULL, symbol, NULL, volume, notional, NULL, count"
    " FROM reservation_totals WHERE count > 0"
)
_PRIOR = _InList(f"SELECT {DECISION_COLUMNS} FROM risk_decisions WHERE signal_id @IN")
_IDS = _InList("SELECT signal_id, id FROM risk_decisions WHERE signal_id @IN")
_INSERT_DECISIONS = Sql(INSERT_DECISION.sqlite.replace(" RETURNING id", ""))


@dataclass
class BatchState:
    """The state of every client in a batch, and the platform's, as read in one transaction."""

    catalog: dict[str, Instrument]
    platform_books: list[PositionBook]
    platform_realized: Decimal
    profiles: dict[str, RiskProfile] = field(default_factory=dict)
    accounts: dict[str, AccountState] = field(default_factory=dict)
    realized: dict[str, Decimal] = field(default_factory=dict)
    books: dict[str, list[PositionBook]] = field(default_factory=dict)
    reservations: dict[str, list[Reservation]] = field(default_factory=dict)
    expired: list[Reservation] = field(default_factory=list)
    # Per instrument: (count, volume, notional) over every reservation row, expired or not.
    totals: Totals = field(default_factory=dict)
    # Decisions already stored for the batch's signal ids, with their payload fingerprints.
    prior: dict[str, tuple[Decision, str]] = field(default_factory=dict)


async def load_batch_state(
    conn: AsyncConnection,
    *,
    client_ids: Sequence[str],
    signal_ids: Sequence[str],
    day: date,
    now: datetime,
    with_prior: bool,
) -> BatchState:
    """Read everything the batch's checks compare, in a fixed number of statements."""
    lean = await Lean.of(conn)
    clients = _list(lean, client_ids)
    row = await lean.row(_PLATFORM_REALIZED, day)
    state = BatchState(
        catalog={
            found.symbol: found
            for found in map(instrument_from_lean, await lean.rows(_INSTRUMENTS))
        },
        platform_books=[book_from_row(r, 0) for r in await lean.rows(_PLATFORM_BOOKS)],
        platform_realized=dec(row[0]) if row is not None else ZERO,
    )
    state.profiles = await load_profiles(lean, client_ids)
    for r in await lean.rows(_ACCOUNTS.on(lean), clients):
        state.accounts[r[0]] = account_from_row(r[1:5])
    for r in await lean.rows(_REALIZED.on(lean), day, clients):
        state.realized[r[0]] = dec(r[1])
    for r in await lean.rows(_CLIENT_BOOKS.on(lean), clients):
        state.books.setdefault(r[0], []).append(book_from_row(r, 1))
    for r in await lean.rows(_HELD.on(lean), now, clients, now):
        kind = r[0]
        if kind == "T":
            state.totals[r[3]] = (int(r[8]), dec(r[5]), dec(r[6]))
        elif kind == "C":
            state.reservations.setdefault(r[2], []).append(reservation_from_lean(r[1:8]))
        else:
            state.expired.append(reservation_from_lean(r[1:8]))
    if with_prior:
        for r in await lean.rows(_PRIOR.on(lean), _list(lean, signal_ids)):
            state.prior[r[1]] = (decision_from_lean(r), r[3])
    return state


async def load_profiles(lean: Lean, client_ids: Sequence[str]) -> dict[str, RiskProfile]:
    rows = await lean.rows(_PROFILES.on(lean), _list(lean, client_ids))
    return {r[0]: profile_from_lean(r[0], r[1:]) for r in rows}


async def ensure_clients(
    conn: AsyncConnection, client_ids: Sequence[str], *, at: datetime
) -> dict[str, RiskProfile]:
    """Get-or-create the profile and account rows of clients seen for the first time."""
    if not client_ids:
        return {}
    profile = {
        **asdict(DEFAULT_LIMITS),
        "trading_mode": TradingMode.ACTIVE.value,
        "created_at": at,
        "updated_at": at,
    }
    account = {
        "balance": ZERO,
        "peak_equity": ZERO,
        "net_cash_flows": ZERO,
        "realized_pnl": ZERO,
        "open_positions": 0,
        "last_activity_at": at,
        "updated_at": at,
    }
    await insert_ignore(conn, risk_profiles, [{"client_id": c, **profile} for c in client_ids])
    await insert_ignore(conn, accounts, [{"client_id": c, **account} for c in client_ids])
    return await load_profiles(await Lean.of(conn), client_ids)


@dataclass(frozen=True, slots=True)
class Stored:
    """A decision to store, with what its row needs beyond the decision itself."""

    decision: Decision
    fingerprint: str
    symbol: str
    direction: str


async def save_batch(
    conn: AsyncConnection,
    stored: Sequence[Stored],
    held: Sequence[Reservation],
    totals: Totals,
) -> dict[str, int]:
    """Insert the decisions and reservations, save the touched totals; the new decision ids.

    `totals` are the per-instrument totals with `held` already added.
    """
    lean = await Lean.of(conn)
    await lean.many(INSERT_RESERVATION, [reservation_args(h) for h in held])
    touched = sorted({h.symbol for h in held})
    await lean.many(SAVE_TOTAL, [(s, *totals[s]) for s in touched])
    rows = [
        decision_args(s.decision, fingerprint=s.fingerprint, symbol=s.symbol, direction=s.direction)
        for s in stored
    ]
    await lean.many(_INSERT_DECISIONS, rows)
    if not stored:
        return {}
    ids = _list(lean, [s.decision.signal_id for s in stored])
    return {r[0]: int(r[1]) for r in await lean.rows(_IDS.on(lean), ids)}
