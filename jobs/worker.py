"""The arq worker: job functions, their schedule, a JSON serializer and Redis settings that
ride out a Redis outage instead of killing the worker.

The service wires it up (`riskgate worker`): it passes its settings and a factory for the
alert bus, so alerts raised by a job reach subscribers on every server process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any, Protocol

from arq import cron, func
from arq.connections import RedisSettings
from arq.worker import Worker
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from db.engine import Database
from domain.trading_day import TradingCalendar
from jobs.tasks import JobResult, run_job
from resolvers.deps import AlertBus, Deps

log = logging.getLogger("riskgate.jobs")


class JobConfig(Protocol):
    """What the worker needs from the service's settings."""

    @property
    def database_url(self) -> str: ...
    @property
    def redis_url(self) -> str | None: ...
    @property
    def job_queue(self) -> str: ...
    @property
    def calendar(self) -> TradingCalendar: ...
    @property
    def db_pool_size(self) -> int: ...
    @property
    def statement_timeout_ms(self) -> int: ...
    @property
    def reservation_ttl_seconds(self) -> int: ...


BusFactory = Callable[[], AlertBus]


def serialize(value: Any) -> bytes:
    """Jobs and results travel as JSON, never pickle (nothing executable crosses Redis)."""
    return json.dumps(value, default=str, separators=(",", ":")).encode()


def deserialize(data: bytes) -> Any:
    return json.loads(data)


def redis_settings(url: str) -> RedisSettings:
    """Retry every command with capped backoff for ever, and keep trying to connect at
    start-up: a Redis outage pauses the worker; it does not end it."""
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 2
    settings.conn_retries = 1_000_000
    settings.conn_retry_delay = 2
    settings.retry_on_timeout = True
    settings.retry_on_error = [RedisConnectionError, RedisTimeoutError]
    settings.retry = Retry(ExponentialBackoff(cap=5.0, base=0.1), -1)
    return settings


def open_deps(config: JobConfig, publisher: AlertBus) -> tuple[Deps, Database]:
    db = Database(
        config.database_url,
        pool_size=min(config.db_pool_size, 4),
        statement_timeout_ms=max(config.statement_timeout_ms, 60_000),
    )
    deps = Deps(
        db=db,
        calendar=config.calendar,
        reservation_ttl=timedelta(seconds=config.reservation_ttl_seconds),
        publish=publisher.publish,
    )
    return deps, db


async def _startup(ctx: dict[str, Any]) -> None:
    if "deps" in ctx:  # given by the caller (tests)
        return
    publisher: AlertBus = ctx["open_bus"]()
    await publisher.start()
    deps, db = open_deps(ctx["config"], publisher)
    ctx.update(deps=deps, db=db, publisher=publisher)


async def _shutdown(ctx: dict[str, Any]) -> None:
    publisher: AlertBus | None = ctx.pop("publisher", None)
    db: Database | None = ctx.pop("db", None)
    if publisher is not None:
        await publisher.close()
    if db is not None:
        await db.dispose()


async def snapshots(ctx: dict[str, Any]) -> JobResult:
    return await run_job("snapshots", ctx["deps"])


async def breakers(ctx: dict[str, Any]) -> JobResult:
    return await run_job("breakers", ctx["deps"])


async def cleanup_snapshots(ctx: dict[str, Any]) -> JobResult:
    return await run_job("cleanup-snapshots", ctx["deps"])


async def purge_reservations(ctx: dict[str, Any]) -> JobResult:
    return await run_job("purge-reservations", ctx["deps"])


class WorkerSettings:
    """arq settings: the jobs (also enqueueable by name) and their schedule, in UTC."""

    functions = [
        func(snapshots, name="snapshots"),
        func(breakers, name="breakers"),
        func(cleanup_snapshots, name="cleanup-snapshots"),
        func(purge_reservations, name="purge-reservations"),
    ]
    cron_jobs = [
        cron(snapshots, name="cron:snapshots", minute=0, second=5),
        cron(breakers, name="cron:breakers", minute={7, 22, 37, 52}, second=0),
        cron(cleanup_snapshots, name="cron:cleanup-snapshots", weekday="sun", hour=3, minute=30),
        cron(purge_reservations, name="cron:purge-reservations", minute=set(range(3, 60, 10))),
    ]
    on_startup = _startup
    on_shutdown = _shutdown
    job_serializer = staticmethod(serialize)
    job_deserializer = staticmethod(deserialize)
    timezone = UTC
    job_timeout = 900
    max_tries = 3
    keep_result = 3600
    health_check_interval = 60


def build_worker(
    config: JobConfig,
    open_bus: BusFactory,
    *,
    burst: bool = False,
    queue_name: str | None = None,
    deps: Deps | None = None,
    handle_signals: bool = True,
) -> Worker:
    """An arq Worker for `config` (burst: run what is queued, then stop)."""
    if not config.redis_url:
        raise ValueError("the worker needs RISKGATE_REDIS_URL (or use `riskgate run-job NAME`)")
    ctx: dict[str, Any] = {"config": config, "open_bus": open_bus}
    if deps is not None:
        ctx["deps"] = deps
    return Worker(
        functions=WorkerSettings.functions,
        cron_jobs=WorkerSettings.cron_jobs,
        on_startup=WorkerSettings.on_startup,
        on_shutdown=WorkerSettings.on_shutdown,
        job_serializer=serialize,
        job_deserializer=deserialize,
        timezone=WorkerSettings.timezone,
        job_timeout=WorkerSettings.job_timeout,
        max_tries=WorkerSettings.max_tries,
        keep_result=WorkerSettings.keep_result,
        health_check_interval=WorkerSettings.health_check_interval,
        redis_settings=redis_settings(config.redis_url),
        queue_name=queue_name or config.job_queue,
        ctx=ctx,
        burst=burst,
        poll_delay=0.05 if burst else 0.5,
        handle_signals=handle_signals,
    )


def run_worker(config: JobConfig, open_bus: BusFactory) -> None:
    """Run until SIGINT/SIGTERM; if Redis fails in a way the retries do not absorb, start
    again after a pause rather than exit."""
    asyncio.run(_supervise(config, open_bus))


async def _supervise(config: JobConfig, open_bus: BusFactory) -> None:
    while True:
        worker = build_worker(config, open_bus)
        try:
            await worker.async_run()
            return
        except asyncio.CancelledError:
            return  # a shutdown signal
        except (RedisError, OSError) as error:
            log.warning("worker lost Redis (%s); starting again in 5 s", type(error).__name__)
        finally:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                async with asyncio.timeout(10):
                    await worker.close()
            await _shutdown(worker.ctx)
        await asyncio.sleep(5)
