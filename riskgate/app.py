"""The Starlette application: /graphql, /healthz, /readyz, /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from db.engine import Database
from db.migrations import is_current, upgrade_to_head
from domain.errors import RiskgateError
from resolvers.deps import Deps, utc_now
from riskgate.auth import TokenVerifier
from riskgate.bus import make_bus
from riskgate.metrics import Metrics
from riskgate.settings import Settings
from schema.build import build_schema
from schema.context import Context
from schema.errors import map_error

log = logging.getLogger("riskgate")


class RiskgateGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with the caller resolved from the bearer token per request."""

    def __init__(self, *, deps: Deps, verifier: TokenVerifier, metrics: Metrics, **kwargs: Any):
        super().__init__(**kwargs)
        self.deps = deps
        self.verifier = verifier
        self.metrics = metrics

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        context = Context(deps=self.deps)
        if isinstance(request, WebSocket):
            return context  # authenticated at connection_init
        try:
            context.caller, context.token_expires_at = self.verifier.from_header(
                request.headers.get("authorization")
            )
        except RiskgateError as error:
            context.auth_error = error
        return context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await super().__call__(scope, receive, send)
            return
        # One context per connection (it holds the caller, never a database session).
        websocket = WebSocket(scope, receive=receive, send=send)
        context = Context(deps=self.deps)
        context.extras["websocket"] = websocket
        try:
            await self.run(websocket, context=context)
        finally:
            expiry: asyncio.Task[None] | None = context.extras.pop("expiry", None)
            if expiry is not None:
                expiry.cancel()

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """The token comes in connection_init's payload; a bad one closes the socket (4403),
        and the socket closes when the token expires (4401)."""
        params = context.connection_params or {}
        header = params.get("authorization", params.get("Authorization"))
        try:
            caller, expires_at = self.verifier.from_header(
                header if isinstance(header, str) else None
            )
        except RiskgateError as error:
            raise ConnectionRejectionError({"message": error.message}) from None
        context.caller, context.token_expires_at = caller, expires_at
        websocket = context.extras.get("websocket")
        if isinstance(websocket, WebSocket):
            context.extras["expiry"] = asyncio.create_task(
                _close_at_expiry(websocket, expires_at - time.time())
            )
        return UNSET

    async def process_result(self, request: Request, result: Any) -> Any:
        # Errors raised before execution (e.g. the token limit while parsing) skip the
        # schema's error coding; code them here so every error carries one.
        if result.errors:
            result.errors = [
                e if (e.extensions or {}).get("code") else map_error(e) for e in result.errors
            ]
        for error in result.errors or ():
            self.metrics.errors[(error.extensions or {}).get("code", "INTERNAL")] += 1
        return await super().process_result(request, result)


async def _close_at_expiry(websocket: WebSocket, delay: float) -> None:
    await asyncio.sleep(max(delay, 0))
    with contextlib.suppress(Exception):
        await websocket.close(code=4401, reason="token expired")


class BodyLimit:
    """Refuse request bodies over a size before anything parses them (413)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(scope, receive, send, self.max_bytes)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await _too_large(scope, receive, send, self.max_bytes)


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


class Timing:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            self.metrics.observe_request(status, time.perf_counter() - started)


def create_app(
    settings: Settings | None = None, *, now: Callable[[], datetime] | None = None
) -> Starlette:
    """Build the app; the database is opened (and migrated) when the app starts."""
    settings = settings or Settings()
    metrics = Metrics()
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if settings.auto_migrate:
            await upgrade_to_head(settings.database_url)
        db = Database(
            settings.database_url,
            pool_size=settings.db_pool_size,
            statement_timeout_ms=settings.statement_timeout_ms,
        )
        state["db"] = db
        bus = make_bus(settings.redis_url, settings.alerts_channel)
        await bus.start()
        graphql.deps = Deps(
            db=db,
            calendar=settings.calendar,
            reservation_ttl=timedelta(seconds=settings.reservation_ttl_seconds),
            check_timeout=settings.statement_timeout_ms / 1000,
            max_batch=settings.max_batch,
            now=now or utc_now,
            publish=bus.publish,
            subscribe=bus.subscribe,
        )
        # Objects alive after start-up stay alive; keep the collector off them.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await bus.close()
            await db.dispose()

    graphql = RiskgateGraphQL(
        deps=None,  # type: ignore[arg-type]  # set at start-up
        verifier=TokenVerifier(settings),
        metrics=metrics,
        schema=build_schema(introspection=settings.is_development),
        graphql_ide="graphiql" if settings.is_development else None,
        allow_queries_via_get=False,
        subscription_protocols=("graphql-transport-ws",),
    )

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_request: Request) -> Response:
        db: Database | None = state.get("db")
        try:
            if db is None:
                raise RuntimeError("not started")
            async with db.read() as conn:
                await conn.execute(text("SELECT 1"))
                current = await is_current(conn)
            if not current:
                return JSONResponse({"status": "migrations pending"}, status_code=503)
        except Exception as error:  # any failure means not ready
            log.warning("readiness check failed: %s", type(error).__name__)
            return JSONResponse({"status": "database unavailable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def metrics_endpoint(_request: Request) -> Response:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Timing, metrics=metrics)
    app.state.settings = settings
    app.state.graphql = graphql
    return app
