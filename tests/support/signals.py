"""Signals for checkSignal, the calls around it, and reading its answers."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.client import GraphQLClient, Response, assert_granted
from tests.support.documents import CHECK, DECISIONS, RELEASE

ALL_CHECKS = (
    "TRADING_HALTED",
    "MAX_OPEN_POSITIONS",
    "MAX_POSITION_SIZE",
    "MAX_DAILY_LOSS",
    "MAX_DRAWDOWN",
    "CORRELATION_EXPOSURE",
    "PLATFORM_POSITION_SIZE",
    "PLATFORM_EXPOSURE",
    "PLATFORM_POSITIONS",
    "PLATFORM_DAILY_LOSS",
    "INSTRUMENT_CONCENTRATION",
)


def signal(
    signal_id: str,
    client_id: str,
    volume: str | None = "0.10",
    *,
    instrument: str = "EURUSD",
    direction: str = "BUY",
    entry: str = "1.0000",
    stop: str | None = None,
) -> dict[str, Any]:
    """A SignalInput; EURUSD at 1.0000 makes 0.10 lots worth exactly 10,000."""
    payload: dict[str, Any] = {
        "signalId": signal_id,
        "clientId": client_id,
        "instrument": instrument,
        "direction": direction,
        "entryPrice": entry,
    }
    if volume is not None:
        payload["volume"] = volume
    if stop is not None:
        payload["stopLoss"] = stop
    return payload


async def post_check(
    api: GraphQLClient, payload: dict[str, Any], *, dry_run: bool = False, **auth: Any
) -> Response:
    return await api.post(CHECK, {"signal": payload, "dryRun": dry_run}, **auth)


async def check(
    api: GraphQLClient, payload: dict[str, Any], *, dry_run: bool = False, **auth: Any
) -> dict[str, Any]:
    """Run checkSignal and require an answer (passing or not)."""
    data = await api.ok(CHECK, {"signal": payload, "dryRun": dry_run}, **auth)
    return dict(data["checkSignal"])


async def release(api: GraphQLClient, signal_id: str, **auth: Any) -> bool:
    return bool((await api.ok(RELEASE, {"id": signal_id}, **auth))["releaseSignal"])


async def decisions(api: GraphQLClient, client_id: str | None, **auth: Any) -> list[Any]:
    data = await api.ok(DECISIONS, {"clientId": client_id, "limit": 500}, **auth)
    return list(data["riskDecisions"])


def violation(result: dict[str, Any], name: str) -> dict[str, Any] | None:
    found = [v for v in result["violations"] if v["check"] == name]
    assert len(found) <= 1, result["violations"]
    return found[0] if found else None


def violated(result: dict[str, Any]) -> set[str]:
    return {v["check"] for v in result["violations"]}


def headroom(result: dict[str, Any], name: str) -> dict[str, Any] | None:
    found = [h for h in result["headroom"] if h["check"] == name]
    assert len(found) <= 1, result["headroom"]
    return found[0] if found else None


async def run_checks(api: GraphQLClient, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fire every reserving check at once; every one must be answered (pass or fail)."""
    responses = await asyncio.gather(
        *(api.post(CHECK, {"signal": p, "dryRun": False}) for p in payloads)
    )
    for response in responses:
        assert_granted(response)
    return [r.data["checkSignal"] for r in responses]


def passed(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in results if r["passes"]]
