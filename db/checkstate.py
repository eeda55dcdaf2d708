"""Everything a risk check reads, in one driver-level statement.

A check needs the client's profile, account, books, reservations, realized P&L of the day
and week and protection state, the platform's books, reservation totals and realized P&L,
the instrument, and any earlier decision for the signal. Asked one by one that is a dozen
round trips; here one UNION brings them: the one-row facts from a LEFT JOIN, then the
books of client and platform and the reservations (the client's live ones, the platform
totals, the expired ones).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from db.books import CLIENT_BOOKS_FROM, PLATFORM_BOOKS_FROM
from db.catalog import get_instrument
from db.decisions import INSERT_DECISION, decision_args, insert_decision, insert_decision_from
from db.failures import RetryTransaction, is_duplicate
from db.lean import Conn, Lean, Sql
from db.reservations import (
    INSERT_RESERVATION,
    SAVE_SUMS,
    SAVE_TOTAL,
    insert_reservation_from,
    reservation_args,
)
from db.rows import (
    ACCOUNT,
    BOOK,
    CLAIM_BASE,
    DECISION_KEY,
    GUARD,
    INSTRUMENT,
    PLATFORM,
    PROFILE,
    REALIZED,
    RESERVATION,
    RESERVATION_TOTAL,
    ClaimBase,
    Guard,
    Joined,
)
from domain.checks import ClaimRoom
from domain.current import Totals, stored_sums, totals_after
from domain.decisions import Decision
from domain.equity import AccountState
from domain.exposure import Reservation
from domain.instruments import Instrument
from domain.limits import PlatformLimits
from domain.numbers import ZERO
from domain.positions import PositionBook
from domain.profile import RiskProfile

# One statement reads it all, a row per fact, tagged: the one-row facts 'S' (each part
# NULL when its row does not exist yet), client books 'C' and platform books 'P' with their
# instruments, platform reservation totals 'T', the client's live reservations 'R' and
# every expired reservation 'X'. Nothing is locked: on PostgreSQL a check claims its
# platform capacity at the end (`claim_check`).
_FACTS = (
    "platform",
    "claim",
    "prior",
    "profile",
    "account",
    "client_realized",
    "client_week",
    "guard",
    "platform_realized",
    "instrument",
)
_PARTS = Joined(
    platform=("l", PLATFORM),
    claim=("l", CLAIM_BASE),
    prior=("d", DECISION_KEY),
    profile=("p", PROFILE),
    account=("a", ACCOUNT),
    client_realized=("cr", REALIZED),
    client_week=("cw", REALIZED),
    guard=("g", GUARD),
    platform_realized=("pr", REALIZED),
    instrument=("i", INSTRUMENT),
    # Books: the same aliases as the books module's queries (never in the facts' branch).
    book_instrument=("i", INSTRUMENT),
    book=("p", BOOK),
    reservation=("r", RESERVATION),
    total=("t", RESERVATION_TOTAL),
)
_BOOK = ("book_instrument", "book")
_STATE = Sql(
    f"SELECT 'S', {_PARTS.sql(only=_FACTS)}"
    " FROM platform_limits l"
    " LEFT JOIN risk_decisions d ON d.signal_id = ?"
    " LEFT JOIN risk_profiles p ON p.client_id = ?"
    " LEFT JOIN accounts a ON a.client_id = ?"
    " LEFT JOIN client_daily_pnl cr ON cr.client_id = ? AND cr.trading_day = ?"
    " LEFT JOIN client_weekly_pnl cw ON cw.client_id = ? AND cw.trading_week = ?"
    " LEFT JOIN client_guards g ON g.client_id = ?"
    " LEFT JOIN platform_daily_pnl pr ON pr.trading_day = ?"
    " LEFT JOIN instruments i ON i.symbol = ?"
    " WHERE l.id = 1"  # the platform row: the limits and what a claim is measured against
    f" UNION ALL SELECT 'C', {_PARTS.sql(only=_BOOK)}{CLIENT_BOOKS_FROM}"
    f" UNION ALL SELECT 'P', {_PARTS.sql(only=_BOOK)}{PLATFORM_BOOKS_FROM}"
    f" UNION ALL SELECT 'T', {_PARTS.sql(only=['total'])} FROM reservation_totals t"
    " WHERE t.count > 0"
    f" UNION ALL SELECT 'R', {_PARTS.sql(only=['reservation'])} FROM reservations r"
    " WHERE r.client_id = ? AND r.expires_at > ?"
    f" UNION ALL SELECT 'X', {_PARTS.sql(only=['reservation'])} FROM reservations r"
    " WHERE r.expires_at <= ?"
)
TAG = 0  # the tag column; the parts follow it


@dataclass
class CheckState:
    limits: PlatformLimits
    claim: ClaimBase
    prior_decision: tuple[int, str] | None
    profile: RiskProfile | None
    account: AccountState
    instrument: Instrument | None
    client_realized: Decimal
    platform_realized: Decimal
    # The protections' state: the week's realized P&L, loss streak and signal-rate bucket.
    client_week: Decimal = ZERO
    guard: Guard = field(default_factory=Guard)
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
    week: date,
    now: datetime,
) -> CheckState:
    lean = await Lean.of(conn)
    rows = await lean.rows(
        _STATE,
        signal_id,  # prior decision
        client_id,  # profile
        client_id,  # account
        client_id,  # realized today
        day,
        client_id,  # realized this week
        week,
        client_id,  # protection state
        day,  # platform realized today
        symbol,  # instrument
        client_id,  # client books
        client_id,  # live reservations
        now,
        now,  # expired reservations
    )
    facts = _PARTS.decode(next(r for r in rows if r[TAG] == "S"), TAG + 1)
    limits, _updated_at = facts["platform"]
    state = CheckState(
        limits=limits,
        claim=facts["claim"],
        prior_decision=facts["prior"],
        profile=facts["profile"],
        account=facts["account"] or AccountState(),
        instrument=facts["instrument"],
        client_realized=facts["client_realized"] or ZERO,
        platform_realized=facts["platform_realized"] or ZERO,
        client_week=facts["client_week"] or ZERO,
        guard=facts["guard"] or Guard(),
    )
    at = TAG + 1
    for row in rows:
        kind = row[TAG]
        if kind == "S":
            continue
        if kind in ("C", "P"):
            instrument = _PARTS.part("book_instrument", row, at)
            books, catalog = (
                (state.client_books, state.client_catalog)
                if kind == "C"
                else (state.platform_books, state.platform_catalog)
            )
            books.append(_PARTS.part("book", row, at))
            catalog[instrument.symbol] = instrument
        elif kind == "T":
            symbol_held, count, volume, notional = _PARTS.part("total", row, at)
            state.totals[symbol_held] = (count, volume, notional)
        elif kind == "R":
            state.client_reservations.append(_PARTS.part("reservation", row, at))
        else:
            state.expired.append(_PARTS.part("reservation", row, at))
    # A reservation may sit on an instrument nobody holds yet; its group still counts.
    missing = {r.symbol for r in state.client_reservations} - state.client_catalog.keys()
    for symbol in sorted(missing):
        held_on = state.platform_catalog.get(symbol) or await get_instrument(conn, symbol)
        if held_on is not None:
            state.client_catalog[symbol] = held_on
    return state


# Under the platform lock, PostgreSQL stores a passing check in one round trip.
_SAVE_PASSING = Sql(
    f"WITH r AS ({INSERT_RESERVATION.sqlite}), t AS ({SAVE_TOTAL.sqlite}),"
    f" s AS ({SAVE_SUMS.sqlite}) {INSERT_DECISION.sqlite}"
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
    """Store the decision and, when it passed, its reservation and the platform totals and
    sums (the platform lock is held: every total is as read)."""
    if held is None:
        return await insert_decision(
            conn, decision, fingerprint=fingerprint, symbol=symbol, direction=direction
        )
    lean = await Lean.of(conn)
    reserve = reservation_args(held)
    totals.update(totals_after(totals, [(held, 1)]))
    total = (held.symbol, *totals[held.symbol])
    sums = stored_sums(totals)
    record = decision_args(decision, fingerprint=fingerprint, symbol=symbol, direction=direction)
    if lean.is_pg:
        row = await lean.row(_SAVE_PASSING, *reserve, *total, *sums, *record)
    else:
        await lean.run(INSERT_RESERVATION, *reserve)
        await lean.run(SAVE_TOTAL, *total)
        await lean.run(SAVE_SUMS, *sums)
        row = await lean.row(INSERT_DECISION, *record)
    assert row is not None
    return int(row[0])


# PostgreSQL: a transaction-scoped advisory lock per client serializes the checks of one
# client (a client with no rows yet too); the first key names what the lock is for.
_CHECKS_OF_A_CLIENT = 0x52_47_43_4B


async def lock_client(lean: Lean, client_id: str) -> None:
    """Wait for, then hold to the commit, the lock of `client_id`'s checks (PostgreSQL; the
    unit's first statement, sent with its BEGIN). The keys are integers made here."""
    digest = hashlib.blake2b(client_id.encode(), digest_size=4).digest()
    key = int.from_bytes(digest, "big", signed=True)
    await lean.first(f"SELECT pg_advisory_xact_lock({_CHECKS_OF_A_CLIENT}, {key})")


# PostgreSQL, without the platform lock: a passing check claims its capacity and stores
# itself in this one statement. The platform row and the instrument's totals are updated
# (and so held to the commit) only if nothing took the platform lock since the check read
# (`writer_seq`) and the reservations other checks claimed meanwhile fit in the room its
# decision left; each condition is re-read on the newest row once a concurrent claim
# commits. Otherwise nothing is written and the check decides again.
_CLAIM = Sql(
    "WITH plat AS (UPDATE platform_limits SET reserved_count = reserved_count + 1,"
    " reserved_notional = reserved_notional + CAST(? AS NUMERIC)"
    " WHERE id = 1 AND writer_seq = ? AND reserved_count <= ? AND reserved_notional <= ?"
    " RETURNING id),"
    " tot AS (INSERT INTO reservation_totals AS t (symbol, count, volume, notional)"
    " SELECT CAST(? AS TEXT), 1, CAST(? AS NUMERIC), CAST(? AS NUMERIC) FROM plat"
    " ON CONFLICT (symbol) DO UPDATE SET count = t.count + 1,"
    " volume = t.volume + excluded.volume, notional = t.notional + excluded.notional"
    " WHERE t.volume <= ? RETURNING symbol),"
    f" res AS ({insert_reservation_from('tot')}),"
    f" dec AS ({insert_decision_from('tot')})"
    " SELECT EXISTS (SELECT 1 FROM plat), (SELECT id FROM dec)"
)


async def claim_check(
    lean: Lean,
    decision: Decision,
    *,
    fingerprint: str,
    direction: str,
    held: Reservation,
    room: ClaimRoom,
    base: ClaimBase,
    totals: Totals,
) -> int | None:
    """Claim a passing check's capacity and store it; its decision id, or None when the
    claim lost (nothing written: decide again on a fresh read)."""
    _, volume_read, _ = totals.get(held.symbol, (0, ZERO, ZERO))
    row = await lean.row(
        _CLAIM,
        held.notional,
        base.writer_seq,
        base.reserved_count + room.positions,
        base.reserved_notional + room.notional,
        held.symbol,
        held.volume,
        held.notional,
        volume_read + room.volume,
        *reservation_args(held),
        *decision_args(decision, fingerprint=fingerprint, symbol=held.symbol, direction=direction),
    )
    assert row is not None
    platform_claimed, decision_id = row
    if decision_id is not None:
        return int(decision_id)
    if platform_claimed:
        # The platform's room held but the instrument's did not: undo it all and go again.
        raise RetryTransaction()
    return None


async def save_unlocked(
    lean: Lean,
    decision: Decision,
    *,
    fingerprint: str,
    symbol: str,
    direction: str,
    held: Reservation | None,
    room: ClaimRoom | None,
    base: ClaimBase,
    totals: Totals,
) -> int | None:
    """PostgreSQL, without the platform lock: store a refused check, or claim a passing one's
    capacity (`room`) as it is stored; the decision id, or None when the claim lost.

    Nothing orders two checks of one signal id for different clients here: the one that
    stores second lost a race (RetryTransaction), and its retry answers as a replay would.
    """
    try:
        if held is None or room is None:
            return await insert_decision(
                lean, decision, fingerprint=fingerprint, symbol=symbol, direction=direction
            )
        return await claim_check(
            lean,
            decision,
            fingerprint=fingerprint,
            direction=direction,
            held=held,
            room=room,
            base=base,
            totals=totals,
        )
    except Exception as error:
        if is_duplicate(error):
            raise RetryTransaction() from error
        raise


# A client's exposure needs only its own rows: the account and today's realized P&L 'S',
# its books 'C' and its live reservations 'R', in one statement as well.
_CLIENT_FACTS = ("account", "client_realized")
_CLIENT_STATE = Sql(
    f"SELECT 'S', {_PARTS.sql(only=_CLIENT_FACTS)}"
    " FROM (SELECT 1 AS one) o"
    " LEFT JOIN accounts a ON a.client_id = ?"
    " LEFT JOIN client_daily_pnl cr ON cr.client_id = ? AND cr.trading_day = ?"
    f" UNION ALL SELECT 'C', {_PARTS.sql(only=_BOOK)}{CLIENT_BOOKS_FROM}"
    f" UNION ALL SELECT 'R', {_PARTS.sql(only=['reservation'])} FROM reservations r"
    " WHERE r.client_id = ? AND r.expires_at > ?"
)


@dataclass
class ClientState:
    account: AccountState
    realized: Decimal
    books: list[PositionBook] = field(default_factory=list)
    catalog: dict[str, Instrument] = field(default_factory=dict)
    reservations: list[Reservation] = field(default_factory=list)


async def load_client_state(conn: Conn, *, client_id: str, day: date, now: datetime) -> ClientState:
    """One client's account, realized P&L today, open books and live reservations."""
    lean = await Lean.of(conn)
    rows = await lean.rows(_CLIENT_STATE, client_id, client_id, day, client_id, client_id, now)
    facts = _PARTS.decode(next(r for r in rows if r[TAG] == "S"), TAG + 1)
    state = ClientState(facts["account"] or AccountState(), facts["client_realized"] or ZERO)
    at = TAG + 1
    for row in rows:
        kind = row[TAG]
        if kind == "C":
            instrument = _PARTS.part("book_instrument", row, at)
            state.books.append(_PARTS.part("book", row, at))
            state.catalog[instrument.symbol] = instrument
        elif kind == "R":
            state.reservations.append(_PARTS.part("reservation", row, at))
    return state
