"""Seeding through the public API: platform limits, marks, clients, deposits, open trades."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from bench.http import Connection, GraphQLRequest
from bench.workloads import (
    CASH_FLOW,
    MARK_PRICES,
    MARKS,
    PLATFORM_LIMITS,
    RISK_PROFILE,
    TRADE_OPENED,
    Endpoint,
)

DEPOSIT = "100000.00"
SEED_CONNECTIONS = 8

# High enough that no load in this benchmark reaches a platform limit.
PLATFORM_LIMITS_INPUT: dict[str, Any] = {
    "maxTotalExposure": "1000000000000",
    "maxOpenPositions": 1_000_000,
    "maxDailyLoss": "1000000000",
    "maxInstrumentVolume": "100000000",
}
# Room for the load's positions and reservations; the correlation check switched off
# (1.00) so that spreading signals over instruments never trips it.
CLIENT_LIMITS_INPUT: dict[str, Any] = {
    "maxOpenPositions": 1000,
    "maxCorrelationExposure": "1.00",
}


def client_ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i:05d}" for i in range(count)]


async def _run_all(endpoint: Endpoint, requests: Sequence[bytes]) -> None:
    """Send every request once, over a few connections, failing on any error."""
    queue = list(reversed(requests))

    async def worker() -> None:
        conn = await Connection.open(endpoint.host, endpoint.port)
        try:
            while queue:
                await conn.post_json(queue.pop())
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(SEED_CONNECTIONS)))


async def platform(endpoint: Endpoint) -> None:
    """Raise the platform limits (admin) and set a mark on every traded instrument."""
    marks = [{"instrument": symbol, "price": price} for symbol, price in MARKS]
    await _run_all(
        endpoint, [endpoint.admin.encode(PLATFORM_LIMITS, {"input": PLATFORM_LIMITS_INPUT})]
    )
    await _run_all(endpoint, [endpoint.service.encode(MARK_PRICES, {"prices": marks})])


async def clients(endpoint: Endpoint, ids: Sequence[str], *, open_every: int = 2) -> None:
    """Each client: limits with room for the load, a deposit; every `open_every`-th one
    also gets an open position."""
    service: GraphQLRequest = endpoint.service
    profiles = [
        service.encode(RISK_PROFILE, {"clientId": cid, "input": CLIENT_LIMITS_INPUT}) for cid in ids
    ]
    deposits = [
        service.encode(
            CASH_FLOW, {"flow": {"flowId": f"seed-{cid}", "clientId": cid, "amount": DEPOSIT}}
        )
        for cid in ids
    ]
    opens = []
    for i, cid in enumerate(ids):
        if open_every and i % open_every == 0:
            # Every traded instrument ends up with open positions on the platform.
            symbol, price = MARKS[(i // open_every) % len(MARKS)]
            trade = {
                "tradeId": f"seed-open-{cid}",
                "clientId": cid,
                "instrument": symbol,
                "direction": "BUY" if i % 4 == 0 else "SELL",
                "volume": "0.01",
                "entryPrice": price,
            }
            opens.append(service.encode(TRADE_OPENED, {"trade": trade}))
    await _run_all(endpoint, profiles)
    await _run_all(endpoint, deposits)
    await _run_all(endpoint, opens)
