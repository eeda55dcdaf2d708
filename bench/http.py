"""A lean HTTP/1.1 keep-alive client for GraphQL POSTs.

The load generator must cost far less per request than the server, so requests are
assembled from pre-encoded parts and responses are parsed just enough to find the body.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any


class HttpError(Exception):
    """The server answered with something the benchmark cannot use."""


class GraphQLRequest:
    """A fixed document with variables; encodes the whole request once per call of `encode`."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self._head = (
            f"POST /graphql HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/json\r\nAccept: application/json\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: "
        ).encode()

    def encode(self, query: str, variables: dict[str, Any] | None = None) -> bytes:
        payload: dict[str, Any] = {"query": query}
        if variables:
            payload["variables"] = variables
        return self.encode_body(json.dumps(payload, separators=(",", ":")).encode())

    def encode_body(self, body: bytes) -> bytes:
        return self._head + str(len(body)).encode() + b"\r\n\r\n" + body


class Connection:
    """One persistent connection; one request in flight at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
        return cls(reader, writer)

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send one pre-encoded request; the status code and the raw body."""
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        start = lower.find(b"\r\ncontent-length:")
        if start >= 0:
            end = lower.index(b"\r\n", start + 2)
            length = int(head[start + 17 : end])
            return status, await self._reader.readexactly(length)
        if b"\r\ntransfer-encoding: chunked" in lower:
            return status, await self._read_chunked()
        raise HttpError("response without a length")

    async def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size_line = await self._reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0], 16)
            chunk = await self._reader.readexactly(size + 2)
            if size == 0:
                return b"".join(parts)
            parts.append(chunk[:-2])

    async def post_json(self, request: bytes) -> dict[str, Any]:
        """Send and decode; raise on a non-200 answer or GraphQL errors."""
        status, body = await self.send(request)
        decoded: dict[str, Any] = json.loads(body)
        if status != 200 or decoded.get("errors"):
            raise HttpError(f"HTTP {status}: {body[:500]!r}")
        return decoded

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()
