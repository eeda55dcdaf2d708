"""A client that declares a body and does not send it is answered 408 and disconnected once
the body timeout passes, against a real uvicorn server; other callers are served meanwhile."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from riskgate.app import create_app
from tests.hardening.helpers import serving
from tests.support.settings import make_settings

# Generous: the bound is what is tested, not how fast the server is.
WAIT_SECONDS = 60


@pytest.fixture
async def slow_body_app(clean_database: str) -> AsyncIterator[Any]:
    application = create_app(make_settings(clean_database, body_timeout_seconds=0.5))
    async with application.router.lifespan_context(application):
        yield application


async def read_all(reader: asyncio.StreamReader) -> bytes:
    """Everything until the server closes the connection."""
    chunks = []
    while chunk := await reader.read(65536):
        chunks.append(chunk)
    return b"".join(chunks)


HEAD = "POST /graphql HTTP/1.1\r\nHost: riskgate.test\r\nContent-Type: application/json\r\n"


@pytest.mark.parametrize(
    ("framing", "first_bytes"),
    [
        ("Content-Length: 100\r\n\r\n", b"{"),
        ("Transfer-Encoding: chunked\r\n\r\n", b"1\r\n{\r\n"),
    ],
    ids=["content-length", "chunked"],
)
async def test_a_body_that_never_arrives_is_cut_off(
    slow_body_app: Any, framing: str, first_bytes: bytes
) -> None:
    async with serving(slow_body_app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write((HEAD + framing).encode() + first_bytes)
            await writer.drain()
            # Meanwhile another caller is served.
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                assert (await http.get("/healthz")).status_code == 200
            raw = await asyncio.wait_for(read_all(reader), WAIT_SECONDS)
        finally:
            writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), raw[:300]
    assert b"application/json" in head.lower(), head
    error = json.loads(body)["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error


async def test_a_body_in_time_is_served(slow_body_app: Any) -> None:
    body = json.dumps({"query": "{ __typename }"}).encode()
    async with serving(slow_body_app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            head = HEAD + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            writer.write(head.encode() + body)
            await writer.drain()
            raw = await asyncio.wait_for(read_all(reader), WAIT_SECONDS)
        finally:
            writer.close()
    assert raw.startswith(b"HTTP/1.1 200"), raw[:300]
    assert json.loads(raw.partition(b"\r\n\r\n")[2]) == {"data": {"__typename": "Query"}}
