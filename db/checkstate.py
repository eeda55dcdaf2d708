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

from db.books import CLIENT_BOOKS_FROM, PLATFORM_BOOKS_FROM
from db.catalog import get_instrument
from db.decisions import INSERT_DECISION, decision_args, insert_decision
from db.lean import Conn, Lean, Sql
from db.reservations import INSERT_RESERVATION, SAVE_TOTAL, Totals, reservation_args, total_with
from db.rows import (
    ACCOUNT,
    DECISION_KEY,
    HELD_BOOK,
    INSTRUMENT,
    PROFILE,
    REALIZED,
    RESERVATION,
    RESERVATION_TOTAL,
    Joined,
)
from domain.decisions import Decision
from domain.equity import AccountState
from domain.exposure import Reservation
from domain.instruments import Instrument
from domain.numbers import ZERO
from domain.positions import PositionBook
from domain.profile import RiskProfile

# The one-row facts, each part NULL when its row does not exist (yet).
_FACTS = Joined(
    prior=("d", DECISION_KEY),
    profile=("p", PROFILE),
    account=("a", ACCOUNT),
    client_realized=("cr", REALIZED),
    platform_realized=("pr", REALIZED),
    instrument=("i", INSTRUMENT),
)
_SCALARS = Sql(
    f"SELECT {_FACTS.sql()}"
    " FROM (SELECT 1 AS one) o"
    " LEFT JOIN risk_decisions d ON d.signal_id = ?"
    " LEFT JOIN risk_profiles p ON p.client_id = ?"
    " LEFT JOIN accounts a ON a.client_id = ?"
    " LEFT JOIN client_daily_pnl cr ON cr.client_id = ? AND cr.trading_day = ?"
    " LEFT JOIN platform_daily_pnl pr ON pr.trading_day = ?"
    " LEFT JOIN instruments i ON i.symbol = ?"
)
# Every row leads with a tag: client books 'C', platform books 'P'.
_BOOKS = Sql(
    f"SELECT 'C', {HELD_BOOK.sql()}{CLIENT_BOOKS_FROM}"
    f" UNION ALL SELECT 'P', {HELD_BOOK.sql()}{PLATFORM_BOOKS_FROM}"
)
# The platform totals 'T', the client's live reservations 'C', every expired one 'X'. (The
# totals come first: PostgreSQL types a UNION's columns pairwise from the left, and a column
# that is NULL in both of the first two branches would be taken for text.)
_HELD_PARTS = Joined(reservation=("r", RESERVATION), total=("t", RESERVATION_TOTAL))
_HELD = Sql(
    f"SELECT 'T', {_HELD_PARTS.sql(absent=['reservation'])} FROM reservation_totals t"
    " WHERE t.count > 0"
    f" UNION ALL SELECT 'C', {_HELD_PARTS.sql(absent=['total'])} FROM reservations r"
    " WHERE r.client_id = ? AND r.expires_at > ?"
    f" UNION ALL SELECT 'X', {_HELD_PARTS.sql(absent=['total'])} FROM reservations r"
    " WHERE r.expires_at <= ?"
)
TAG = 0  # the tag column; the parts follow it


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
    totals: Totals = field(default_factory=dict)


async def load_check_state(
    conn: Conn,
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
    facts = _FACTS.decode(row)
    state = CheckState(
        prior_decision=facts["prior"],
        profile=facts["profile"],
        account=facts["account"] or AccountState(),
        instrument=facts["instrument"],
        client_realized=facts["client_realized"] or ZERO,
        platform_realized=facts["platform_realized"] or ZERO,
    )
    for book_row in await lean.rows(_BOOKS, client_id):
        held_book = HELD_BOOK.decode(book_row, TAG + 1)
        instrument, book = held_book["instrument"], held_book["book"]
        if book_row[TAG] == "C":
            state.client_books.append(book)
            state.client_catalog[instrument.symbol] = instrument
        else:
            state.platform_books.append(book)
            state.platform_catalog[instrument.symbol] = instrument
    for held_row in await lean.rows(_HELD, client_id, now, now):
        held = _HELD_PARTS.decode(held_row, TAG + 1)
        kind = held_row[TAG]
        if kind == "T":
            symbol_held, count, volume, notional = held["total"]
            state.totals[symbol_held] = (count, volume, notional)
        elif kind == "C":
            state.client_reservations.append(held["reservation"])
        else:
            state.expired.append(held["reservation"])
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
    conn: Conn,
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
