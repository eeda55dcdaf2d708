"""Real server processes (`riskgate serve`) sharing PostgreSQL and Redis, a private Redis
server that a test may stop and start, and a graphql-transport-ws client for alerts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.support.documents import SUBSCRIBE
from tests.support.settings import TEST_SECRET

RISKGATE = str(Path(sys.executable).with_name("riskgate"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def server_env(database_url: str, redis_url: str, prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKGATE_")}
    env.update(
        RISKGATE_DATABASE_URL=database_url,
        RISKGATE_REDIS_URL=redis_url,
        RISKGATE_REDIS_PREFIX=prefix,
        RISKGATE_JWT_SECRET=TEST_SECRET,
        RISKGATE_LOG_LEVEL="INFO",
    )
    return env


def _spawn_server(env: dict[str, str], workdir: Path) -> Server:
    port = free_port()
    log = workdir / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [RISKGATE, "serve", "--port", str(port), "--no-migrate"],
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Server(port, process, log)


async def start_server(env: dict[str, str], workdir: Path) -> Server:
    """`riskgate serve --port N --no-migrate`, ready when /readyz answers 200."""
    server = _spawn_server(env, workdir)
    process = server.process
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=server.http, timeout=2) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/readyz")).status_code == 200:
                    return server
            await asyncio.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not start:\n{server.log.read_text()[-4000:]}")


class RedisProcess:
    """A redis-server of the test's own, on its own port, that the test may stop."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _spawn(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.workdir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def start(self) -> None:
        self._spawn()
        client = Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            for _ in range(100):
                with contextlib.suppress(Exception):
                    if await client.ping():
                        return
                await asyncio.sleep(0.05)
        finally:
            await client.aclose()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


class AlertSocket:
    """One graphql-transport-ws connection with one breakerAlerts subscription."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls, server: Server, token: str, client_id: str | None = None
    ) -> AsyncIterator[AlertSocket]:
        async with connect(server.ws, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            await ws.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
                )
            )
            ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert ack["type"] == "connection_ack", ack
            payload = {"query": SUBSCRIBE, "variables": {"clientId": client_id}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            yield cls(ws)

    async def message(self, within: float) -> dict[str, Any]:
        return dict(json.loads(await asyncio.wait_for(self.ws.recv(), within)))

    async def next_alert(self, within: float) -> dict[str, Any]:
        message = await self.message(within)
        assert message["type"] == "next", message
        assert not message["payload"].get("errors"), message
        return dict(message["payload"]["data"]["breakerAlerts"])

    async def nothing_within(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            message = await self.message(seconds)
            raise AssertionError(f"unexpected message {message}")


async def close_code(server: Server, init_payload: dict[str, Any], *, wait: float = 5) -> int:
    """Connect, send connection_init (and a subscription if acknowledged); the close code."""
    async with connect(server.ws, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": init_payload}))
        try:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), wait))
                if message["type"] == "connection_ack":
                    payload = {"query": SUBSCRIBE, "variables": {}}
                    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            return closed.rcvd.code
    raise AssertionError("the connection was not closed")
