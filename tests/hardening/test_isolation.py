"""One caller can never break another caller's check.

A refused field makes graphql-core cancel its siblings while they are mid-statement, and a
client that goes away cancels its request wherever it is. Neither may leave a connection
behind that fails the next request: with the database healthy, every other caller is
answered, and checks keep approving exactly as the limits say.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.client import GraphQLClient, Response, assert_granted
from tests.support.documents import CHECK, EXPOSURE, RELEASE
from tests.support.events import prepared_client
from tests.support.reports import exposure, global_exposure
from tests.support.signals import signal

# A client asks for its own profile and, in the same document, for another client's.
REFUSED_ALIAS = (
    '{ mine: riskProfile { clientId } theirs: riskProfile(clientId: "bob") { clientId } }'
)
# A read next to a field refused as bad input after its own read (the stop equals the entry).
REFUSED_SIZING = """
{ exposure { clientId openPositionsCount }
  positionSize(instrument: "EURUSD", entryPrice: "1.1000", stopLoss: "1.1000") { volume } }
"""
# Only this test database's idle pooled connections: other suites share the server.
TERMINATE_POOLED = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'riskgate'"
    " AND datname = current_database() AND state = 'idle'"
)
ROUNDS = 40
CHAOS_REQUESTS = 240


def refused(response: Response, code: str) -> None:
    assert response.status == 200, response.body
    assert response.codes and set(response.codes) <= {code}, response.body


async def approved_and_released(api: GraphQLClient, signal_id: str, client: str) -> None:
    """A reserving check that must pass (capacity is free), then its release."""
    response = await api.post(CHECK, {"signal": signal(signal_id, client), "dryRun": False})
    assert_granted(response)
    assert response.data["checkSignal"]["passes"], response.body
    assert_granted(await api.post(RELEASE, {"id": signal_id}))


async def own_exposure(api: GraphQLClient) -> None:
    response = await api.post(EXPOSURE, {"clientId": None}, role="client", sub="carol")
    assert_granted(response)
    assert response.data["exposure"]["clientId"] == "carol"


async def assert_state_consistent(api: GraphQLClient) -> None:
    """Nothing held anywhere, and one more check for each client still passes."""
    for client in ("alice", "carol"):
        assert (await exposure(api, client))["reservedPositionsCount"] == 0
    platform = await global_exposure(api)
    assert platform["reservedPositions"] == 0, platform
    assert platform["reservedExposure"] == "0.00", platform
    await approved_and_released(api, "after-all", "carol")


async def test_refused_siblings_do_not_break_other_callers(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", maxOpenPositions=5)
    await prepared_client(api, "carol", maxOpenPositions=5)
    for n in range(ROUNDS):
        refused(await api.post(REFUSED_ALIAS, role="client", sub="alice"), "FORBIDDEN")
        refused(await api.post(REFUSED_SIZING, role="client", sub="alice"), "BAD_USER_INPUT")
        await approved_and_released(api, f"seq-{n}", "carol")
        await own_exposure(api)
    await assert_state_consistent(api)


async def test_refused_siblings_interleaved_with_concurrent_checks(api: GraphQLClient) -> None:
    await prepared_client(api, "alice", maxOpenPositions=5)
    await prepared_client(api, "carol", maxOpenPositions=50)
    for n in range(ROUNDS // 4):
        work: list[Awaitable[Any]] = []
        for i in range(4):
            work.append(api.post(REFUSED_ALIAS, role="client", sub="alice"))
            work.append(api.post(REFUSED_SIZING, role="client", sub="alice"))
            work.append(approved_and_released(api, f"par-{n}-{i}", "carol"))
            work.append(own_exposure(api))
        for result in await asyncio.gather(*work):
            if isinstance(result, Response):
                refused(result, "FORBIDDEN" if "theirs" in str(result.body) else "BAD_USER_INPUT")
                assert "RISK_UNAVAILABLE" not in result.codes, result.body
    await assert_state_consistent(api)


async def test_clients_going_away_mid_request_break_nobody(api: GraphQLClient) -> None:
    """Requests cancelled at random points; every one that completes is answered correctly."""
    rng = random.Random(20260)
    await prepared_client(api, "alice", maxOpenPositions=5)
    await prepared_client(api, "carol", maxOpenPositions=50)
    sent: list[str] = []

    def request(n: int) -> Awaitable[Response]:
        kind = n % 4
        if kind == 0:
            sent.append(f"gone-{n}")
            payload = signal(f"gone-{n}", "carol")
            return api.post(CHECK, {"signal": payload, "dryRun": False})
        if kind == 1:
            return api.post(EXPOSURE, {"clientId": None}, role="client", sub="carol")
        if kind == 2:
            return api.post(REFUSED_ALIAS, role="client", sub="alice")
        payload = signal(f"dry-{n}", "carol")
        return api.post(CHECK, {"signal": payload, "dryRun": True})

    outcomes: Counter[str] = Counter()

    async def maybe_cancelled(n: int) -> Response | None:
        task = asyncio.ensure_future(request(n))
        if rng.random() < 0.6:
            # Cut off after a few turns of the event loop (always mid-request) or after a
            # short while (anywhere, also after the answer).
            if rng.random() < 0.5:
                await asyncio.sleep(rng.uniform(0, 0.02))
            for _ in range(rng.randrange(40)):
                await asyncio.sleep(0)
            task.cancel()
        try:
            answer = await task
        except asyncio.CancelledError:
            outcomes["cancelled"] += 1
            return None
        outcomes["answered"] += 1
        return answer

    for start in range(0, CHAOS_REQUESTS, 8):
        answers = await asyncio.gather(*(maybe_cancelled(n) for n in range(start, start + 8)))
        for answer in answers:
            if answer is not None:
                assert "RISK_UNAVAILABLE" not in answer.codes, answer.body
                assert answer.status == 200, answer.body
        # Whatever the burst's checks reserved (a cancelled one may have committed) is given
        # back, as the approval service would; then the next caller is answered and approved.
        for signal_id in sent:
            assert_granted(await api.post(RELEASE, {"id": signal_id}))
        sent.clear()
        await approved_and_released(api, f"probe-{start}", "carol")
        await own_exposure(api)

    # Both happened many times: requests cut off somewhere, and requests answered in between.
    assert outcomes["cancelled"] > CHAOS_REQUESTS // 10, outcomes
    assert outcomes["answered"] > CHAOS_REQUESTS // 10, outcomes
    await assert_state_consistent(api)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])  # server backends exist on PostgreSQL only
async def test_a_backend_killed_while_pooled_is_replaced(
    backend: str, api: GraphQLClient, database_url: str
) -> None:
    """The pool never hands out a connection whose server side is gone."""
    await prepared_client(api, "carol", maxOpenPositions=5)
    # Warm several pooled connections, then kill every one of them while they sit idle.
    await asyncio.gather(*(own_exposure(api) for _ in range(6)))
    engine = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            killed = (await conn.execute(text(TERMINATE_POOLED))).all()
    finally:
        await engine.dispose()
    assert killed, "no pooled connection was found to kill"
    await asyncio.sleep(0.2)  # let the driver notice the closed sockets
    for n in range(len(killed) + 2):
        await approved_and_released(api, f"after-kill-{n}", "carol")
        await own_exposure(api)
