"""Prometheus metrics, the request id and access log, alert logging, optional tracing.

Metrics live in prometheus_client's default registry, which also carries the process,
platform and garbage-collector collectors. Counters are per process; Prometheus sums them
across a fleet."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import QueuePool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from db.engine import Database
from db.tables import job_runs
from domain.breakers import Alert
from domain.decisions import Decision
from domain.values import AlertLevel
from resolvers.deps import AlertFeed, FeedItem
from riskgate.logging_setup import accept_request_id, request_id

# The *_created series only repeat the process start time.
disable_created_metrics()  # type: ignore[no-untyped-call]

log = logging.getLogger("riskgate")
access_log = logging.getLogger("riskgate.access")
alert_log = logging.getLogger("riskgate.alerts")

_FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "riskgate_http_requests",
    "HTTP requests by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "riskgate_http_request_seconds",
    "HTTP request latency by endpoint (graphql, healthz, readyz, metrics, graphiql, other).",
    ["endpoint"],
    buckets=_FAST_BUCKETS,
)
OPERATION_SECONDS = Histogram(
    "riskgate_graphql_operation_seconds",
    "GraphQL query and mutation latency by operation type and name (parse to result).",
    ["type", "operation"],
    buckets=_FAST_BUCKETS,
)
GRAPHQL_ERRORS = Counter("riskgate_graphql_errors", "GraphQL errors by code.", ["code"])
DECISIONS = Counter(
    "riskgate_risk_decisions",
    "Risk checks decided by this process, by outcome (passed, refused); dry runs apart.",
    ["outcome", "dry_run"],
)
CLAIMS = Counter(
    "riskgate_check_claims",
    "How PostgreSQL checks' capacity claims ended: stood, lost (decided again) or locked (the"
    " check took the platform lock instead, after losses or to sweep expired reservations).",
    ["outcome"],
)
ALERTS = Counter(
    "riskgate_breaker_alerts",
    "Breaker alerts raised by this process, by kind and level.",
    ["kind", "level"],
)
SUBSCRIPTIONS = Gauge("riskgate_subscriptions_open", "Alert subscriptions open on this process.")
JOB_LAST_SUCCESS = Gauge(
    "riskgate_job_last_success_timestamp_seconds",
    "When each periodic job last finished successfully (any worker; from the database).",
    ["job"],
)
JOB_LAST_DURATION = Gauge(
    "riskgate_job_last_duration_seconds",
    "How long each periodic job's last successful run took (from the database).",
    ["job"],
)
DB_POOL = Gauge(
    "riskgate_db_pool_connections",
    "Database connections of this process by pool (writer, reader) and state (in_use, idle).",
    ["pool", "state"],
)

# Operation names are chosen by callers: only this many distinct ones get their own series.
MAX_OPERATION_NAMES = 200
_OPERATION_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
_seen_operations: set[str] = set()

_ENDPOINTS = {
    "/graphql": "graphql",
    "/healthz": "healthz",
    "/readyz": "readyz",
    "/metrics": "metrics",
}


def _endpoint(path: str) -> str:
    if path in _ENDPOINTS:
        return _ENDPOINTS[path]
    if path.startswith("/graphiql/"):
        return "graphiql"
    return "other"


def operation_label(name: str | None) -> str:
    """A bounded label for a caller-chosen operation name."""
    if not name:
        return "anonymous"
    if not _OPERATION_NAME.match(name):
        return "other"
    if name not in _seen_operations:
        if len(_seen_operations) >= MAX_OPERATION_NAMES:
            return "other"
        _seen_operations.add(name)
    return name


class RequestObserver:
    """Gives every request an id (X-Request-ID in, echoed out, made up when absent) that each
    log line written while serving it carries; writes one access line per HTTP request and
    feeds the request metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        raw = headers.get(b"x-request-id")
        rid = accept_request_id(raw.decode("latin-1") if raw is not None else None)
        token = request_id.set(rid)
        try:
            if scope["type"] == "websocket":
                await self.app(scope, receive, send)
            else:
                await self._http(scope, receive, send, rid)
        finally:
            request_id.reset(token)

    async def _http(self, scope: Scope, receive: Receive, send: Send, rid: str) -> None:
        started = time.perf_counter()
        status = 500

        async def stamped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", ()),
                    (b"x-request-id", rid.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, stamped)
        finally:
            _record(scope["method"], scope["path"], status, time.perf_counter() - started)


# Children of labelled metrics, remembered: `.labels()` validates, builds a key and takes a
# lock on every call. A child dropped from a cache is found again by `.labels()` (the metric
# keeps it), so the bounds only limit memory.
@lru_cache(maxsize=MAX_OPERATION_NAMES)
def _http_children(endpoint: str, method: str, status: int) -> tuple[Counter, Histogram]:
    return HTTP_REQUESTS.labels(endpoint, method, str(status)), HTTP_SECONDS.labels(endpoint)


@lru_cache(maxsize=MAX_OPERATION_NAMES)
def _operation_child(kind: str, name: str) -> Histogram:
    return OPERATION_SECONDS.labels(kind, name)


@lru_cache(maxsize=MAX_OPERATION_NAMES)
def _error_child(code: str) -> Counter:
    return GRAPHQL_ERRORS.labels(code)


@lru_cache(maxsize=4)
def _decision_child(outcome: str, dry_run: str) -> Counter:
    return DECISIONS.labels(outcome, dry_run)


def _record(method: str, path: str, status: int, elapsed: float) -> None:
    endpoint = _endpoint(path)
    requests, seconds = _http_children(endpoint, method, status)
    requests.inc()
    seconds.observe(elapsed)
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(
            "%s %s %s %.1f ms",
            method,
            path,
            status,
            elapsed * 1000,
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(elapsed * 1000, 3),
            },
        )


class OperationMetrics(SchemaExtension):
    """Latency of queries and mutations by type and name (subscriptions are long-lived and
    are counted as open subscriptions instead)."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        try:
            kind = context.operation_type.value
        except Exception:  # the document did not parse: no operation to speak of
            kind = "invalid"
        if kind == "subscription":
            return
        name = operation_label(context.operation_name) if kind != "invalid" else "invalid"
        _operation_child(kind, name).observe(time.perf_counter() - started)


def count_errors(codes: Sequence[str]) -> None:
    for code in codes:
        _error_child(code).inc()


def note_decision(decision: Decision, dry_run: bool) -> None:
    outcome = "passed" if decision.result.passes else "refused"
    _decision_child(outcome, "true" if dry_run else "false").inc()


@lru_cache(maxsize=4)
def _claim_child(outcome: str) -> Counter:
    return CLAIMS.labels(outcome)


def note_claim(outcome: str) -> None:
    _claim_child(outcome).inc()


def note_alerts(alerts: Sequence[Alert]) -> None:
    """Every alert this process raises is counted and logged (ERROR when CRITICAL)."""
    for alert in alerts:
        ALERTS.labels(alert.kind, alert.level.value).inc()
        alert_log.log(
            logging.ERROR if alert.level is AlertLevel.CRITICAL else logging.WARNING,
            "breaker alert %s %s -> %s%s: %s",
            alert.kind,
            alert.previous_level.value,
            alert.level.value,
            f" for client {alert.client_id}" if alert.client_id else " (platform)",
            alert.message,
            extra={
                "alert_id": alert.id,
                "alert_kind": alert.kind,
                "alert_level": alert.level.value,
                "client_id": alert.client_id,
            },
        )


def counted_feed(subscribe: AlertFeed) -> AlertFeed:
    """The alert feed, with the open subscriptions gauge following its users."""

    @asynccontextmanager
    async def feed() -> AsyncIterator[AsyncIterator[FeedItem]]:
        SUBSCRIPTIONS.inc()
        try:
            async with subscribe() as items:
                yield items
        finally:
            SUBSCRIPTIONS.dec()

    return feed


async def metrics_response(db: Database | None) -> Response:
    """The exposition, with the job gauges refreshed from the shared record of job runs and
    the pool gauges from this process's engines."""
    if db is not None:
        try:
            query = select(job_runs.c.name, job_runs.c.last_started_at, job_runs.c.last_finished_at)

            async def read(conn: AsyncConnection) -> list[Any]:
                return list((await conn.execute(query)).all())

            rows = await db.read(read)
        except Exception as error:  # metrics must answer even when the database does not
            log.warning("job run times unavailable for metrics: %s", type(error).__name__)
            rows = []
        for name, started, finished in rows:
            if finished is None:
                continue
            JOB_LAST_SUCCESS.labels(name).set(finished.timestamp())
            JOB_LAST_DURATION.labels(name).set((finished - started).total_seconds())
        _pool_gauges(db)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def _pool_gauges(db: Database) -> None:
    engines = {"writer": db.writer, "reader": db.reader}
    if db.reader is db.writer:
        del engines["reader"]
    for name, engine in engines.items():
        pool = engine.sync_engine.pool
        if isinstance(pool, QueuePool):
            DB_POOL.labels(name, "in_use").set(pool.checkedout())
            DB_POOL.labels(name, "idle").set(pool.checkedin())


def tracing_extensions(enabled: bool) -> list[Any]:
    """Strawberry's OpenTelemetry extension when tracing is on and the extra is installed."""
    if not enabled:
        return []
    try:
        from strawberry.extensions.tracing import OpenTelemetryExtension
    except ImportError:
        log.warning(
            "RISKGATE_OTEL_ENABLED is set but OpenTelemetry is not installed "
            "(pip install 'riskgate[otel]'); tracing is off"
        )
        return []
    return [OpenTelemetryExtension]
