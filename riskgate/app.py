"""The Starlette application: /graphql, /healthz, /readyz, /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from db.engine import Database
from db.migrations import is_current, upgrade_to_head
from domain.errors import RiskgateError
from resolvers.deps import AlertBus, Deps, utc_now
from riskgate.assets import graphiql_assets, graphiql_page
from riskgate.auth import TokenVerifier
from riskgate.body_guard import BodyGuard
from riskgate.bus import make_bus
from riskgate.console import console_routes
from riskgate.observability import (
    OperationMetrics,
    RequestObserver,
    count_errors,
    counted_feed,
    metrics_response,
    note_claim,
    note_decision,
    tracing_extensions,
)
from riskgate.settings import Settings
from riskgate.transport import (
    CodedWSHandler,
    Refusal,
    decode_ws_json,
    from_http_exception,
    read_request,
)
from schema.build import build_schema
from schema.context import Context
from schema.errors import is_refused_request, map_error

log = logging.getLogger("riskgate")


@dataclass
class Running:
    """What the service opens at start-up and closes at shutdown (None outside that)."""

    db: Database | None = None
    bus: AlertBus | None = None
    deps: Deps | None = None


class RiskgateGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with the caller resolved from the bearer token per request;
    requests are decoded by riskgate.transport, whose refusals leave as coded JSON errors."""

    graphql_transport_ws_handler_class = CodedWSHandler

    def __init__(self, *, running: Running, verifier: TokenVerifier, **kwargs: Any):
        super().__init__(**kwargs)
        self.running = running
        self.verifier = verifier

    @property
    def deps(self) -> Deps:
        """The use cases' dependencies, opened at start-up."""
        if self.running.deps is None:
            raise RuntimeError("the service has not started")
        return self.running.deps

    @property
    def graphql_ide_html(self) -> str:
        return graphiql_page()

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
        if scope["type"] == "http":
            try:
                response = await self.run(Request(scope, receive=receive))
            except (Refusal, HTTPException) as error:
                refusal = error if isinstance(error, Refusal) else from_http_exception(error)
                count_errors([refusal.code])
                response = refusal.response()
            await response(scope, receive, send)
            return
        # One context per connection (it holds the caller, never a database session).
        websocket = WebSocket(scope, receive=receive, send=send)
        context = Context(deps=self.deps, websocket=websocket)
        try:
            await self.run(websocket, context=context)
        finally:
            if context.expiry is not None:
                context.expiry.cancel()

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
        if context.websocket is not None:
            context.expiry = asyncio.create_task(
                _close_at_expiry(context.websocket, expires_at - time.time())
            )
        return cast(UnsetType, UNSET)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        return await read_request(request)

    def decode_json(self, data: str | bytes) -> object:
        return decode_ws_json(data)  # WebSocket messages; HTTP bodies go through read_request

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        result = await super().execute_single(*args, **kwargs)
        if result.errors and is_refused_request(result.errors):
            kwargs["sub_response"].status_code = 400
        return result

    async def process_result(self, request: Request, result: Any) -> Any:
        # Errors raised before execution (e.g. the token limit while parsing) skip the
        # schema's error coding; code them here so every error carries one.
        if result.errors:
            result.errors = [
                e if (e.extensions or {}).get("code") else map_error(e) for e in result.errors
            ]
        count_errors([(e.extensions or {}).get("code", "INTERNAL") for e in result.errors or ()])
        return await super().process_result(request, result)


async def _close_at_expiry(websocket: WebSocket, delay: float) -> None:
    await asyncio.sleep(max(delay, 0))
    with contextlib.suppress(Exception):
        await websocket.close(code=4401, reason="token expired")


def create_app(
    settings: Settings | None = None, *, now: Callable[[], datetime] | None = None
) -> Starlette:
    """Build the app; the database is opened (and migrated) when the app starts."""
    settings = settings or Settings()
    running = Running()

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if settings.auto_migrate:
            await upgrade_to_head(settings.database_url)
        db = Database(
            settings.database_url,
            pool_size=settings.db_pool_size,
            statement_timeout_ms=settings.statement_timeout_ms,
        )
        bus = make_bus(settings.redis_url, settings.alerts_channel)
        await bus.start()
        _app.state.bus = bus
        running.db, running.bus = db, bus
        running.deps = Deps(
            db=db,
            calendar=settings.calendar,
            reservation_ttl=timedelta(seconds=settings.reservation_ttl_seconds),
            check_timeout=settings.statement_timeout_ms / 1000,
            max_batch=settings.max_batch,
            now=now or utc_now,
            publish=bus.publish,
            subscribe=counted_feed(bus.subscribe),
            on_decision=note_decision,
            on_claim=note_claim,
        )
        # Objects alive after start-up stay alive; keep the collector off them.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            running.deps = running.db = running.bus = None
            await bus.close()
            await db.dispose()

    graphql = RiskgateGraphQL(
        running=running,
        verifier=TokenVerifier(settings),
        schema=build_schema(
            introspection=settings.is_development,
            observers=[OperationMetrics, *tracing_extensions(settings.otel_enabled)],
        ),
        graphql_ide="graphiql" if settings.is_development else None,
        allow_queries_via_get=False,
        subscription_protocols=("graphql-transport-ws",),
    )

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_request: Request) -> Response:
        db = running.db
        try:
            if db is None:
                raise RuntimeError("not started")

            async def probe(conn: AsyncConnection) -> bool:
                await conn.execute(text("SELECT 1"))
                return await is_current(conn)

            if not await db.read(probe):
                return JSONResponse({"status": "migrations pending"}, status_code=503)
        except Exception as error:  # any failure means not ready
            log.warning("readiness check failed: %s", type(error).__name__)
            return JSONResponse({"status": "database unavailable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def metrics_endpoint(_request: Request) -> Response:
        return await metrics_response(running.db)

    app = Starlette(
        routes=[
            Route("/graphql", graphql),  # any method: the view refuses others in JSON
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            *console_routes(),
            *([graphiql_assets()] if settings.is_development else []),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(
        BodyGuard, max_bytes=settings.max_body_bytes, seconds=settings.body_timeout_seconds
    )
    # Added last, so outermost: preflights get an answer, and every response a request id.
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
            max_age=600,
        )
    app.add_middleware(RequestObserver)
    app.state.settings = settings
    app.state.graphql = graphql
    return app
