"""The GraphQL documents each figure sends, as fixed documents with variables.

Clients of the service send fixed documents, so the server's parser and validation caches
hit; only the variables change. Requests are rendered from pre-encoded templates.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.http import GraphQLRequest
from bench.measure import Workload

# Instruments the benchmark trades: USD-quoted, with a mark price each.
MARKS: tuple[tuple[str, str], ...] = (
    ("EURUSD", "1.0850"),
    ("GBPUSD", "1.2700"),
    ("AUDUSD", "0.6600"),
    ("NZDUSD", "0.6000"),
    ("XAUUSD", "2650.00"),
    ("XAGUSD", "31.00"),
    ("USOIL", "70.00"),
    ("US30", "44000"),
    ("US500", "5900"),
    ("NAS100", "21000"),
    ("BTCUSD", "95000"),
    ("ETHUSD", "3400"),
)

FLOOR = "{ __typename }"

# What the approval service needs from a check: the verdict, why, and the reservation.
CHECK_SIGNAL = (
    "mutation Check($signal: SignalInput!) { checkSignal(signal: $signal) {"
    " signalId passes volume notional decisionId reservationExpiresAt"
    " violations { check limit current message } } }"
)
RELEASE_SIGNAL = "mutation Release($id: String!) { releaseSignal(signalId: $id) }"

# A client frontend's exposure panel.
EXPOSURE = (
    "query Exposure($clientId: String) { exposure(clientId: $clientId) {"
    " clientId timestamp totalExposure openPositionsCount reservedPositionsCount"
    " reservedExposure equity currentDrawdownPercent dailyPnl"
    " byInstrument { instrument volume exposure } byDirection { direction exposure } } }"
)

# An operator's platform view.
GLOBAL_EXPOSURE = (
    "query Global { globalExposure { timestamp totalPlatformExposure totalOpenPositions"
    " reservedPositions reservedExposure maxExposureLimit maxPositionsLimit"
    " exposureUtilizationPercent positionsUtilizationPercent dailyPlatformPnl maxDailyLoss"
    " tradingMode byInstrument { instrument volume exposure } } }"
)

TRADE_FIELDS = "tradeId clientId status volume entryPrice exitPrice realizedPnl"
TRADE_OPENED = (
    "mutation Opened($trade: TradeOpenedInput!) { recordTradeOpened(trade: $trade) {"
    f" {TRADE_FIELDS} }} }}"
)
TRADE_CLOSED = (
    "mutation Closed($trade: TradeClosedInput!) { recordTradeClosed(trade: $trade) {"
    f" {TRADE_FIELDS} }} }}"
)

CASH_FLOW = (
    "mutation Flow($flow: CashFlowInput!) { recordCashFlow(flow: $flow) { clientId balance } }"
)
MARK_PRICES = "mutation Marks($prices: [MarkPriceInput!]!) { updateMarkPrices(prices: $prices) }"
PLATFORM_LIMITS = (
    "mutation Limits($input: PlatformLimitsInput!) { updatePlatformLimits(input: $input) {"
    " maxTotalExposure maxOpenPositions maxInstrumentVolume } }"
)
RISK_PROFILE = (
    "mutation Profile($clientId: String, $input: RiskProfileInput!) {"
    " updateRiskProfile(clientId: $clientId, input: $input) { clientId maxOpenPositions } }"
)

_HOLE = "\u00a7{}\u00a7"  # a placeholder json.dumps leaves alone (ensure_ascii=False)


class Template:
    """A request with holes for ids; rendering is a join of pre-encoded parts."""

    def __init__(self, encoder: GraphQLRequest, query: str, variables: dict[str, Any]) -> None:
        body = json.dumps(
            {"query": query, "variables": variables}, separators=(",", ":"), ensure_ascii=False
        ).encode()
        self._parts: list[bytes] = []
        self._order: list[int] = []
        self._encoder = encoder
        rest = body
        while True:
            start = rest.find("\u00a7".encode())
            if start < 0:
                self._parts.append(rest)
                break
            end = rest.index("\u00a7".encode(), start + 2)
            self._parts.append(rest[:start])
            self._order.append(int(rest[start + 2 : end]))
            rest = rest[end + 2 :]

    def render(self, *values: str) -> bytes:
        pieces = [self._parts[0]]
        for slot, part in zip(self._order, self._parts[1:], strict=True):
            pieces.append(values[slot].encode())
            pieces.append(part)
        return self._encoder.encode_body(b"".join(pieces))


def hole(index: int) -> str:
    return _HOLE.format(index)


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int
    service_token: str
    admin_token: str

    @property
    def service(self) -> GraphQLRequest:
        return GraphQLRequest(self.host, self.port, self.service_token)

    @property
    def admin(self) -> GraphQLRequest:
        return GraphQLRequest(self.host, self.port, self.admin_token)


def floor(endpoint: Endpoint) -> Workload:
    request = endpoint.service.encode(FLOOR)
    return Workload("floor", lambda _w, _s: request)


def check_signal(
    endpoint: Endpoint, tag: str, clients: Sequence[str], *, release: bool
) -> Workload:
    """Reserving checks with fresh signal ids, spread over clients and instruments.

    With `release`, every check is followed (untimed, same connection) by releaseSignal, as
    the approval service does for a signal it does not execute; the platform then holds few
    active reservations, as it does in production where its position cap bounds them.
    """
    templates = [
        Template(
            endpoint.service,
            CHECK_SIGNAL,
            {
                "signal": {
                    "signalId": hole(0),
                    "clientId": hole(1),
                    "instrument": symbol,
                    "direction": direction,
                    "volume": "0.01",
                    "entryPrice": price,
                }
            },
        )
        for symbol, price in MARKS
        for direction in ("BUY", "SELL")
    ]
    release_template = Template(endpoint.service, RELEASE_SIGNAL, {"id": hole(0)})
    n_clients, n_templates = len(clients), len(templates)

    def signal_id(worker: int, seq: int) -> str:
        return f"{tag}-w{worker}-{seq}"

    def request(worker: int, seq: int) -> bytes:
        spread = seq * 17 + worker * 7919
        return templates[spread % n_templates].render(
            signal_id(worker, seq), clients[spread % n_clients]
        )

    def follow_up(worker: int, seq: int, body: bytes) -> bytes | None:
        if b'"passes":true' not in body:
            return None
        return release_template.render(signal_id(worker, seq))

    return Workload(
        "checkSignal",
        request,
        follow_up=follow_up if release else None,
        marker=b'"passes":true',
    )


def exposure(endpoint: Endpoint, clients: Sequence[str]) -> Workload:
    template = Template(endpoint.service, EXPOSURE, {"clientId": hole(0)})
    n = len(clients)
    return Workload(
        "exposure", lambda worker, seq: template.render(clients[(seq + worker * 31) % n])
    )


def global_exposure(endpoint: Endpoint) -> Workload:
    request = endpoint.admin.encode(GLOBAL_EXPOSURE)
    return Workload("globalExposure", lambda _w, _s: request)


@dataclass(frozen=True, slots=True)
class TradeWorkloads:
    opened: Workload  # times the open; the close follows untimed
    closed: Workload  # opens untimed first; times the close
    mixed: Workload  # even sequence numbers open a trade, odd ones close it


def trades(endpoint: Endpoint, tag: str, clients: Sequence[str]) -> TradeWorkloads:
    """Trade events on fresh trade ids; every open is closed, so positions stay bounded."""
    opens = [
        Template(
            endpoint.service,
            TRADE_OPENED,
            {
                "trade": {
                    "tradeId": hole(0),
                    "clientId": hole(1),
                    "instrument": symbol,
                    "direction": "BUY",
                    "volume": "0.01",
                    "entryPrice": price,
                }
            },
        )
        for symbol, price in MARKS
    ]
    closes = [
        Template(
            endpoint.service,
            TRADE_CLOSED,
            {"trade": {"tradeId": hole(0), "clientId": hole(1), "exitPrice": price, "pnl": "1.50"}},
        )
        for _, price in MARKS
    ]
    n_clients, n_symbols = len(clients), len(MARKS)

    def event(kind: str, worker: int, pair: int) -> bytes:
        spread = pair * 13 + worker * 7919
        chosen = (opens if kind == "open" else closes)[spread % n_symbols]
        return chosen.render(f"{tag}-w{worker}-{pair}", clients[spread % n_clients])

    def opened_id(worker: int, pair: int) -> bytes:
        return event("open", worker, pair)

    def closing(worker: int, pair: int) -> bytes:
        return event("close", worker, pair)

    def mixed(worker: int, seq: int) -> bytes:
        return event("open" if seq % 2 == 0 else "close", worker + 1000, seq // 2)

    return TradeWorkloads(
        opened=Workload(
            "recordTradeOpened", opened_id, follow_up=lambda w, s, _body: closing(w, s)
        ),
        closed=Workload(
            "recordTradeClosed",
            lambda w, s: closing(w + 500, s),
            prepare=lambda w, s: opened_id(w + 500, s),
        ),
        mixed=Workload("recordTradeOpened/Closed", mixed),
    )
