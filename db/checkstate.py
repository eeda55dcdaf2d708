"""Everything a risk check reads, in three driver-level statements.

A check needs the client's profile, account, books, reservations and realized P&L, the
platform's books, reservation totals and realized P&L, the instrument, and any earlier
decision for the signal. Asked one by one that is a dozen round trips; here the scalar
rows come from one LEFT JOIN, the books of client and platform from one UNION, and the
reservations (the client's live ones, the platform totals, the expired ones) from another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from db.books import CLIENT_BOOKS_SQL, PLATFORM_BOOKS_SQL, book_from_row
from db.catalog import INSTRUMENT_SQL, INSTRUMENT_WIDTH, get_instrument, instrument_from_lean
from db.clients import PROFILE_SQL, account_from_row, profile_from_lean
from db.decisions import INSERT_DECISION, decision_args, insert_decision
from db.lean import Lean, Sql, dec
from db.reservations import (
    INSERT_RESERVATION,
    SAVE_TOTAL,
    Totals,
    reservation_args,
    reservation_from_lean,
    total_with,
)
from domain.decisions import Decision
from domain.equity import AccountState
from domain.exposure import Reservation
from domain.instruments import Instrument
from domain.numbers import ZERO
from domain.positions import PositionBook
from domain.profile import RiskProfile

_SCALARS = Sql(
    f"SELECT d.id, d.fingerprint, {PROFILE_SQL},"
    " a.balance, a.peak_equity, a.net_cash_flows, a.realized_pnl,"
    f" cr.realized, pr.realized, {INSTRUMENT_SQL}"
    " FROM (SELECT 1 AS one) o"
    " LEFT JOIN risk_decisions d ON d.signal_id = ?"
    " LEFT JOIN risk_profiles p ON p.client_id = ?"
    " LEFT JOIN accounts a ON a.client_id = ?"
    " LEFT JOIN client_daily_pnl cr ON cr.client_id = ? AND cr.trading_day = ?"
    " LEFT JOIN platform_daily_pnl pr ON pr.trading_day = ?"
    " LEFT JOIN instruments i ON i.symbol = ?"
)
# Client books tagged 'C', platform books 'P'.
_BOOKS = Sql(
    CLIENT_BOOKS_SQL.replace("SELECT ", "SELECT 'C', ", 1)
    + " UNION ALL "
    + PLATFORM_BOOKS_SQL.replace("SELECT ", "SELECT 'P', ", 1)
)
_RES = "signal_id, client_id, symbol, direction, volume, notional, expires_at"
_HELD = Sql(
    f"SELECT 'C', {_RES}, 0 FROM reservations WHERE client_id = ? AND expires_at > ?"
    f" UNION ALL SELECT 'X', {_RES}, 0 FROM reservations WHERE expires_at <= ?"
    " UNION ALL SELECT 'T', NULL, NULL, symbol, NULL, volume, notional, NULL, count"
    " FROM reservation_totals WHERE count > 0"
)


@dataclass
class CheckState:
    prior_decision: tuple[int, str] | None
    profile: RiskProfile | None
    account: AccountState
    instrument: Instrument | None
    client_realized: Decimal
    platform_realized: Decimal
    client_books: list[PositionBook] = field(default_factory=list)
    client_catalog: dict[str, Instrument] = field(default_factory=dict)
    platform_books: list[PositionBook] = field(default_factory=list)
    platform_catalog: dict[str, Instrument] = field(default_factory=dict)
    client_reservations: list[Reservation] = field(default_factory=list)
    expired: list[Reservation] = field(default_factory=list)
    # Per instrument: (count, volume, notional) over every reservation row, expired or not.
    totals: dict[str, tuple[int, Decimal, Decimal]] = field(default_factory=dict)


async def load_check_state(
    conn: AsyncConnection,
    *,
    signal_id: str,
    client_id: str,
    symbol: str,
    day: date,
    now: datetime,
) -> CheckState:
    lean = await Lean.of(conn)
    row = await lean.row(_SCALARS, signal_id, client_id, client_id, client_id, day, day, symbol)
    assert row is not None
    state = CheckState(
        prior_decision=(int(row[0]), row[1]) if row[0] is not None else None,
        profile=profile_from_lean(client_id, row[2:]) if row[2] is not None else None,
        account=account_from_row(row[11:15]) if row[11] is not None else AccountState(),
        instrument=instrument_from_lean(row[17:]) if row[17] is not None else None,
        client_realized=dec(row[15]) if row[15] is not None else ZERO,
        platform_realized=dec(row[16]) if row[16] is not None else ZERO,
    )
    for book_row in await lean.rows(_BOOKS, client_id):
        instrument = instrument_from_lean(book_row[1:])
        book = book_from_row(book_row, 1 + INSTRUMENT_WIDTH)
        if book_row[0] == "C":
            state.client_books.append(book)
            state.client_catalog[instrument.symbol] = instrument
        else:
            state.platform_books.append(book)
            state.platform_catalog[instrument.symbol] = instrument
    for held_row in await lean.rows(_HELD, client_id, now, now):
        kind = held_row[0]
        if kind == "T":
            state.totals[held_row[3]] = (int(held_row[8]), dec(held_row[5]), dec(held_row[6]))
        elif kind == "C":
            state.client_reservations.append(reservation_from_lean(held_row[1:8]))
        else:
            state.expired.append(reservation_from_lean(held_row[1:8]))
    # A reservation may sit on an instrument nobody holds yet; its group still counts.
    missing = {r.symbol for r in state.client_reservations} - state.client_catalog.keys()
    for symbol in sorted(missing):
        found = state.platform_catalog.get(symbol) or await get_instrument(conn, symbol)
        if found is not None:
            state.client_catalog[symbol] = found
    return state


# PostgreSQL stores a passing check in one round trip (the platform lock is held meanwhile).
_SAVE_PASSING = Sql(
    f"WITH r AS ({INSERT_RESERVATION.sqlite}), t AS ({SAVE_TOTAL.sqlite}) {INSERT_DECISION.sqlite}"
)


async def save_check(
    conn: AsyncConnection,
    decision: Decision,
    *,
    fingerprint: str,
    symbol: str,
    direction: str,
    held: Reservation | None,
    totals: Totals,
) -> int:
    """Store the decision and, when it passed, its reservation and the platform totals."""
    if held is None:
        return await insert_decision(
            conn, decision, fingerprint=fingerprint, symbol=symbol, direction=direction
        )
    lean = await Lean.of(conn)
    reserve = reservation_args(held)
    total = total_with(totals, held)
    record = decision_args(decision, fingerprint=fingerprint, symbol=symbol, direction=direction)
    if lean.is_pg:
        row = await lean.row(_SAVE_PASSING, *reserve, *total, *record)
    else:
        await lean.run(INSERT_RESERVATION, *reserve)
        await lean.run(SAVE_TOTAL, *total)
        row = await lean.row(INSERT_DECISION, *record)
    assert row is not None
    return int(row[0])
