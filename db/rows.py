"""Row shapes: the columns read for one kind of value, defined once for both paths.

A shape names columns of a table. Both the SQL select list of a driver-level statement
(`sql`) and the column list of a Core statement (`columns`) are derived from it, and a row
is decoded by column name (`decode`) with the decoder its column type calls for, whichever
path read it: drivers hand back exact-decimal text (SQLite) or NUMERIC, naive-UTC text or
aware timestamps, while Core has already applied `db.types` (decoding is idempotent).
Several shapes read side by side in one statement are a `Joined`, found by name too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import JSON, Boolean, Column, Integer, Table
from sqlalchemy.types import TypeEngine

from db.tables import (
    accounts,
    client_daily_pnl,
    client_positions,
    instruments,
    platform_limits,
    reservation_totals,
    reservations,
    risk_decisions,
    risk_profiles,
)
from db.types import ExactDecimal, UTCDateTime
from domain.equity import AccountState
from domain.exposure import Reservation
from domain.instruments import Instrument
from domain.limits import PlatformLimits
from domain.positions import PositionBook
from domain.profile import DEFAULT_LIMITS, ClientCeilings, RiskLimits, RiskProfile
from domain.values import Direction, TradingMode

T = TypeVar("T")
Values = dict[str, Any]


def dec(value: Any) -> Decimal:
    """A stored exact decimal (text on SQLite, NUMERIC on PostgreSQL)."""
    return value if isinstance(value, Decimal) else Decimal(value)


def ts(value: Any) -> datetime:
    """A stored timestamp as an aware UTC datetime."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    stored: datetime = value
    if stored.tzinfo is None:
        return stored.replace(tzinfo=UTC)
    return stored.astimezone(UTC)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _optional(decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def decoded(value: Any) -> Any:
        return None if value is None else decode(value)

    return decoded


def _decoder(kind: TypeEngine[Any]) -> Callable[[Any], Any]:
    if isinstance(kind, ExactDecimal):
        return _optional(dec)
    if isinstance(kind, UTCDateTime):
        return _optional(ts)
    if isinstance(kind, Boolean):
        return _optional(bool)
    if isinstance(kind, Integer):  # BigInteger too
        return _optional(int)
    if isinstance(kind, JSON):
        return _optional(_json)
    return _optional(lambda value: value)


class Shape(Generic[T]):
    """Columns of one table that make one value; the first must be NOT NULL in its table
    (a NULL there means an outer join found no row)."""

    __slots__ = ("_build", "_decoders", "names", "table", "width")

    def __init__(self, table: Table, names: Sequence[str], build: Callable[[Values], T]) -> None:
        self.table = table
        self.names = tuple(names)
        self.width = len(self.names)
        self._decoders = tuple(_decoder(table.c[name].type) for name in self.names)
        self._build = build

    def columns(self, table: Table | None = None) -> tuple[Column[Any], ...]:
        """The Core columns, of `table` when another table has the same ones."""
        source = self.table if table is None else table
        return tuple(source.c[name] for name in self.names)

    def sql(self, alias: str) -> str:
        """The select list for driver-level SQL, the table aliased `alias`."""
        return ", ".join(f"{alias}.{name}" for name in self.names)

    def values(self, row: Sequence[Any], at: int = 0) -> Values:
        cells = row[at : at + self.width]
        return {n: d(v) for n, d, v in zip(self.names, self._decoders, cells, strict=True)}

    def decode(self, row: Sequence[Any], at: int = 0) -> T:
        return self._build(self.values(row, at))

    def decode_optional(self, row: Sequence[Any], at: int = 0) -> T | None:
        return None if row[at] is None else self.decode(row, at)


class Joined:
    """Shapes side by side in one select list, each decoded by its part's name.

    Parts are `name=(alias, shape)`; a part may be left out of one branch of a UNION
    (`sql(absent=...)` selects NULLs in its place) and then decodes as None.
    """

    def __init__(self, **parts: tuple[str, Shape[Any]]) -> None:
        self._parts = parts
        self._at: dict[str, int] = {}
        at = 0
        for name, (_alias, shape) in parts.items():
            self._at[name] = at
            at += shape.width
        self.width = at

    def sql(self, *, absent: Sequence[str] = ()) -> str:
        return ", ".join(
            ", ".join(["NULL"] * shape.width) if name in absent else shape.sql(alias)
            for name, (alias, shape) in self._parts.items()
        )

    def columns(self, **tables: Table) -> tuple[Column[Any], ...]:
        """The Core columns; `tables` names another table for a part where needed."""
        out: list[Column[Any]] = []
        for name, (_alias, shape) in self._parts.items():
            out.extend(shape.columns(tables.get(name)))
        return tuple(out)

    def decode(self, row: Sequence[Any], at: int = 0) -> dict[str, Any]:
        return {
            name: shape.decode_optional(row, at + self._at[name])
            for name, (_alias, shape) in self._parts.items()
        }


# --- the shapes ---------------------------------------------------------------------------

INSTRUMENT = Shape(
    instruments,
    (
        "symbol",
        "correlation_group",
        "contract_size",
        "quote_to_account_rate",
        "lot_step",
        "min_volume",
        "max_volume",
        "mark_price",
    ),
    lambda v: Instrument(**v),
)

ACCOUNT = Shape(
    accounts,
    ("balance", "peak_equity", "net_cash_flows", "realized_pnl"),
    lambda v: AccountState(**v),
)

LIMIT_NAMES = tuple(asdict(DEFAULT_LIMITS))
LIMITS = Shape(risk_profiles, LIMIT_NAMES, lambda v: RiskLimits(**v))


def _profile(v: Values) -> RiskProfile:
    limits = RiskLimits(**{name: v[name] for name in LIMIT_NAMES})
    return RiskProfile(
        v["client_id"], limits, TradingMode(v["trading_mode"]), v["id"], v["updated_at"]
    )


PROFILE = Shape(
    risk_profiles, ("id", "client_id", "trading_mode", "updated_at", *LIMIT_NAMES), _profile
)

# One running book; the same columns on client_positions and instrument_positions.
BOOK = Shape(
    client_positions,
    ("symbol", "direction", "volume", "entry_value", "open_count"),
    lambda v: PositionBook(
        v["symbol"], Direction(v["direction"]), v["volume"], v["entry_value"], v["open_count"]
    ),
)

RESERVATION = Shape(
    reservations,
    ("signal_id", "client_id", "symbol", "direction", "volume", "notional", "expires_at"),
    lambda v: Reservation(**{**v, "direction": Direction(v["direction"])}),
)

# Per instrument: (count, volume, notional) over every reservation row, expired or not.
ReservationTotal = tuple[str, int, Decimal, Decimal]
RESERVATION_TOTAL: Shape[ReservationTotal] = Shape(
    reservation_totals,
    ("symbol", "count", "volume", "notional"),
    lambda v: (v["symbol"], v["count"], v["volume"], v["notional"]),
)

_CEILING_NAMES = tuple(asdict(ClientCeilings()))


def _platform(v: Values) -> tuple[PlatformLimits, datetime]:
    ceilings = ClientCeilings(**{name: v[f"ceiling_{name}"] for name in _CEILING_NAMES})
    limits = PlatformLimits(
        v["max_total_exposure"],
        v["max_open_positions"],
        v["max_position_size"],
        v["max_daily_loss"],
        v["max_instrument_volume"],
        TradingMode(v["trading_mode"]),
        ceilings,
    )
    return limits, v["updated_at"]


PLATFORM = Shape(
    platform_limits,
    (
        "max_total_exposure",
        "max_open_positions",
        "max_position_size",
        "max_daily_loss",
        "max_instrument_volume",
        "trading_mode",
        "updated_at",
        *(f"ceiling_{name}" for name in _CEILING_NAMES),
    ),
    _platform,
)

# A stored decision's identity: (id, fingerprint of the payload it answered).
DECISION_KEY: Shape[tuple[int, str]] = Shape(
    risk_decisions, ("id", "fingerprint"), lambda v: (v["id"], v["fingerprint"])
)

# The decision id stored for a signal: (signal id, decision id).
SIGNAL_DECISION: Shape[tuple[str, int]] = Shape(
    risk_decisions, ("signal_id", "id"), lambda v: (v["signal_id"], v["id"])
)

# A full stored decision, as values by name (the result JSON decoded).
DECISION: Shape[Values] = Shape(
    risk_decisions,
    (
        "id",
        "signal_id",
        "client_id",
        "fingerprint",
        "passes",
        "volume",
        "notional",
        "result",
        "checked_at",
        "reservation_expires_at",
        "requested_volume",
        "fitted_by",
    ),
    lambda v: v,
)

# Realized P&L of a trading day; the same column on client_daily_pnl and platform_daily_pnl.
REALIZED: Shape[Decimal] = Shape(client_daily_pnl, ("realized",), lambda v: v["realized"])

# A client id column (of accounts, or of another table keyed by client).
CLIENT_ID: Shape[str] = Shape(accounts, ("client_id",), lambda v: v["client_id"])

# An open book with the instrument it is on (marks included).
HELD_BOOK = Joined(instrument=("i", INSTRUMENT), book=("p", BOOK))
