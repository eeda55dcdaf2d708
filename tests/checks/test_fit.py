"""checkSignal with fit: each fittable check scales the volume down, no unfittable one does.

EURUSD at 1.0000: 0.10 lots are worth 10,000 and a stop 0.0100 away risks 100 per 0.10 lots
(1,000 per lot).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.support.client import GraphQLClient, assert_granted
from tests.support.databases import stored_rows
from tests.support.documents import EXPOSURE_FIELDS
from tests.support.events import (
    AT_PAR,
    deposit,
    open_trade,
    prepared_client,
    realize,
    set_mode,
    set_platform,
    set_profile,
)
from tests.support.signals import signal, violated

FIELDS = f"""
    signalId passes volume requestedVolume fittedBy notional decisionId
    violations {{ check limit current }} exposure {{ {EXPOSURE_FIELDS} }}
"""
DECISIONS = f"""
query Decisions($clientId: String) {{ riskDecisions(clientId: $clientId) {{ {FIELDS} }} }}
"""
CHECK_FIT = f"""
mutation Check($signal: SignalInput!, $dryRun: Boolean!, $fit: Boolean!) {{
  checkSignal(signal: $signal, dryRun: $dryRun, fit: $fit) {{ {FIELDS} }}
}}
"""
STOP = "0.9900"


async def fit_check(
    api: GraphQLClient, payload: dict[str, Any], *, fit: bool = True, dry_run: bool = False
) -> dict[str, Any]:
    variables = {"signal": payload, "dryRun": dry_run, "fit": fit}
    return dict((await api.ok(CHECK_FIT, variables))["checkSignal"])


Setup = Callable[[GraphQLClient], Awaitable[None]]


async def position_size(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", maxPositionSize="0.50")


async def platform_position_size(api: GraphQLClient) -> None:
    await prepared_client(api, "alice")
    await set_platform(api, maxPositionSize="0.30", maxInstrumentVolume="100")


async def daily_loss_at_stop(api: GraphQLClient) -> None:
    # 200 lost today; a cap of 500 leaves 300 at the stop: 0.30 lots.
    await prepared_client(api, "alice", maxDailyLoss="500")
    await realize(api, "loss", "alice", "-200", **AT_PAR)


async def drawdown_at_stop(api: GraphQLClient) -> None:
    # 10,000 of equity, 5 % allowed: 500 at the stop is 0.50 lots (exactly 5.00 %).
    await prepared_client(api, "alice", equity="10000", maxDrawdownPercent="5")


async def correlation(api: GraphQLClient) -> None:
    # 1 lot long (100,000); a SELL hedges until it over-hedges: |100,000 − x| ≤ 0.5 ·
    # (100,000 + x) allows x ≤ 300,000, that is 3.00 lots.
    await prepared_client(api, "alice", maxPositionSize="10", maxCorrelationExposure="0.50")
    await set_platform(api, maxTotalExposure="10000000")
    await open_trade(api, "long", "alice", "1.00", price="1.0000")


async def platform_exposure(api: GraphQLClient) -> None:
    await prepared_client(api, "alice")
    await set_platform(api, maxTotalExposure="30000")


async def instrument_concentration(api: GraphQLClient) -> None:
    await prepared_client(api, "alice")
    await prepared_client(api, "bob")
    await open_trade(api, "bob-1", "bob", "0.20", price="1.0000")
    await set_platform(api, maxInstrumentVolume="0.60")


FITTABLE: list[tuple[str, Setup, dict[str, Any], str]] = [
    ("MAX_POSITION_SIZE", position_size, {}, "0.50"),
    ("PLATFORM_POSITION_SIZE", platform_position_size, {}, "0.30"),
    ("MAX_DAILY_LOSS", daily_loss_at_stop, {"stop": STOP}, "0.30"),
    ("MAX_DRAWDOWN", drawdown_at_stop, {"stop": STOP}, "0.50"),
    ("CORRELATION_EXPOSURE", correlation, {"direction": "SELL", "volume": "5.00"}, "3.00"),
    ("PLATFORM_EXPOSURE", platform_exposure, {}, "0.30"),
    ("INSTRUMENT_CONCENTRATION", instrument_concentration, {}, "0.40"),
]


@pytest.mark.parametrize(
    ("check", "setup", "extra", "fitted"), FITTABLE, ids=[row[0] for row in FITTABLE]
)
async def test_each_fittable_check_scales_the_volume_down(
    api: GraphQLClient,
    database_url: str,
    check: str,
    setup: Setup,
    extra: dict[str, Any],
    fitted: str,
) -> None:
    await setup(api)
    requested = extra.get("volume", "0.80")
    payload = signal("s1", "alice", **{"volume": "0.80", **extra})

    refused = await fit_check(api, {**payload, "signalId": "plain"}, fit=False)
    assert not refused["passes"]
    assert violated(refused) == {check}
    assert refused["volume"] == requested
    assert refused["requestedVolume"] == requested
    assert refused["fittedBy"] == []

    probe = await fit_check(api, payload, dry_run=True)
    result = await fit_check(api, payload)
    for answer in (probe, result):
        assert answer["passes"], answer["violations"]
        assert answer["violations"] == []
        assert answer["volume"] == fitted
        assert answer["requestedVolume"] == requested
        assert answer["fittedBy"] == [check]
    assert probe["decisionId"] is None
    assert result["decisionId"] is not None

    # One lot step more fails the binding check.
    above = f"{float(fitted) + 0.01:.2f}"
    over = await fit_check(api, {**payload, "signalId": "over", "volume": above}, fit=False)
    assert check in violated(over)

    # The reservation holds the fitted volume, and the stored decision replays as answered.
    assert result["exposure"]["reservedPositionsCount"] == 1
    replay = await fit_check(api, payload)
    assert replay == result
    stored = (await api.ok(DECISIONS, {"clientId": "alice"}))["riskDecisions"]
    listed = [d for d in stored if d["signalId"] == "s1"]
    assert len(listed) == 1
    assert listed[0]["volume"] == fitted
    assert listed[0]["requestedVolume"] == requested
    assert listed[0]["fittedBy"] == [check]
    held, _ = await stored_rows(database_url)
    assert held == 1


async def halted(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", maxPositionSize="0.50")
    assert_granted(await set_mode(api, "HALTED", "alice"))


async def open_positions(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", maxPositionSize="0.50", maxOpenPositions=1)
    await open_trade(api, "t1", "alice", "0.10", price="1.0000")


async def platform_positions(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", maxPositionSize="0.50")
    await deposit(api, "bob", "1000")
    await open_trade(api, "t1", "bob", "0.10", price="1.0000")
    await set_platform(api, maxOpenPositions=1)


async def platform_daily_loss(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", maxPositionSize="0.50")
    await prepared_client(api, "bob")
    await realize(api, "loss", "bob", "-200", **AT_PAR)
    await set_platform(api, maxDailyLoss="100")


async def daily_loss_reached(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", maxPositionSize="0.50", maxDailyLoss="100")
    await realize(api, "loss", "alice", "-200", **AT_PAR)


async def drawdown_reached(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", equity="10000", maxPositionSize="0.50")
    await set_profile(api, "alice", maxDrawdownPercent="5")
    await realize(api, "loss", "alice", "-1000", **AT_PAR)


async def platform_exposure_full(api: GraphQLClient) -> None:
    # A fittable kind, but the cap is used up: no volume can pass.
    await prepared_client(api, "alice")
    await prepared_client(api, "bob")
    await open_trade(api, "t1", "bob", "0.30", price="1.0000")
    await set_platform(api, maxTotalExposure="30000")


async def under_hedge(api: GraphQLClient) -> None:
    # 0.20 lots SELL hedge too little (the window starts at 0.34); less hedges less.
    await correlation(api)


UNFITTABLE: list[tuple[str, Setup, dict[str, Any], set[str]]] = [
    ("TRADING_HALTED", halted, {}, {"TRADING_HALTED", "MAX_POSITION_SIZE"}),
    ("MAX_OPEN_POSITIONS", open_positions, {}, {"MAX_OPEN_POSITIONS", "MAX_POSITION_SIZE"}),
    ("PLATFORM_POSITIONS", platform_positions, {}, {"PLATFORM_POSITIONS", "MAX_POSITION_SIZE"}),
    (
        "PLATFORM_DAILY_LOSS",
        platform_daily_loss,
        {},
        {"PLATFORM_DAILY_LOSS", "MAX_POSITION_SIZE"},
    ),
    (
        "MAX_DAILY_LOSS reached",
        daily_loss_reached,
        {"stop": STOP},
        {"MAX_DAILY_LOSS", "MAX_POSITION_SIZE"},
    ),
    (
        "MAX_DRAWDOWN reached",
        drawdown_reached,
        {"stop": STOP},
        {"MAX_DRAWDOWN", "MAX_POSITION_SIZE"},
    ),
    ("PLATFORM_EXPOSURE used up", platform_exposure_full, {}, {"PLATFORM_EXPOSURE"}),
    (
        "CORRELATION_EXPOSURE under-hedge",
        under_hedge,
        {"direction": "SELL", "volume": "0.20"},
        {"CORRELATION_EXPOSURE"},
    ),
]


@pytest.mark.parametrize(
    ("name", "setup", "extra", "failing"), UNFITTABLE, ids=[row[0] for row in UNFITTABLE]
)
async def test_what_no_volume_can_satisfy_is_never_fitted(
    api: GraphQLClient,
    database_url: str,
    name: str,
    setup: Setup,
    extra: dict[str, Any],
    failing: set[str],
) -> None:
    await setup(api)
    payload = signal("s1", "alice", **{"volume": "0.80", **extra})
    requested = payload["volume"]
    plain = await fit_check(api, {**payload, "signalId": "plain"}, fit=False, dry_run=True)
    result = await fit_check(api, payload)
    assert not result["passes"]
    assert violated(result) == failing
    assert result["volume"] == requested
    assert result["requestedVolume"] == requested
    assert result["fittedBy"] == []
    # The violations are those at the requested volume, exactly as without fit.
    assert result["violations"] == plain["violations"]
    held, _ = await stored_rows(database_url)
    assert held == 0


async def test_a_passing_signal_is_unchanged_by_fit(api: GraphQLClient) -> None:
    await prepared_client(api, "alice")
    result = await fit_check(api, signal("s1", "alice", "0.40"))
    assert result["passes"]
    assert result["volume"] == result["requestedVolume"] == "0.40"
    assert result["fittedBy"] == []


async def test_a_sized_signal_reports_its_sized_volume_as_requested(api: GraphQLClient) -> None:
    # Sizing risks 2 % of 100,000 at the stop (2 lots), clamped to maxPositionSize 1.00;
    # the platform's exposure cap of 30,000 then fits it to 0.30.
    await prepared_client(api, "alice")
    await set_platform(api, maxTotalExposure="30000")
    result = await fit_check(api, signal("s1", "alice", None, stop=STOP))
    assert result["passes"]
    assert result["requestedVolume"] == "1.00"
    assert result["volume"] == "0.30"
    assert result["fittedBy"] == ["PLATFORM_EXPOSURE"]
