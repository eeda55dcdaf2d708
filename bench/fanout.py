"""Fan-out figures: one master signal checked for many clients in one checkSignals call.

On a fresh database with funded clients written set-based (as for the history figure) and a
server, the platform limits raised through the API; then, in alternating
repeats, the same master signal for N clients is sent as one checkSignals call and as N
checkSignal calls one by one on one keep-alive connection (the approval service's way
without a batch), each timed end to end. A larger batch follows, with the server's RSS
(current and peak) after it.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench import seed_api, workloads
from bench.http import Connection
from bench.report import Row, at_most
from bench.server import Server

# What the approval service reads back per client from a fan-out.
CHECK_SIGNALS = (
    "mutation Fanout($signals: [SignalInput!]!) { checkSignals(signals: $signals) {"
    " clientId passes volume decisionId violations { check } } }"
)
CHECK_SIGNAL = (
    "mutation Check($signal: SignalInput!) { checkSignal(signal: $signal) {"
    " clientId passes volume decisionId violations { check } } }"
)
# The master signal every client copies.
SYMBOL, PRICE = workloads.MARKS[0]


def _signal(signal_id: str, client_id: str) -> dict[str, Any]:
    return {
        "signalId": signal_id,
        "clientId": client_id,
        "instrument": SYMBOL,
        "direction": "BUY",
        "volume": "0.01",
        "entryPrice": PRICE,
    }


def _passed(body: bytes) -> int:
    return body.count(b'"passes":true')


async def _batch(
    endpoint: workloads.Endpoint, tag: str, clients: Sequence[str]
) -> tuple[float, int]:
    """One checkSignals call for every client: (seconds, signals approved)."""
    signals = [_signal(f"{tag}-{i}", cid) for i, cid in enumerate(clients)]
    request = endpoint.service.encode(CHECK_SIGNALS, {"signals": signals})
    conn = await Connection.open(endpoint.host, endpoint.port)
    try:
        started = time.perf_counter()
        status, body = await conn.send(request)
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    decoded = json.loads(body)
    if status != 200 or decoded.get("errors"):
        raise RuntimeError(f"checkSignals answered HTTP {status}: {body[:300]!r}")
    if len(decoded["data"]["checkSignals"]) != len(clients):
        raise RuntimeError("checkSignals answered a different number of signals")
    return elapsed, _passed(body)


async def _one_by_one(
    endpoint: workloads.Endpoint, tag: str, clients: Sequence[str]
) -> tuple[float, int]:
    """The same checks as checkSignal calls in sequence: (seconds, signals approved)."""
    requests = [
        endpoint.service.encode(CHECK_SIGNAL, {"signal": _signal(f"{tag}-{i}", cid)})
        for i, cid in enumerate(clients)
    ]
    conn = await Connection.open(endpoint.host, endpoint.port)
    approved = 0
    try:
        started = time.perf_counter()
        for request in requests:
            status, body = await conn.send(request)
            if status != 200 or b'"errors"' in body:
                raise RuntimeError(f"checkSignal answered HTTP {status}: {body[:300]!r}")
            approved += _passed(body)
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    return elapsed, approved


def _peak_rss_mb(server: Server) -> float:
    with open(f"/proc/{server.pid}/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM for the server")


async def measure(
    backend: str,
    server: Server,
    endpoint: workloads.Endpoint,
    clients: Sequence[str],
    *,
    small: int,
    repeats: int,
    log: Callable[[str], None],
) -> tuple[list[Row], dict[str, Any]]:
    """The fan-out rows and their raw figures; `clients` are funded, with room for the load."""
    await seed_api.platform(endpoint)
    large = len(clients)
    few = clients[:small]
    batch_s: list[float] = []
    single_s: list[float] = []
    approved = {"batch": 0, "single": 0}
    log(f"{backend}: fan-out: {small:,} signals, batch against one by one, {repeats} repeats")
    # Warm both paths (caches, first-use imports) before timing.
    await _batch(endpoint, "warm-b", few[:10])
    await _one_by_one(endpoint, "warm-s", few[:10])
    for r in range(repeats):
        seconds, passed = await _batch(endpoint, f"b{r}", few)
        batch_s.append(seconds)
        approved["batch"] += passed
        seconds, passed = await _one_by_one(endpoint, f"s{r}", few)
        single_s.append(seconds)
        approved["single"] += passed
    log(f"{backend}: fan-out: {large:,} signals in one batch")
    large_s: list[float] = []
    large_approved = 0
    for r in range(max(1, repeats - 1)):
        seconds, passed = await _batch(endpoint, f"big{r}", clients)
        large_s.append(seconds)
        large_approved += passed
    rss, peak = server.rss_mb(), _peak_rss_mb(server)
    batch_med, single_med = statistics.median(batch_s), statistics.median(single_s)
    large_med = statistics.median(large_s)
    ratio = batch_med / single_med
    scale = large_med / batch_med
    rows = [
        Row(
            backend,
            f"fan-out: checkSignals of {small:,} signals",
            batch_med * 1000,
            "ms",
            ratio,
            target="≤ 0.1 × one by one",
            met=at_most(ratio, 0.1),
            note=(
                f"{small:,} clients; one by one {single_med * 1000:.0f} ms "
                f"({single_med / small * 1000:.2f} ms/check); batch "
                f"{batch_med / small * 1000:.3f} ms/signal; approved "
                f"{approved['batch']}/{small * repeats} batched, "
                f"{approved['single']}/{small * repeats} one by one; medians of {repeats}"
            ),
        ),
        Row(
            backend,
            f"fan-out: checkSignals of {large:,} signals",
            large_med * 1000,
            "ms",
            scale,
            target=f"≤ 10 × the {small:,} figure",
            met=at_most(scale, 10),
            note=(
                f"{large:,} clients; {large_med / large * 1000:.3f} ms/signal; approved "
                f"{large_approved}/{large * len(large_s)}"
            ),
        ),
        Row(
            backend,
            "fan-out: server RSS",
            peak,
            "MB",
            target="≤ 250 MB",
            met=peak <= 250,
            note=f"peak (VmHWM) over the phase, seeding included; {rss:.0f} MB after",
        ),
    ]
    raw = {
        "small": small,
        "large": large,
        "batch_seconds": batch_s,
        "one_by_one_seconds": single_s,
        "large_seconds": large_s,
        "approved": {**approved, "large": large_approved},
        "rss_mb": rss,
        "peak_rss_mb": peak,
    }
    return rows, raw
