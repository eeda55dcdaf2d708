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
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import JSON, BigInteger, Boolean, Column, Integer, Table
from sqlalchemy.types import TypeEngine

from db.tables import (
    accounts,
    client_daily_pnl,
    client_guards,
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
from domain.protections import (
    PROTECTION_NAMES,
    GuardState,
    LossStreak,
    Protections,
    RateBucket,
)
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


def _decoder(kind: TypeEngine[Any]) -> Callable[[Any], Any] | None:
    """How a non-NULL cell of this column type is decoded; None: the driver's value is it."""
    if isinstance(kind, ExactDecimal):
        return dec
    if isinstance(kind, UTCDateTime):
        return ts
    if isinstance(kind, Boolean):
        return bool
    if isinstance(kind, Integer):  # BigInteger too
        return int
    if isinstance(kind, JSON):
        return _json
    return None


def _sql_type(kind: TypeEngine[Any]) -> str:
    """The type a typed NULL takes in a UNION branch (PostgreSQL types UNION columns from
    their branches; SQLite accepts any type name in a CAST)."""
    if isinstance(kind, ExactDecimal):
        return "NUMERIC"
    if isinstance(kind, UTCDateTime):
        return "TIMESTAMPTZ"
    if isinstance(kind, Boolean):
        return "BOOLEAN"
    if isinstance(kind, BigInteger):
        return "BIGINT"
    if isinstance(kind, Integer):
        return "INTEGER"
    if isinstance(kind, JSON):
        return "JSON"
    return "TEXT"


_MEMO_SIZE = 4096  # distinct rows kept per memoized shape
_EXACT_KEYS = (str, int, type(None))  # cells that equal only what they spell (SQLite's)


class Shape(Generic[T]):
    """Columns of one table that make one value; the first must be NOT NULL in its table
    (a NULL there means an outer join found no row)."""

    __slots__ = ("_build", "_decoders", "_memo", "_nulls", "names", "table", "width")

    def __init__(
        self,
        table: Table,
        names: Sequence[str],
        build: Callable[[Values], T],
        *,
        memo: bool = False,
    ) -> None:
        self.table = table
        self.names = tuple(names)
        self.width = len(self.names)
        self._decoders = tuple(_decoder(table.c[name].type) for name in self.names)
        # `memo`: the value is immutable and its row rarely changes (an instrument, a profile,
        # the platform limits), so each distinct row is decoded once and the value shared.
        if memo and any(isinstance(table.c[n].type, JSON) for n in self.names):
            raise ValueError("a row holding JSON cannot key a memo")
        self._memo: dict[tuple[Any, ...], T] | None = {} if memo else None
        self._nulls = ", ".join(
            f"CAST(NULL AS {_sql_type(table.c[name].type)})" for name in self.names
        )
        self._build = build

    def columns(self, table: Table | None = None) -> tuple[Column[Any], ...]:
        """The Core columns, of `table` when another table has the same ones."""
        source = self.table if table is None else table
        return tuple(source.c[name] for name in self.names)

    def sql(self, alias: str) -> str:
        """The select list for driver-level SQL, the table aliased `alias`."""
        return ", ".join(f"{alias}.{name}" for name in self.names)

    def nulls(self) -> str:
        """A select list of typed NULLs in place of this shape (a UNION branch without it)."""
        return self._nulls

    def values(self, row: Sequence[Any], at: int = 0) -> Values:
        # The hot paths decode thousands of cells a second: one pass, no call for NULLs or
        # for cells the driver already gave as they are.
        cells = row[at : at + self.width]
        return {
            n: v if v is None or d is None else d(v)
            for n, d, v in zip(self.names, self._decoders, cells, strict=True)
        }

    def decode(self, row: Sequence[Any], at: int = 0) -> T:
        if self._memo is None:
            return self._build(self.values(row, at))
        cells = tuple(row[at : at + self.width])
        if not all(type(cell) in _EXACT_KEYS for cell in cells):
            # Decimal("1.0850") == Decimal("1.085"): a memo keyed by decoded numbers could
            # hand back a price with another scale than the one stored.
            return self._build(self.values(cells))
        found = self._memo.get(cells)
        if found is None:
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            found = self._memo[cells] = self._build(self.values(cells))
        return found

    def decode_optional(self, row: Sequence[Any], at: int = 0) -> T | None:
        return None if row[at] is None else self.decode(row, at)


class Joined:
    """Shapes side by side in one select list, each decoded by its part's name.

    Parts are `name=(alias, shape)`; a part may be left out of a branch of a UNION
    (`sql(only=...)` selects typed NULLs in place of the other parts), and then decodes as
    None. Parts never present in the same branch may share an alias.
    """

    def __init__(self, **parts: tuple[str, Shape[Any]]) -> None:
        self._parts = parts
        self._at: dict[str, int] = {}
        at = 0
        for name, (_alias, shape) in parts.items():
            self._at[name] = at
            at += shape.width
        self.width = at

    def sql(self, *, only: Sequence[str] | None = None) -> str:
        return ", ".join(
            shape.sql(alias) if only is None or name in only else shape.nulls()
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

    def part(self, name: str, row: Sequence[Any], at: int = 0) -> Any:
        """One part of a row (a UNION branch that selects only it need not decode the rest)."""
        return self._parts[name][1].decode(row, at + self._at[name])


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
    memo=True,
)

ACCOUNT = Shape(
    accounts,
    ("balance", "peak_equity", "net_cash_flows", "realized_pnl"),
    lambda v: AccountState(**v),
)

LIMIT_NAMES = tuple(asdict(DEFAULT_LIMITS))
LIMITS = Shape(risk_profiles, LIMIT_NAMES, lambda v: RiskLimits(**v))


# Protection settings, on risk_profiles as they are and on platform_limits as `ceiling_*`.
# cooldown_minutes comes first: it is NOT NULL, so a NULL there means no profile row.
PROTECTION_COLUMNS = ("cooldown_minutes", *(n for n in PROTECTION_NAMES if n != "cooldown_minutes"))
_SYMBOL_LISTS = ("allowed_instruments", "blocked_instruments")


def _encode_symbols(symbols: Sequence[str] | None) -> str | None:
    """Symbols never hold a comma, so a list is stored as one text value."""
    return None if symbols is None else ",".join(symbols)


def _decode_symbols(raw: str | None) -> tuple[str, ...] | None:
    return None if raw is None else tuple(s for s in raw.split(",") if s)


def _protections(v: Values, prefix: str = "") -> Protections:
    def get(name: str) -> Any:
        return v[prefix + name]

    return Protections(
        max_leverage=get("max_leverage"),
        max_weekly_loss=get("max_weekly_loss"),
        loss_streak_limit=get("loss_streak_limit"),
        cooldown_minutes=get("cooldown_minutes"),
        max_signals_per_minute=get("max_signals_per_minute"),
        allowed_instruments=_decode_symbols(get("allowed_instruments")),
        blocked_instruments=_decode_symbols(get("blocked_instruments")) or (),
        stop_out_on_breach=get("stop_out_on_breach"),
    )


def protection_values(protections: Protections, *, prefix: str = "") -> Values:
    """Column values of a Protections value, ready for an INSERT or UPDATE (written next to
    the decoder so that the list encoding lives in one place)."""
    out: Values = {}
    for name in PROTECTION_COLUMNS:
        value = getattr(protections, name)
        out[prefix + name] = _encode_symbols(value) if name in _SYMBOL_LISTS else value
    return out


PROTECTIONS = Shape(risk_profiles, PROTECTION_COLUMNS, _protections)


def _profile(v: Values) -> RiskProfile:
    limits = RiskLimits(**{name: v[name] for name in LIMIT_NAMES})
    return RiskProfile(
        v["client_id"],
        limits,
        TradingMode(v["trading_mode"]),
        v["id"],
        v["updated_at"],
        _protections(v),
    )


PROFILE = Shape(
    risk_profiles,
    ("id", "client_id", "trading_mode", "updated_at", *LIMIT_NAMES, *PROTECTION_COLUMNS),
    _profile,
    memo=True,
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

_CEILING_NAMES = tuple(name for name in asdict(ClientCeilings()) if name != "protections")


def _platform(v: Values) -> tuple[PlatformLimits, datetime]:
    ceilings = ClientCeilings(
        **{name: v[f"ceiling_{name}"] for name in _CEILING_NAMES},
        protections=_protections(v, "ceiling_"),
    )
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
        *(f"ceiling_{name}" for name in PROTECTION_COLUMNS),
    ),
    _platform,
    memo=True,
)


@dataclass(frozen=True, slots=True)
class ClaimBase:
    """The platform row as a check read it: the writer sequence and the reserved sums its
    claim is measured against."""

    writer_seq: int
    reserved_count: int
    reserved_notional: Decimal


CLAIM_BASE = Shape(
    platform_limits,
    ("writer_seq", "reserved_count", "reserved_notional"),
    lambda v: ClaimBase(**v),
)


def typed_params(table: Table, names: Sequence[str]) -> str:
    """Placeholders typed as the columns are, for an INSERT ... SELECT (PostgreSQL types the
    parameters of a VALUES list from its target, but not those of a SELECT list)."""
    return ", ".join(f"CAST(? AS {_sql_type(table.c[name].type)})" for name in names)


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

# Realized P&L of a trading day or week; the same column on client_daily_pnl,
# platform_daily_pnl and client_weekly_pnl.
REALIZED: Shape[Decimal] = Shape(client_daily_pnl, ("realized",), lambda v: v["realized"])

# A client id column (of accounts, or of another table keyed by client).
CLIENT_ID: Shape[str] = Shape(accounts, ("client_id",), lambda v: v["client_id"])


# A client's loss streak (kept by closes); the columns of client_guards it is made of.
def _streak(v: Values) -> LossStreak:
    return LossStreak(v["loss_streak"], v["last_loss_at"], v["last_close_at"], v["last_win_at"])


STREAK = Shape(
    client_guards, ("loss_streak", "last_loss_at", "last_close_at", "last_win_at"), _streak
)


NO_STREAK = LossStreak()


@dataclass(frozen=True, slots=True)
class Guard:
    """A client's protection state: the loss streak, the signal-rate bucket (None: never
    spent from) and the bucket's version (its saves are a compare-and-set on it)."""

    streak: LossStreak = NO_STREAK
    bucket: RateBucket | None = None
    rate_seq: int = 0

    def state(self, realized_week: Decimal, now: datetime) -> GuardState:
        """What the protection checks read, as of `now`."""
        return GuardState(
            now=now, realized_week=realized_week, streak=self.streak, bucket=self.bucket
        )


def _guard(v: Values) -> Guard:
    bucket = None
    if v["rate_tokens"] is not None and v["rate_at"] is not None:
        bucket = RateBucket(v["rate_tokens"], v["rate_at"])
    return Guard(_streak(v), bucket, v["rate_seq"])


GUARD = Shape(client_guards, (*STREAK.names, "rate_tokens", "rate_at", "rate_seq"), _guard)

# An open book with the instrument it is on (marks included).
HELD_BOOK = Joined(instrument=("i", INSTRUMENT), book=("p", BOOK))
