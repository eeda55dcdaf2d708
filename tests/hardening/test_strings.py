"""NUL characters and lone surrogates in any string input, and date-times that are not
exactly ISO 8601 with a zone: BAD_USER_INPUT naming the field, on SQLite and PostgreSQL
alike, with nothing stored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.hardening.helpers import inline, row_counts
from tests.support.client import GraphQLClient, Response
from tests.support.documents import CASH, OPEN
from tests.support.events import open_input

BAD_TEXT = {"lone surrogate": "ab\ud800c", "NUL": "ab\u0000c", "low surrogate": "\udfff"}

CHECK = """mutation($s: SignalInput!, $d: Boolean!) {
  checkSignal(signal: $s, dryRun: $d) { passes } }"""
MODE = (
    "mutation($c: String, $r: String!) { setTradingMode(clientId: $c, mode: HALTED, reason: $r) }"
)
INSTRUMENT = """mutation($i: InstrumentInput!) { upsertInstrument(input: $i) { symbol } }"""
CLOSE = """mutation($t: TradeClosedInput!) { recordTradeClosed(trade: $t) { tradeId } }"""
MARKS = "mutation($p: [MarkPriceInput!]!) { updateMarkPrices(prices: $p) }"
RELEASE = "mutation($id: String!) { releaseSignal(signalId: $id) }"
PROFILE = """mutation($c: String, $i: RiskProfileInput!) {
  updateRiskProfile(clientId: $c, input: $i) { id } }"""
POSITION = """query($c: String, $s: String!) {
  positionSize(clientId: $c, instrument: $s, entryPrice: "1.1", stopLoss: "1.0") { volume } }"""
HISTORY = "query($c: String) { exposureHistory(clientId: $c) { equity } }"

SIGNAL = {
    "signalId": "s-1",
    "clientId": "alice",
    "instrument": "EURUSD",
    "direction": "BUY",
    "entryPrice": "1.1",
    "volume": "0.10",
}
INSTRUMENT_INPUT = {"symbol": "NEWSYM", "correlationGroup": "FX", "contractSize": "100000"}


def cases(bad: str) -> list[tuple[str, str, dict[str, Any], str]]:
    """(name, document, variables, the field the error must name); every string input."""
    close = {"tradeId": bad, "clientId": "alice", "exitPrice": "1"}
    group = {**INSTRUMENT_INPUT, "correlationGroup": bad}
    return [
        ("reason", MODE, {"c": "alice", "r": bad}, "reason"),
        ("mode clientId", MODE, {"c": bad, "r": "drill"}, "clientId"),
        ("signalId", CHECK, {"s": {**SIGNAL, "signalId": bad}, "d": False}, "signalId"),
        ("signal clientId", CHECK, {"s": {**SIGNAL, "clientId": bad}, "d": True}, "clientId"),
        ("signal symbol", CHECK, {"s": {**SIGNAL, "instrument": bad}, "d": False}, "instrument"),
        ("tradeId", OPEN, {"trade": open_input(bad, "alice")}, "tradeId"),
        ("trade signalId", OPEN, {"trade": open_input("t-1", "alice", signalId=bad)}, "signalId"),
        ("trade clientId", OPEN, {"trade": open_input("t-1", bad)}, "clientId"),
        ("close tradeId", CLOSE, {"t": close}, "tradeId"),
        ("flowId", CASH, {"flow": {"flowId": bad, "clientId": "alice", "amount": "5"}}, "flowId"),
        ("symbol", INSTRUMENT, {"i": {**INSTRUMENT_INPUT, "symbol": bad}}, "symbol"),
        ("correlationGroup", INSTRUMENT, {"i": group}, "correlationGroup"),
        ("mark", MARKS, {"p": [{"instrument": bad, "price": "1"}]}, "prices[0].instrument"),
        ("release", RELEASE, {"id": bad}, "signalId"),
        ("profile clientId", PROFILE, {"c": bad, "i": {"maxOpenPositions": 3}}, "clientId"),
        ("position instrument", POSITION, {"c": "alice", "s": bad}, "instrument"),
        ("history clientId", HISTORY, {"c": bad}, "clientId"),
    ]  # fmt: skip


async def post(api: GraphQLClient, document: str, variables: dict[str, Any]) -> Response:
    """As an admin; the body as ASCII JSON, so lone surrogates travel as \\u escapes."""
    body = json.dumps({"query": document, "variables": variables})
    headers = {
        "authorization": f"Bearer {api.token('admin', 'ops')}",
        "content-type": "application/json",
    }
    reply = await api.http.post("/graphql", content=body, headers=headers)
    return Response(reply.status_code, reply.json())


async def assert_refused(
    api: GraphQLClient, document: str, variables: dict[str, Any], field: str, case: str
) -> None:
    reply = await post(api, document, variables)
    assert reply.status == 200, (case, reply.body)
    assert reply.errors, (case, reply.body)
    for error in reply.errors:
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (case, reply.body)
        assert error["extensions"].get("field") == field, (case, reply.body)
    assert not reply.data, (case, reply.body)


@pytest.mark.parametrize("kind", list(BAD_TEXT))
async def test_bad_text_in_any_string_input_is_refused_and_stores_nothing(
    api: GraphQLClient, database_url: str, kind: str
) -> None:
    before = await row_counts(database_url)
    for case, document, variables, field in cases(BAD_TEXT[kind]):
        await assert_refused(api, document, variables, field, f"{case} (variables)")
    assert await row_counts(database_url) == before


async def test_bad_text_written_inline_is_refused_and_stores_nothing(
    api: GraphQLClient, database_url: str
) -> None:
    before = await row_counts(database_url)
    for case, document, variables, field in cases("ab\u0000c"):
        written = inline(document, variables)
        await assert_refused(api, written, {}, field, f"{case} (inline)")
    assert await row_counts(database_url) == before
    # A lone surrogate cannot even be written inline: the document does not parse.
    reply = await post(api, 'mutation { setTradingMode(mode: HALTED, reason: "\\ud800") }', {})
    assert reply.codes == ["BAD_USER_INPUT"], reply.body


async def test_good_text_still_passes(api: GraphQLClient) -> None:
    # Non-ASCII text and a proper surrogate pair (an emoji) are fine.
    data = await api.ok(MODE, {"c": "alice", "r": "Prüfung 🚦 drill"}, role="admin")
    assert data == {"setTradingMode": "HALTED"}


BAD_DATES = [
    "2024-01-01T00:00:00Z\u0000",
    "2024-01-01T00:00:00Z ",
    " 2024-01-01T00:00:00Z",
    "2024-01-01 00:00:00Z",
    "2024-01-01T00:00:00",
    "2024-01-01",
    "20240101T000000Z",
    "2024-W01-1T00:00:00Z",
    "2024-01-01T00:00:00+0000",
    "2024-01-01T00:00:00.Z",
    "2024-01-01T24:00:00Z",
    "2024-02-30T00:00:00Z",
    "2024-01-01T00:00:00+25:00",
    "\u0662\u0660\u0662\u0664-01-01T00:00:00Z",
    "2024-01-01T00:00:00z",
]
GOOD_DATES = {
    "2024-01-01T00:00:00Z": "2024-01-01T00:00:00+00:00",
    "2024-01-01T01:30:00+01:30": "2024-01-01T00:00:00+00:00",
    "2024-01-01T00:00Z": "2024-01-01T00:00:00+00:00",
    "2024-01-01T00:00:00.123456789-00:00": "2024-01-01T00:00:00.123456+00:00",
}


async def test_date_times_must_be_exactly_iso_8601_with_a_zone(
    api: GraphQLClient, database_url: str
) -> None:
    before = await row_counts(database_url)
    for at in BAD_DATES:
        flow = {"flowId": "f-1", "clientId": "alice", "amount": "5", "occurredAt": at}
        await assert_refused(api, CASH, {"flow": flow}, "occurredAt", repr(at))
        trade = open_input("t-1", "alice", openedAt=at)
        await assert_refused(api, OPEN, {"trade": trade}, "openedAt", repr(at))
        inline = (
            'query { exposureHistory(clientId: "alice", since: ' + json.dumps(at) + ") { equity } }"
        )
        await assert_refused(api, inline, {}, "since", repr(at))
    assert await row_counts(database_url) == before
    for i, (at, stored) in enumerate(GOOD_DATES.items()):
        trade = open_input(f"t-{i}", "alice", openedAt=at)
        data = await api.ok(OPEN + "", {"trade": trade}, role="admin")
        assert data["recordTradeOpened"]["openedAt"] == stored, at
