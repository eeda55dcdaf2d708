"""Requests built from the served schema: a root field, every argument a variable.

Values are mostly plausible (seeded clients, catalog symbols, ids that exist, prices and volumes
on the 0.01 grid) so every operation is reached past its scalars; a drawn share of leaves is
swapped for a hostile value of the leaf's scalar kind.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from random import Random
from typing import Any

import graphql

from domain.access import ROLE_TABLE, Scope
from domain.instruments import DEFAULT_CATALOG
from schema.export import sdl
from tests.fuzz.hostile import BY_SCALAR, Hostile, enum_hostiles

CLIENTS = ("alice", "bob", "carol")
SYMBOLS = tuple(i.symbol for i in DEFAULT_CATALOG)
GROUPS = tuple(sorted({i.correlation_group for i in DEFAULT_CATALOG}))
ROLES = ("client", "service", "admin")
EVERYONE = frozenset(ROLES)
STAFF = frozenset({"service", "admin"})
ADMIN = frozenset({"admin"})

# Who may call each root field successfully: the service's own role table, by root field.
_SCOPE_ROLES = {Scope.ANYONE: EVERYONE, Scope.OWN: EVERYONE, Scope.STAFF: STAFF, Scope.ADMIN: ADMIN}
ALLOWED_ROLES: dict[str, frozenset[str]] = {}
for _name, _scope in ROLE_TABLE.items():
    _field = _name.split(".")[0]  # checkSignal.dryRun, setTradingMode.platform
    ALLOWED_ROLES[_field] = ALLOWED_ROLES.get(_field, frozenset()) | _SCOPE_ROLES[_scope]


@cache
def served_schema() -> graphql.GraphQLSchema:
    """The schema the app serves, as graphql-core types (the checked-in SDL equals it)."""
    return graphql.build_schema(sdl())


def root_fields() -> dict[str, tuple[str, graphql.GraphQLField]]:
    """Every query and mutation: name → (operation keyword, field)."""
    schema = served_schema()
    found: dict[str, tuple[str, graphql.GraphQLField]] = {}
    for keyword, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        assert root is not None
        for name, root_field in root.fields.items():
            found[name] = (keyword, root_field)
    return found


def selection(type_: graphql.GraphQLOutputType, depth: int = 0) -> str:
    """Every leaf of an output type, nested objects included (up to a depth)."""
    named = graphql.get_named_type(type_)
    if not isinstance(named, graphql.GraphQLObjectType):
        return ""
    parts = []
    for name, sub in named.fields.items():
        inner = graphql.get_named_type(sub.type)
        if isinstance(inner, graphql.GraphQLObjectType):
            if depth < 3:
                parts.append(f"{name} {selection(sub.type, depth + 1)}")
        else:
            parts.append(name)
    return "{ " + " ".join(parts) + " }"


@dataclass
class World:
    """What exists in the database so far: ids the generator can point at."""

    open_trades: list[tuple[str, str]] = field(default_factory=list)  # (tradeId, clientId)
    closed_trades: list[tuple[str, str]] = field(default_factory=list)
    early_closes: list[tuple[str, str]] = field(default_factory=list)  # closes awaiting opens
    signals: list[tuple[str, str]] = field(default_factory=list)  # reserved (signalId, clientId)
    flows: list[str] = field(default_factory=list)
    symbols: list[str] = field(default_factory=lambda: list(SYMBOLS))
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def fresh(self, prefix: str) -> str:
        return f"fz-{prefix}-{next(self.counter)}"


@dataclass(frozen=True)
class Caller:
    role: str | None  # None: no token at all
    sub: str


@dataclass
class Request:
    operation: str
    keyword: str
    document: str
    variables: dict[str, Any]  # leaves may be Hostile wrappers (see `unwrap`)
    caller: Caller

    @property
    def hostile(self) -> list[Hostile]:
        return list(_hostile_leaves(self.variables))

    @property
    def must_refuse(self) -> bool:
        return any(h.must_refuse for h in self.hostile)


def combine(requests: list[Request]) -> Request:
    """Several requests of one kind as aliased root fields of a single document, as one
    caller (the first one's): a refused field sits next to siblings that are still running."""
    keyword = requests[0].keyword
    declared, calls, variables = [], [], {}
    for i, request in enumerate(requests):
        assert request.keyword == keyword
        root_field = root_fields()[request.operation][1]
        arguments = []
        for name, value in request.variables.items():
            declared.append(f"$f{i}_{name}: {root_field.args[name].type}")
            arguments.append(f"{name}: $f{i}_{name}")
            variables[f"f{i}_{name}"] = value
        call = f"{request.operation}({', '.join(arguments)})" if arguments else request.operation
        calls.append(f"f{i}: {call} {selection(root_field.type)}")
    head = f"{keyword} Fuzz({', '.join(declared)})" if declared else keyword
    document = f"{head} {{ {' '.join(calls)} }}"
    operation = "+".join(r.operation for r in requests)
    return Request(operation, keyword, document, variables, requests[0].caller)


def _hostile_leaves(value: Any) -> Iterator[Hostile]:
    if isinstance(value, Hostile):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _hostile_leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _hostile_leaves(item)


def unwrap(value: Any) -> Any:
    """The wire value of a generated tree (Hostile wrappers removed)."""
    if isinstance(value, Hostile):
        return value.value
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def _now_iso(rng: Random) -> str:
    at = datetime.now(UTC) - timedelta(minutes=rng.randint(0, 24 * 60))
    if rng.random() < 0.5:
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return at.astimezone().replace(microsecond=0).isoformat()


def _grid(rng: Random, low: int, high: int, scale: int = 100) -> str:
    """A decimal low/scale..high/scale on the 1/scale grid, as a string."""
    return str(Decimal(rng.randint(low, high)) / scale)


# Plausible decimal ranges by input name, in cents (or the given scale).
DECIMAL_RANGES: dict[str, tuple[int, int, int]] = {
    "entryPrice": (5_000, 20_000, 10_000),
    "price": (5_000, 20_000, 10_000),
    "exitPrice": (5_000, 20_000, 10_000),
    "volume": (1, 100, 100),
    "amount": (-50_000, 5_000_000, 100),
    "pnl": (-50_000, 50_000, 100),
    "quoteToAccountRate": (50, 150, 100),
    "maxDrawdownPercent": (100, 10_000, 100),
    "maxDailyLoss": (10_000, 1_000_000, 100),
    "maxPositionSize": (1, 10_000, 100),
    "maxCorrelationExposure": (1, 100, 100),
    "riskPerTradePercent": (10, 1_000, 100),
    "maxTotalExposure": (100_000_000, 10_000_000_000, 100),
    "maxInstrumentVolume": (100, 100_000, 100),
    "contractSize": (100, 10_000_000, 100),
    "lotStep": (1, 1, 100),
    "minVolume": (1, 1, 100),
    "maxVolume": (100, 10_000, 100),
    "maxLeverage": (100, 100_000, 100),
    "maxWeeklyLoss": (10_000, 5_000_000, 100),
}
INT_RANGES: dict[str, tuple[int, int]] = {
    "limit": (1, 100),
    "maxOpenPositions": (1, 1000),
    "lossStreakLimit": (1, 100),
    "cooldownMinutes": (1, 10_080),
    "maxSignalsPerMinute": (1, 10_000),
}


class Builder:
    """Draws one request for a root field from the schema, the world and a hostility rate.

    Choices come from a seeded generator, not from Hypothesis draws: what exists in the
    database (the world) shapes the choices, and Hypothesis requires the same draws for the
    same choices; each example's seed is a Hypothesis draw.
    """

    def __init__(self, rng: Random, world: World, caller: Caller, hostility: int) -> None:
        self.rng = rng
        self.world = world
        self.caller = caller
        self.hostility = hostility  # per-mille chance that a leaf is hostile
        self.operation = ""

    def request(self, operation: str) -> Request:
        self.operation = operation
        keyword, root_field = root_fields()[operation]
        declared, arguments, variables = [], [], {}
        for name, argument in root_field.args.items():
            required = graphql.is_non_null_type(argument.type)
            if not required and not self._include(name):
                continue
            value = self.value(argument.type, name, required)
            declared.append(f"${name}: {argument.type}")
            arguments.append(f"{name}: ${name}")
            variables[name] = value
        self._fix_arguments(variables)
        head = f"{keyword} Fuzz({', '.join(declared)})" if declared else keyword
        call = f"{operation}({', '.join(arguments)})" if arguments else operation
        document = f"{head} {{ {call} {selection(root_field.type)} }}"
        return Request(operation, keyword, document, variables, self.caller)

    def _include(self, name: str) -> bool:
        chance = self.rng.randint(0, 9)
        if name == "clientId" and self.caller.role != "client":
            return chance > 0  # staff must name the client: leaving it out is a rare refusal
        return chance >= 5

    def value(self, type_: graphql.GraphQLInputType, name: str, required: bool) -> Any:
        if isinstance(type_, graphql.GraphQLNonNull):
            return self.value(type_.of_type, name, True)
        if not required and self.rng.randint(0, 29) == 0:
            return None  # an explicit null where one is allowed
        hostile = self.rng.randrange(1000) < self.hostility
        if isinstance(type_, graphql.GraphQLList):
            count = self.rng.randint(0, 3) if hostile else self.rng.randint(1, 3)
            return [self.value(type_.of_type, name, False) for _ in range(count)]
        if isinstance(type_, graphql.GraphQLInputObjectType):
            return self.input_object(type_)
        named = graphql.get_named_type(type_)
        if isinstance(named, graphql.GraphQLEnumType):
            choices = enum_hostiles(tuple(named.values))
        else:
            choices = BY_SCALAR[named.name]
        if hostile:
            return self.rng.choice(choices)
        return self.plausible(named, name)

    def input_object(self, type_: graphql.GraphQLInputObjectType) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, input_field in type_.fields.items():
            required = graphql.is_non_null_type(input_field.type)
            if required and input_field.default_value is graphql.Undefined:
                out[name] = self.value(input_field.type, name, True)
            elif self._include(name):
                out[name] = self.value(input_field.type, name, required)
        return self._fix_object(type_.name, out)

    def plausible(self, named: graphql.GraphQLNamedType, name: str) -> Any:
        rng = self.rng
        if isinstance(named, graphql.GraphQLEnumType):
            return rng.choice(tuple(named.values))
        kind = named.name
        if kind == "Boolean":
            return (name == "dryRun" and self.caller.role == "client") or rng.random() < 0.5
        if kind == "Int":
            low, high = INT_RANGES.get(name, (1, 100))
            return rng.randint(low, high)
        if kind == "DateTime":
            return _now_iso(rng)
        if kind == "Decimal":
            low, high, scale = DECIMAL_RANGES.get(name, (1, 100_000, 100))
            return _grid(rng, low, high, scale)
        return self.plausible_string(name)

    def plausible_string(self, name: str) -> str:
        rng, world = self.rng, self.world
        if name == "clientId":
            if self.caller.role == "client" and rng.randint(0, 9) > 0:
                return self.caller.sub
            return rng.choice(CLIENTS)
        if name in ("allowedInstruments", "blockedInstruments"):
            return rng.choice(world.symbols)
        if name == "instrument":
            symbol = rng.choice(world.symbols)
            return symbol.lower() if rng.randint(0, 9) == 0 else symbol
        if name == "symbol":
            return f"FZ{next(world.counter)}" if rng.random() < 0.5 else rng.choice(world.symbols)
        if name == "correlationGroup":
            return rng.choice(GROUPS)
        if name == "signalId":
            return self._existing_or_fresh(world.signals, "sig")
        if name == "tradeId":
            roll = rng.randint(0, 9)
            if self.operation == "recordTradeClosed" and world.open_trades and roll > 2:
                return rng.choice(world.open_trades)[0]
            if self.operation == "recordTradeOpened" and world.early_closes and roll == 3:
                return rng.choice(world.early_closes)[0]  # the open of a close seen earlier
            known = world.open_trades + world.closed_trades[-5:]
            if known and roll in (1, 2):
                return rng.choice(known)[0]  # a replay: the same event again, or a conflict
            return world.fresh("trade")  # an open, or a close that arrives before its open
        if name == "flowId":
            if world.flows and rng.randint(0, 4) == 0:
                return rng.choice(world.flows)  # a replay: same payload or a conflict
            return world.fresh("flow")
        if name == "reason":
            return rng.choice(("fuzz", "maintenance window", "ΔP spike"))
        return world.fresh(name)

    def _existing_or_fresh(self, pool: list[tuple[str, str]], prefix: str) -> str:
        if pool and self.rng.randint(0, 3) > 0:
            return self.rng.choice(pool)[0]
        return self.world.fresh(prefix)

    def _owner(self, pool: list[tuple[str, str]], key: str) -> str | None:
        return next((owner for k, owner in pool if k == key), None)

    def _fix_object(self, type_name: str, value: dict[str, Any]) -> dict[str, Any]:
        """Keep plausible cross-field relations: a close names its trade's client, etc."""
        world = self.world
        if type_name == "ClientCeilingsInput" and isinstance(value.get("cooldownMinutes"), int):
            # A low floor: clients' own updates must stay reachable with plausible values.
            value["cooldownMinutes"] = self.rng.randint(1, 30)
        if type_name == "TradeClosedInput" and isinstance(value.get("clientId"), str):
            owner = self._owner(world.open_trades + world.closed_trades, value["tradeId"])
            if owner:
                value["clientId"] = owner
        if type_name == "TradeOpenedInput" and isinstance(value.get("clientId"), str):
            owner = self._owner(world.early_closes, value["tradeId"])
            if owner:
                value["clientId"] = owner
        if type_name == "TradeOpenedInput" and isinstance(value.get("signalId"), str):
            owner = self._owner(world.signals, value["signalId"])
            if owner and isinstance(value.get("clientId"), str):
                value["clientId"] = owner
        if type_name == "SignalInput":
            if "volume" not in value and "stopLoss" not in value and self.rng.randint(0, 9):
                value["stopLoss"] = value.get("entryPrice")  # sizing needs a stop
            self._fix_stop(value)
        if type_name == "MarkPriceInput" and value.get("quoteToAccountRate") is None:
            value.pop("quoteToAccountRate", None)
        return value

    def _fix_arguments(self, variables: dict[str, Any]) -> None:
        if self.operation == "positionSize":
            self._fix_stop(variables)
        if self.operation == "checkSignals" and isinstance(variables.get("signals"), list):
            # One id twice in a list with other values fails the whole list (CONFLICT).
            ids: set[str] = set()
            distinct = []
            for signal in variables["signals"]:
                key = signal.get("signalId") if isinstance(signal, dict) else None
                if isinstance(key, str):
                    if key in ids:
                        continue
                    ids.add(key)
                distinct.append(signal)
            variables["signals"] = distinct
        if self.operation == "updateMarkPrices" and isinstance(variables.get("prices"), list):
            seen: set[str] = set()
            unique = []
            for mark in variables["prices"]:
                key = mark.get("instrument") if isinstance(mark, dict) else None
                if isinstance(key, str) and key.upper() in seen:
                    continue
                seen.add(key.upper() if isinstance(key, str) else repr(key))
                unique.append(mark)
            variables["prices"] = unique

    def _fix_stop(self, value: dict[str, Any]) -> None:
        """A plausible stop sits a little on the losing side of a plausible entry."""
        entry, stop = value.get("entryPrice"), value.get("stopLoss")
        if isinstance(entry, str) and isinstance(stop, str):
            offset = Decimal(self.rng.randint(10, 500)) / 10_000
            below = value.get("direction") != "SELL"
            value["stopLoss"] = str(Decimal(entry) - offset if below else Decimal(entry) + offset)


def draw_caller(rng: Random, operation: str, granted: Callable[[str, str], int]) -> Caller:
    """Mostly a role that may call the operation, favouring the one granted least so far;
    sometimes one that may not, or no token at all."""
    allowed = sorted(ALLOWED_ROLES[operation])
    role: str | None
    if rng.randint(0, 3) > 0:
        fewest = min(granted(operation, r) for r in allowed)
        role = rng.choice([r for r in allowed if granted(operation, r) == fewest])
    else:
        role = rng.choice((None, *ROLES))
    return caller_as(rng, role)


def caller_as(rng: Random, role: str | None) -> Caller:
    """A caller of `role` (a client is one of the seeded clients)."""
    if role == "client":
        return Caller("client", rng.choice(CLIENTS))
    return Caller(role, {"service": "approval-service", "admin": "ops", None: ""}[role])
