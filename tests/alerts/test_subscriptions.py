"""Live alerts across real server processes sharing PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from db.migrations import upgrade_to_head
from domain.values import Role
from riskgate.auth import mint_token
from riskgate.settings import Settings
from tests.support.client import GraphQLClient
from tests.support.databases import (
    REDIS_URL,
    create_postgres_database,
    drop_postgres_database,
    unavailable,
)
from tests.support.events import Flows
from tests.support.servers import AlertSocket, Server, close_code, server_env, start_server
from tests.support.settings import make_settings

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@dataclass
class Cluster:
    a: Server
    b: Server
    settings: Settings

    def token(self, role: str, sub: str, ttl: int = 600) -> str:
        return mint_token(self.settings, sub=sub, role=Role(role), ttl_seconds=ttl)


@pytest.fixture(scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    try:
        database_url = await create_postgres_database("riskgate_ws")
    except Exception as error:
        unavailable("PostgreSQL", error)
    redis = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await redis.ping()
    except Exception as error:
        await drop_postgres_database(database_url)
        unavailable("Redis", error)
    finally:
        await redis.aclose()
    servers: list[Server] = []
    try:
        await upgrade_to_head(database_url)
        workdir = Path(tmp_path_factory.mktemp("servers"))
        env = server_env(database_url, REDIS_URL, f"riskgate-test-{uuid.uuid4().hex[:8]}")
        servers = list(await asyncio.gather(start_server(env, workdir), start_server(env, workdir)))
        yield Cluster(servers[0], servers[1], make_settings(database_url))
    finally:
        for server in servers:
            server.stop()
        await drop_postgres_database(database_url)


@pytest.fixture
async def service_on_b(cluster: Cluster) -> AsyncIterator[Flows]:
    async with httpx.AsyncClient(base_url=cluster.b.http, timeout=10) as http:
        yield Flows(GraphQLClient(http, cluster.settings))


async def test_an_alert_raised_on_one_server_reaches_subscribers_on_another(
    cluster: Cluster, service_on_b: Flows
) -> None:
    flows = service_on_b
    async with (
        AlertSocket.open(cluster.a, cluster.token("admin", "ops")) as admin,
        AlertSocket.open(cluster.a, cluster.token("client", "xp-alice")) as alice,
        AlertSocket.open(cluster.a, cluster.token("client", "xp-bob")) as bob,
        AlertSocket.open(cluster.a, cluster.token("service", "svc"), "xp-alice") as watcher,
    ):
        await asyncio.sleep(0.3)  # the subscriptions are registered
        await flows.deposit("xp-alice", "10000")
        trade = await flows.open("xp-alice")
        started = time.monotonic()
        await flows.close("xp-alice", trade, pnl="-2500")  # drawdown 25 %: CRITICAL
        got = await alice.next_alert(within=1.0)
        assert time.monotonic() - started < 1.0
        assert (got["clientId"], got["kind"], got["level"], got["previousLevel"]) == (
            "xp-alice",
            "CLIENT_DRAWDOWN",
            "CRITICAL",
            "OK",
        )
        assert (got["value"], got["limit"]) == ("25.00", "20.00")
        assert (await admin.next_alert(within=1.0))["id"] == got["id"]
        assert (await watcher.next_alert(within=1.0))["id"] == got["id"]
        stored = await flows.alerts("xp-alice")
        assert [a["id"] for a in stored] == [got["id"]]

        await flows.realize("xp-bob", "0")  # bob shows up
        await flows.deposit("xp-bob", "10000")
        await flows.realize("xp-bob", "-1700")  # bob WARNING
        bobs = await bob.next_alert(within=1.0)
        assert (bobs["clientId"], bobs["level"]) == ("xp-bob", "WARNING")
        assert (await admin.next_alert(within=1.0))["id"] == bobs["id"]
        await alice.nothing_within(0.5)  # never another client's alert
        await watcher.nothing_within(0.1)


async def test_a_client_may_not_watch_another_clients_alerts(cluster: Cluster) -> None:
    token = cluster.token("client", "xp-carol")
    async with AlertSocket.open(cluster.a, token, "xp-dave") as carol:
        message = await carol.message(within=2.0)
    assert message["type"] in {"error", "next"}, message
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0].get("extensions", {}).get("code") == "FORBIDDEN", message


async def test_bad_missing_and_expired_tokens_are_refused(cluster: Cluster) -> None:
    assert await close_code(cluster.a, {}) == 4403
    assert await close_code(cluster.a, {"authorization": "Bearer not-a-token"}) == 4403
    assert await close_code(cluster.a, {"authorization": "Basic b3BzOm9wcw=="}) == 4403
    expired = cluster.token("admin", "ops", ttl=-60)
    assert await close_code(cluster.a, {"authorization": f"Bearer {expired}"}) == 4403
    foreign = Settings(_env_file=None, jwt_secret="another-secret-0123456789abcdef01")  # type: ignore[call-arg]
    other = mint_token(foreign, sub="ops", role=Role.ADMIN)
    assert await close_code(cluster.a, {"authorization": f"Bearer {other}"}) == 4403


async def test_the_socket_closes_when_the_token_expires(cluster: Cluster) -> None:
    token = cluster.token("admin", "ops", ttl=2)
    started = time.monotonic()
    assert await close_code(cluster.a, {"authorization": f"Bearer {token}"}, wait=6) == 4401
    assert time.monotonic() - started < 4.5
