"""A batch decides exactly as the same signals checked one by one, in list order.

Each example builds the same random platform (limits, clients, profiles, open trades,
losses, earlier checks) in two fresh databases, sends the signals as one checkSignals to
the first and one checkSignal at a time to the second, and compares every answer and the
exposure left behind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.migrations import upgrade_to_head
from tests.checks.test_batch import batch, single
from tests.support.client import GraphQLClient, instance
from tests.support.databases import (
    SqliteTemplate,
    create_postgres_database,
    drop_postgres_database,
    reset_postgres,
    unavailable,
)
from tests.support.events import AT_PAR, deposit, open_trade, realize, set_platform, set_profile
from tests.support.reports import exposure, global_exposure

PRICES = {"EURUSD": "1.1000", "GBPUSD": "1.2500", "USDJPY": "150.00", "XAUUSD": "2000.00"}


def lots(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda k: f"{Decimal(k) / 100:.2f}")


@dataclass
class Client:
    client_id: str
    equity: str
    profile: dict[str, Any]
    trades: list[dict[str, Any]] = field(default_factory=list)
    loss: int = 0


@dataclass
class Scenario:
    platform: dict[str, Any]
    clients: list[Client]
    signals: list[dict[str, Any]]
    prior: int
    fit: bool


@st.composite
def clients(draw: st.DrawFn, index: int) -> Client:
    client_id = f"c{index}"
    profile: dict[str, Any] = {
        "maxPositionSize": draw(lots(10, 150)),
        "maxOpenPositions": draw(st.integers(1, 6)),
        "maxCorrelationExposure": draw(lots(30, 100)),
        "maxDrawdownPercent": str(draw(st.integers(1, 30))),
    }
    cap = draw(st.none() | st.integers(1, 30))
    if cap is not None:
        profile["maxDailyLoss"] = str(cap * 100)
    trades = [
        {
            "instrument": symbol,
            "direction": draw(st.sampled_from(["BUY", "SELL"])),
            "volume": draw(lots(1, 50)),
            "price": PRICES[symbol],
        }
        for symbol in draw(st.lists(st.sampled_from(sorted(PRICES)), max_size=2))
    ]
    equity = str(draw(st.integers(1, 100)) * 1000)
    return Client(client_id, equity, profile, trades, draw(st.integers(0, 500)))


@st.composite
def signals(draw: st.DrawFn, client_ids: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index in range(draw(st.integers(1, 12))):
        if out and draw(st.integers(0, 6)) == 0:
            out.append(dict(draw(st.sampled_from(out))))  # the same signal again
            continue
        symbol = draw(st.sampled_from(sorted(PRICES)))
        entry = Decimal(PRICES[symbol])
        direction = draw(st.sampled_from(["BUY", "SELL"]))
        payload: dict[str, Any] = {
            "signalId": f"s{index}",
            "clientId": draw(st.sampled_from(client_ids)),
            "instrument": symbol,
            "direction": direction,
            "entryPrice": str(entry),
        }
        sized = draw(st.integers(0, 4)) == 0
        if sized or draw(st.booleans()):
            away = Decimal("0.99") if direction == "BUY" else Decimal("1.01")
            payload["stopLoss"] = str(entry * away)
        if not sized:
            payload["volume"] = draw(lots(1, 150))
        out.append(payload)
    return out


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    platform: dict[str, Any] = {
        "maxOpenPositions": draw(st.integers(2, 20)),
        "maxTotalExposure": str(draw(st.integers(2, 60)) * 10_000),
        "maxPositionSize": draw(lots(20, 200)),
    }
    instrument_cap = draw(st.none() | lots(30, 300))
    if instrument_cap is not None:
        platform["maxInstrumentVolume"] = instrument_cap
    people = [draw(clients(i)) for i in range(draw(st.integers(1, 4)))]
    listed = draw(signals([c.client_id for c in people]))
    distinct = len({s["signalId"] for s in listed})
    return Scenario(
        platform, people, listed, draw(st.integers(0, min(2, distinct))), draw(st.booleans())
    )


async def build(api: GraphQLClient, scenario: Scenario) -> None:
    """The same starting state, call for call, in either database."""
    await set_platform(api, **scenario.platform)
    for c in scenario.clients:
        await deposit(api, c.client_id, c.equity)
        await set_profile(api, c.client_id, **c.profile)
        for n, trade in enumerate(c.trades):
            await open_trade(api, f"{c.client_id}-t{n}", c.client_id, **trade)
        if c.loss:
            await realize(api, f"{c.client_id}-loss", c.client_id, f"-{c.loss}", **AT_PAR)
    # Signals checked before the batch: the batch replays them.
    first: dict[str, dict[str, Any]] = {}
    for s in scenario.signals:
        first.setdefault(s["signalId"], s)
    for s in list(first.values())[: scenario.prior]:
        await single(api, s, fit=scenario.fit)


async def state_of(api: GraphQLClient, scenario: Scenario) -> list[Any]:
    views: list[Any] = [await global_exposure(api)]
    for c in scenario.clients:
        views.append(await exposure(api, c.client_id))
    return views


@pytest.fixture(scope="session")
async def second_postgres_url() -> AsyncIterator[str]:
    try:
        url = await create_postgres_database()
    except Exception as error:
        unavailable("PostgreSQL", error)
    await upgrade_to_head(url)
    yield url
    await drop_postgres_database(url)


Pair = Callable[[], Awaitable[tuple[str, str]]]


@pytest.fixture
def fresh_pair(
    backend: str, sqlite_template: SqliteTemplate, request: pytest.FixtureRequest
) -> Pair:
    """Two databases in the just-migrated state, fresh for each example."""
    if backend == "sqlite":

        async def sqlite_pair() -> tuple[str, str]:
            return sqlite_template.fresh(), sqlite_template.fresh()

        return sqlite_pair
    first = str(request.getfixturevalue("postgres_url"))
    second = str(request.getfixturevalue("second_postgres_url"))

    async def postgres_pair() -> tuple[str, str]:
        await reset_postgres(first)
        await reset_postgres(second)
        return first, second

    return postgres_pair


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
async def test_a_batch_decides_exactly_as_one_by_one_checks(
    fresh_pair: Pair, scenario: Scenario
) -> None:
    batch_url, single_url = await fresh_pair()
    async with instance(batch_url) as batched, instance(single_url) as one_by_one:
        await build(batched, scenario)
        await build(one_by_one, scenario)
        together = await batch(batched, scenario.signals, fit=scenario.fit)
        alone = [await single(one_by_one, s, fit=scenario.fit) for s in scenario.signals]
        assert len(together) == len(alone)
        for index, (mine, theirs) in enumerate(zip(together, alone, strict=True)):
            assert mine == theirs, f"signal {index} of {len(alone)}"
        assert await state_of(batched, scenario) == await state_of(one_by_one, scenario)
