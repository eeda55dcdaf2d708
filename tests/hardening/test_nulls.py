"""Explicit null in every input of every operation: refused as BAD_USER_INPUT naming the
field wherever null means nothing (nothing stored), accepted where it has a meaning."""

from __future__ import annotations

from typing import Any

import pytest

from tests.hardening.helpers import inline, row_counts
from tests.support.client import GraphQLClient

PROFILE = """mutation($i: RiskProfileInput!) {
  updateRiskProfile(clientId: "alice", input: $i) { maxDailyLoss maxOpenPositions } }"""
PLATFORM = """mutation($i: PlatformLimitsInput!) { updatePlatformLimits(input: $i) {
  maxInstrumentVolume clientCeilings { maxDailyLoss maxDrawdownPercent } } }"""
INSTRUMENT = "mutation($i: InstrumentInput!) { upsertInstrument(input: $i) { symbol } }"
CHECK = """mutation($s: SignalInput!, $d: Boolean!) {
  checkSignal(signal: $s, dryRun: $d) { passes volume } }"""
OPEN = "mutation($t: TradeOpenedInput!) { recordTradeOpened(trade: $t) { tradeId } }"
CLOSE = "mutation($t: TradeClosedInput!) { recordTradeClosed(trade: $t) { tradeId } }"
CASH = "mutation($f: CashFlowInput!) { recordCashFlow(flow: $f) { balance } }"
MARKS = "mutation($p: [MarkPriceInput!]!) { updateMarkPrices(prices: $p) }"
RELEASE = "mutation($id: String!) { releaseSignal(signalId: $id) }"
MODE = """mutation($c: String, $m: TradingMode!, $r: String!) {
  setTradingMode(clientId: $c, mode: $m, reason: $r) }"""
POSITION = """query($c: String, $s: String!, $e: Decimal!, $x: Decimal!) {
  positionSize(clientId: $c, instrument: $s, entryPrice: $e, stopLoss: $x) { volume } }"""
DECISIONS = "query($c: String, $l: Int!) { riskDecisions(clientId: $c, limit: $l) { signalId } }"
ALERTS = "query($c: String, $l: Int!) { breakerAlerts(clientId: $c, limit: $l) { id } }"
HISTORY = """query($c: String, $a: DateTime, $b: DateTime, $l: Int!) {
  exposureHistory(clientId: $c, since: $a, until: $b, limit: $l) { equity } }"""
RISK_PROFILE = "query($c: String) { riskProfile(clientId: $c) { clientId } }"
EXPOSURE = "query($c: String) { exposure(clientId: $c) { clientId } }"

LIMITS = ["maxDrawdownPercent", "maxPositionSize", "maxOpenPositions",
          "maxCorrelationExposure", "riskPerTradePercent"]  # fmt: skip
INSTRUMENT_INPUT = {"symbol": "NEWSYM", "correlationGroup": "FX", "contractSize": "100000",
                    "quoteToAccountRate": "1", "lotStep": "0.01", "minVolume": "0.01",
                    "maxVolume": "50"}  # fmt: skip
SIGNAL = {"signalId": "s-1", "clientId": "alice", "instrument": "EURUSD", "direction": "BUY",
          "entryPrice": "1.1", "volume": "0.10", "stopLoss": "1.0"}  # fmt: skip
TRADE = {"tradeId": "t-1", "clientId": "alice", "instrument": "EURUSD", "direction": "BUY",
         "volume": "0.10", "entryPrice": "1.1"}  # fmt: skip
CLOSED = {"tradeId": "t-1", "clientId": "alice", "exitPrice": "1.2"}
FLOW = {"flowId": "f-1", "clientId": "alice", "amount": "100"}
MARK = {"instrument": "EURUSD", "price": "1.1"}
SIZE = {"c": "alice", "s": "EURUSD", "e": "1.1", "x": "1.0"}


def without(values: dict[str, Any], name: str) -> dict[str, Any]:
    return {**values, name: None}


def refused_cases() -> list[tuple[str, dict[str, Any], str]]:
    """(document, variables with one explicit null, the field the error must name)."""
    cases: list[tuple[str, dict[str, Any], str]] = []
    cases += [(PROFILE, {"i": {name: None}}, name) for name in LIMITS]
    cases += [
        (PLATFORM, {"i": {name: None}}, name)
        for name in ("maxTotalExposure", "maxOpenPositions", "maxPositionSize", "maxDailyLoss")
    ]
    cases += [(PLATFORM, {"i": {"clientCeilings": None}}, "clientCeilings")]
    cases += [
        (PLATFORM, {"i": {"clientCeilings": {name: None}}}, f"clientCeilings.{name}")
        for name in LIMITS
    ]
    cases += [(INSTRUMENT, {"i": without(INSTRUMENT_INPUT, n)}, n) for n in INSTRUMENT_INPUT]
    cases += [
        (CHECK, {"s": without(SIGNAL, n), "d": False}, n)
        for n in ("signalId", "instrument", "direction", "entryPrice")
    ]
    cases += [(CHECK, {"s": SIGNAL, "d": None}, "dryRun")]
    cases += [(OPEN, {"t": without(TRADE, n)}, n) for n in TRADE]
    cases += [(CLOSE, {"t": without(CLOSED, n)}, n) for n in CLOSED]
    cases += [(CASH, {"f": without(FLOW, n)}, n) for n in FLOW]
    cases += [(MARKS, {"p": [without(MARK, n)]}, f"prices[0].{n}") for n in MARK]
    cases += [(MARKS, {"p": None}, "prices"), (RELEASE, {"id": None}, "signalId")]
    cases += [
        (MODE, {"c": "alice", "m": None, "r": "drill"}, "mode"),
        (MODE, {"c": "alice", "m": "HALTED", "r": None}, "reason"),
    ]
    cases += [(POSITION, {**SIZE, k: None}, f) for k, f in
              (("s", "instrument"), ("e", "entryPrice"), ("x", "stopLoss"))]  # fmt: skip
    cases += [
        (DECISIONS, {"c": "alice", "l": None}, "limit"),
        (ALERTS, {"c": "alice", "l": None}, "limit"),
        (HISTORY, {"c": "alice", "a": None, "b": None, "l": None}, "limit"),
    ]
    return cases


async def assert_refused(
    api: GraphQLClient, document: str, variables: dict[str, Any], field: str
) -> None:
    reply = await api.post(document, variables, role="admin")
    case = (document[:60], variables)
    assert reply.errors, (case, reply.body)
    for error in reply.errors:
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (case, reply.body)
        assert error["extensions"].get("field") == field, (case, reply.body)
    assert not reply.data, (case, reply.body)


@pytest.mark.parametrize("form", ["variables", "inline"])
async def test_explicit_null_where_it_means_nothing_is_refused(
    api: GraphQLClient, database_url: str, form: str
) -> None:
    before = await row_counts(database_url)
    for document, variables, field in refused_cases():
        if form == "inline":
            await assert_refused(api, inline(document, variables), {}, field)
        else:
            await assert_refused(api, document, variables, field)
    assert await row_counts(database_url) == before


async def test_explicit_null_where_it_has_a_meaning_is_accepted(api: GraphQLClient) -> None:
    # A daily-loss limit, a daily-loss ceiling and the instrument cap may be cleared.
    data = await api.ok(PROFILE, {"i": {"maxDailyLoss": "500"}}, role="admin")
    assert data["updateRiskProfile"]["maxDailyLoss"] == "500.00"
    data = await api.ok(PROFILE, {"i": {"maxDailyLoss": None}}, role="admin")
    assert data["updateRiskProfile"] == {"maxDailyLoss": None, "maxOpenPositions": 5}
    ceilings = {"maxDailyLoss": "900", "maxDrawdownPercent": "50"}
    await api.ok(
        PLATFORM, {"i": {"clientCeilings": ceilings, "maxInstrumentVolume": "10"}}, role="admin"
    )
    data = await api.ok(
        PLATFORM,
        {"i": {"clientCeilings": {"maxDailyLoss": None}, "maxInstrumentVolume": None}},
        role="admin",
    )
    assert data["updatePlatformLimits"] == {
        "maxInstrumentVolume": "500.00",  # back to following the platform position size
        "clientCeilings": {"maxDailyLoss": None, "maxDrawdownPercent": "50.00"},
    }
    # Optional inputs given as null behave as if left out.
    await api.ok(CASH, {"f": {**FLOW, "occurredAt": None}}, role="service")
    await api.ok(MARKS, {"p": [{**MARK, "quoteToAccountRate": None}]}, role="service")
    trade = {**TRADE, "signalId": None, "stopLoss": None, "openedAt": None}
    await api.ok(OPEN, {"t": trade}, role="service")
    await api.ok(CLOSE, {"t": {**CLOSED, "closedAt": None, "pnl": None}}, role="service")
    for empty in ({"clientId": None, "volume": None}, {"clientId": None, "stopLoss": None}):
        await api.ok(CHECK, {"s": {**SIGNAL, **empty}, "d": True}, role="client")
    await api.ok(POSITION, {**SIZE, "c": None}, role="client")
    for document in (DECISIONS, ALERTS):
        await api.ok(document, {"c": None, "l": 5}, role="client")
    await api.ok(HISTORY, {"c": None, "a": None, "b": None, "l": 5}, role="client")
    await api.ok(RISK_PROFILE, {"c": None}, role="client")
    await api.ok(EXPOSURE, {"c": None}, role="client")
    # No client: the platform's own mode.
    data = await api.ok(MODE, {"c": None, "m": "ACTIVE", "r": "drill"}, role="admin")
    assert data == {"setTradingMode": "ACTIVE"}
