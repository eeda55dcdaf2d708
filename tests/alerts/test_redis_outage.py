"""A Redis outage: checks and trades go on, alerts are stored, delivery resumes after."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from db.migrations import upgrade_to_head
from domain.values import Role
from riskgate.auth import mint_token
from riskgate.settings import Settings
from tests.support.client import GraphQLClient
from tests.support.databases import create_postgres_database, drop_postgres_database, unavailable
from tests.support.documents import CHECK
from tests.support.events import Flows
from tests.support.servers import AlertSocket, RedisProcess, Server, server_env, start_server
from tests.support.settings import make_settings

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@dataclass
class Outage:
    redis: RedisProcess
    a: Server
    b: Server
    settings: Settings


@pytest.fixture
async def outage(tmp_path: Path) -> AsyncIterator[Outage]:
    try:
        database_url = await create_postgres_database("riskgate_outage")
    except Exception as error:
        unavailable("PostgreSQL", error)
    redis = RedisProcess(tmp_path)
    servers: list[Server] = []
    try:
        try:
            await redis.start()
        except (OSError, RuntimeError) as error:
            unavailable("Redis (redis-server)", error)
        await upgrade_to_head(database_url)
        env = server_env(database_url, redis.url, f"riskgate-test-{uuid.uuid4().hex[:8]}")
        servers = list(
            await asyncio.gather(start_server(env, tmp_path), start_server(env, tmp_path))
        )
        yield Outage(redis, servers[0], servers[1], make_settings(database_url))
    finally:
        for server in servers:
            server.stop()
        redis.stop()
        await drop_postgres_database(database_url)


async def test_the_api_keeps_serving_while_redis_is_down_and_delivery_resumes(
    outage: Outage,
) -> None:
    admin = mint_token(outage.settings, sub="ops", role=Role.ADMIN)
    async with (
        httpx.AsyncClient(base_url=outage.b.http, timeout=10) as http_b,
        httpx.AsyncClient(base_url=outage.a.http, timeout=10) as http_a,
        AlertSocket.open(outage.a, admin) as watcher,
    ):
        on_b = Flows(GraphQLClient(http_b, outage.settings))
        on_a = Flows(GraphQLClient(http_a, outage.settings))
        await asyncio.sleep(0.3)
        outage.redis.stop()

        # Trades and checks go on; the alert is stored.
        await on_b.deposit("ro-alice", "10000")
        started = time.monotonic()
        await on_b.realize("ro-alice", "-2500")
        assert time.monotonic() - started < 2.0  # publishing never holds a request up
        signal = {
            "signalId": "ro-sig-1",
            "clientId": "ro-bob",
            "instrument": "EURUSD",
            "direction": "BUY",
            "volume": "0.10",
            "entryPrice": "1.1",
        }
        assert (await on_b.api.ok(CHECK, {"signal": signal, "dryRun": False}))["checkSignal"][
            "passes"
        ]
        [stored] = await on_b.alerts("ro-alice")
        assert stored["level"] == "CRITICAL"

        # An alert raised on the subscriber's own server still reaches it at once.
        await on_a.deposit("ro-carol", "10000")
        await on_a.realize("ro-carol", "-1700")
        local = await watcher.next_alert(within=1.0)
        assert (local["clientId"], local["level"]) == ("ro-carol", "WARNING")

        # Redis returns: what was raised elsewhere during the outage arrives.
        await outage.redis.start()
        late = await watcher.next_alert(within=15.0)
        assert late["id"] == stored["id"]
        await watcher.nothing_within(1.0)  # and only once

        # Live delivery across servers is back.
        await on_b.deposit("ro-dave", "10000")
        started = time.monotonic()
        await on_b.realize("ro-dave", "-2500")
        fresh = await watcher.next_alert(within=2.0)
        assert fresh["clientId"] == "ro-dave"
        assert time.monotonic() - started < 2.0
