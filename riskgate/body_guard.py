"""Bounds on a request body: its size (413) and the time it may take to arrive (408).

One middleware for both, so a request's body passes through one receive wrapper instead of
one per bound.
"""

from __future__ import annotations

import asyncio

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from riskgate.transport import Refusal


class BodyGuard:
    """Refuse bodies over `max_bytes` before anything parses them (413), and answer a body
    that has not arrived within `seconds` with 408, closing its connection, so a client
    cannot hold a worker with a half-sent body."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, seconds: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(scope, receive, send, self.max_bytes)
            return
        deadline = asyncio.get_running_loop().time() + self.seconds
        seen = 0
        body_done = False
        started = False

        async def guarded() -> Message:
            nonlocal seen, body_done
            if body_done:  # later receives wait for the disconnect: not bounded
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise _late_body() from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _BodyTooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded, tracked)
        except _BodyTooLarge:
            await _too_large(scope, receive, tracked, self.max_bytes)
        except Refusal as refusal:
            if started:
                raise
            await refusal.response()(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    body = {
        "errors": [
            {
                "message": f"request body over {limit} bytes",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }
    await JSONResponse(body, status_code=413)(scope, receive, send)


def _late_body() -> Refusal:
    return Refusal(
        "the request body did not arrive in time",
        status=408,
        headers={"connection": "close"},
    )
