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

from db.decisions import INSERT_DECISION, decision_args, decision_from
from db.lean import Lean, Sql
from db.protections import SET_BUCKET
from db.reservations import INSERT_RESERVATION, SAVE_SUMS, SAVE_TOTAL, reservation_args
from db.rows import (
    ACCOUNT,
    BOOK,
    CLIENT_ID,
    DECISION,
    GUARD,
    INSTRUMENT,
    PROFILE,
    REALIZED,
    RESERVATION,
    RESERVATION_TOTAL,
    SIGNAL_DECISION,
    Guard,
    Joined,
)
from db.tables import accounts, risk_profiles
from db.upsert import insert_ignore
from domain.current import Totals, stored_sums
from domain.decisions import Decision
from domain.equity import AccountState
from domain.exposure import Reservation
from domain.instruments import Instrument
from domain.numbers import ZERO
from domain.positions import PositionBook
from domain.profile import DEFAULT_LIMITS, RiskProfile
from domain.protections import GuardState, RateBucket
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


_PROFILES = _InList(f"SELECT {PROFILE.sql('p')} FROM risk_profiles p WHERE p.client_id @IN")
_CLIENT_ACCOUNT = Joined(client=("a", CLIENT_ID), account=("a", ACCOUNT))
_ACCOUNTS = _InList(f"SELECT {_CLIENT_ACCOUNT.sql()} FROM accounts a WHERE a.client_id @IN")
_CLIENT_REALIZED = Joined(client=("cr", CLIENT_ID), realized=("cr", REALIZED))
_REALIZED = _InList(
    f"SELECT {_CLIENT_REALIZED.sql()} FROM client_daily_pnl cr"
    " WHERE cr.trading_day = ? AND cr.client_id @IN"
)
_PLATFORM_REALIZED = Sql(
    f"SELECT {REALIZED.sql('pr')} FROM platform_daily_pnl pr WHERE pr.trading_day = ?"
)
_CLIENT_BOOK = Joined(client=("p", CLIENT_ID), book=("p", BOOK))
_CLIENT_BOOKS = _InList(
    f"SELECT {_CLIENT_BOOK.sql()} FROM client_positions p"
    " WHERE p.open_count > 0 AND p.client_id @IN"
)
_PLATFORM_BOOKS = Sql(f"SELECT {BOOK.sql('p')} FROM instrument_positions p WHERE p.open_count > 0")
_INSTRUMENTS = Sql(f"SELECT {INSTRUMENT.sql('i')} FROM instruments i")
# The platform totals 'T', the batch's clients' live reservations 'C', every expired one
# 'X'. (Totals first: PostgreSQL types a UNION's columns pairwise from the left, and a column
# NULL in both of the first two branches would be taken for text.)
_HELD_PARTS = Joined(reservation=("r", RESERVATION), total=("t", RESERVATION_TOTAL))
_HELD = _InList(
    f"SELECT 'T', {_HELD_PARTS.sql(only=['total'])} FROM reservation_totals t"
    " WHERE t.count > 0"
    f" UNION ALL SELECT 'C', {_HELD_PARTS.sql(only=['reservation'])} FROM reservations r"
    " WHERE r.expires_at > ? AND r.client_id @IN"
    f" UNION ALL SELECT 'X', {_HELD_PARTS.sql(only=['reservation'])} FROM reservations r"
    " WHERE r.expires_at <= ?"
)
TAG = 0  # the tag column; the parts follow it
_PRIOR = _InList(f"SELECT {DECISION.sql('d')} FROM risk_decisions d WHERE d.signal_id @IN")
_IDS = _InList(f"SELECT {SIGNAL_DECISION.sql('d')} FROM risk_decisions d WHERE d.signal_id @IN")
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
            found.symbol: found for found in map(INSTRUMENT.decode, await lean.rows(_INSTRUMENTS))
        },
        platform_books=[BOOK.decode(r) for r in await lean.rows(_PLATFORM_BOOKS)],
        platform_realized=REALIZED.decode(row) if row is not None else ZERO,
    )
    state.profiles = await load_profiles(lean, client_ids)
    for r in await lean.rows(_ACCOUNTS.on(lean), clients):
        found = _CLIENT_ACCOUNT.decode(r)
        state.accounts[found["client"]] = found["account"]
    for r in await lean.rows(_REALIZED.on(lean), day, clients):
        found = _CLIENT_REALIZED.decode(r)
        state.realized[found["client"]] = found["realized"]
    for r in await lean.rows(_CLIENT_BOOKS.on(lean), clients):
        found = _CLIENT_BOOK.decode(r)
        state.books.setdefault(found["client"], []).append(found["book"])
    for r in await lean.rows(_HELD.on(lean), now, clients, now):
        held = _HELD_PARTS.decode(r, TAG + 1)
        kind = r[TAG]
        if kind == "T":
            symbol, count, volume, notional = held["total"]
            state.totals[symbol] = (count, volume, notional)
        elif kind == "C":
            reservation: Reservation = held["reservation"]
            state.reservations.setdefault(reservation.client_id, []).append(reservation)
        else:
            state.expired.append(held["reservation"])
    if with_prior:
        for r in await lean.rows(_PRIOR.on(lean), _list(lean, signal_ids)):
            stored = DECISION.decode(r)
            state.prior[stored["signal_id"]] = (decision_from(stored), stored["fingerprint"])
    return state


async def load_profiles(lean: Lean, client_ids: Sequence[str]) -> dict[str, RiskProfile]:
    rows = await lean.rows(_PROFILES.on(lean), _list(lean, client_ids))
    return {p.client_id: p for p in map(PROFILE.decode, rows)}


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
    """Insert the decisions and reservations, save the touched totals and the platform's
    sums; the new decision ids.

    `totals` are all the per-instrument totals, with `held` already added.
    """
    lean = await Lean.of(conn)
    await lean.many(INSERT_RESERVATION, [reservation_args(h) for h in held])
    touched = sorted({h.symbol for h in held})
    await lean.many(SAVE_TOTAL, [(s, *totals[s]) for s in touched])
    if held:
        await lean.run(SAVE_SUMS, *stored_sums(totals))
    rows = [
        decision_args(s.decision, fingerprint=s.fingerprint, symbol=s.symbol, direction=s.direction)
        for s in stored
    ]
    await lean.many(_INSERT_DECISIONS, rows)
    if not stored:
        return {}
    ids = _list(lean, [s.decision.signal_id for s in stored])
    return dict(map(SIGNAL_DECISION.decode, await lean.rows(_IDS.on(lean), ids)))


_CLIENT_GUARD = Joined(client=("g", CLIENT_ID), guard=("g", GUARD))
_GUARDS = _InList(f"SELECT {_CLIENT_GUARD.sql()} FROM client_guards g WHERE g.client_id @IN")
_CLIENT_WEEK = Joined(client=("w", CLIENT_ID), week=("w", REALIZED))
_WEEKS = _InList(
    f"SELECT {_CLIENT_WEEK.sql()} FROM client_weekly_pnl w"
    " WHERE w.trading_week = ? AND w.client_id @IN"
)
# The batch holds the platform lock, which every reserving check takes first, so nothing
# can have moved a bucket since it was read: the new tokens are set and the version bumped.
_SET_BUCKETS = Sql(SET_BUCKET)


async def load_guards(
    conn: AsyncConnection, client_ids: Sequence[str], week: date, now: datetime
) -> dict[str, GuardState]:
    """Every client's protection state as of `now`, in two statements for the whole batch."""
    lean = await Lean.of(conn)
    guards: dict[str, Guard] = {}
    for row in await lean.rows(_GUARDS.on(lean), _list(lean, client_ids)):
        found = _CLIENT_GUARD.decode(row)
        guards[found["client"]] = found["guard"]
    weeks: dict[str, Decimal] = {}
    for row in await lean.rows(_WEEKS.on(lean), week, _list(lean, client_ids)):
        found = _CLIENT_WEEK.decode(row)
        weeks[found["client"]] = found["week"]
    out: dict[str, GuardState] = {}
    for client_id in client_ids:
        guard = guards.get(client_id) or Guard()
        out[client_id] = guard.state(weeks.get(client_id, ZERO), now)
    return out


async def save_buckets(conn: AsyncConnection, buckets: dict[str, RateBucket]) -> None:
    """The signal-rate buckets the batch spent from, in one statement."""
    lean = await Lean.of(conn)
    await lean.many(
        _SET_BUCKETS, [(client, b.tokens, b.at) for client, b in sorted(buckets.items())]
    )
