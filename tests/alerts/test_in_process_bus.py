"""Without Redis: alerts reach this process's subscribers, and closed subscriptions are gone."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from domain.values import Role
from riskgate.auth import mint_token
from riskgate.bus import InProcessBus
from riskgate.settings import Settings
from tests.support.client import GraphQLClient
from tests.support.documents import SUBSCRIBE
from tests.support.events import Flows
from tests.support.servers import free_port


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """The started app behind a real uvicorn server in this event loop."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await _until(lambda: server.started, within=10)
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task


async def _until(condition: Any, within: float = 2.0) -> None:
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition did not come true in time")


@pytest.fixture
def bus(app: Any) -> InProcessBus:
    found = app.state.bus
    assert isinstance(found, InProcessBus)
    return found


async def test_alerts_reach_local_subscribers_and_closed_ones_are_dropped(
    app: Any, api: GraphQLClient, settings: Settings, bus: InProcessBus
) -> None:
    token = mint_token(settings, sub="ops", role=Role.ADMIN)
    flows = Flows(api)
    async with serving(app) as url:
        async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
            await ws.send(json.dumps(init))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            for op in ("1", "2"):
                payload = {"query": SUBSCRIBE, "variables": {}}
                await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))
            await _until(lambda: bus.subscribers == 2)

            await flows.deposit("alice", "10000")
            await flows.realize("alice", "-2500")
            received = [json.loads(await asyncio.wait_for(ws.recv(), 2)) for _ in range(2)]
            assert {m["id"] for m in received} == {"1", "2"}
            assert {m["payload"]["data"]["breakerAlerts"]["level"] for m in received} == {
                "CRITICAL"
            }

            await ws.send(json.dumps({"id": "1", "type": "complete"}))  # one ends
            await _until(lambda: bus.subscribers == 1)
        await _until(lambda: bus.subscribers == 0)  # the socket closed: the other ends too
