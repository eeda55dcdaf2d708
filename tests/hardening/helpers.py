"""Shared pieces of the hardening tests: a real uvicorn server around a started app, a
graphql-transport-ws client, and the check that a log holds no traceback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from db.tables import metadata
from tests.support.servers import free_port


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[int]:
    """The (already started) app behind a real uvicorn server in this event loop; the port."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(1000):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield port
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def ws_session(port: int, token: str) -> AsyncIterator[ClientConnection]:
    """An acknowledged graphql-transport-ws connection."""
    url = f"ws://127.0.0.1:{port}/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        yield ws


async def ws_errors(ws: ClientConnection, op: str, query: str, **payload: Any) -> list[Any]:
    """Subscribe with `query`; the errors of the first message for that operation."""
    message = {"id": op, "type": "subscribe", "payload": {"query": query, **payload}}
    await ws.send(json.dumps(message))
    while True:
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if reply.get("id") != op:
            continue
        if reply["type"] == "error":
            return list(reply["payload"])
        if reply["type"] == "next":
            return list(reply["payload"].get("errors") or [])
        raise AssertionError(f"unexpected message {reply}")


def codes(errors: list[Any]) -> set[str | None]:
    return {(e.get("extensions") or {}).get("code") for e in errors}


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert record.exc_info is None, record.getMessage()
        assert "Traceback" not in record.getMessage(), record.getMessage()
        assert record.levelno < logging.ERROR, record.getMessage()


async def row_counts(database_url: str) -> dict[str, int]:
    """Rows in every table: equal before and after proves a refused call stored nothing."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return {
                table.name: int(
                    (await conn.execute(select(func.count()).select_from(table))).scalar_one()
                )
                for table in metadata.sorted_tables
            }
    finally:
        await engine.dispose()


ENUM_VALUES = {"BUY", "SELL", "ACTIVE", "REDUCE_ONLY", "HALTED"}


def inline(document: str, variables: dict[str, Any]) -> str:
    """The same request with its variables written into the document as literals."""

    def value(v: Any) -> str:
        if v is None:
            return "null"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k}: {value(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int) or v in ENUM_VALUES:
            return str(v)
        return json.dumps(v)  # GraphQL string escapes are JSON's

    head, _, body = document.partition(")")
    for name in sorted(variables, key=len, reverse=True):
        body = body.replace(f"${name}", value(variables[name]))
    operation = "query" if head.lstrip().startswith("query") else "mutation"
    return f"{operation} {body.strip()}"
