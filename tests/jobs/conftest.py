"""Jobs run by the real arq worker (burst mode) on a real Redis, against each database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from arq.connections import create_pool
from redis.asyncio import Redis

from db.engine import Database
from domain.breakers import Alert
from jobs.worker import build_worker, deserialize, redis_settings, serialize
from resolvers.deps import Deps
from riskgate.bus import InProcessBus
from riskgate.settings import Settings
from tests.support.clock import Clock
from tests.support.databases import REDIS_URL, unavailable
from tests.support.settings import make_settings


@pytest.fixture
async def redis_url() -> str:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    except Exception as error:
        unavailable("Redis", error)
    finally:
        await client.aclose()
    return REDIS_URL


@dataclass
class Published:
    """What jobs handed to the alert bus."""

    alerts: list[Alert] = field(default_factory=list)

    async def __call__(self, alerts: Sequence[Alert]) -> None:
        self.alerts.extend(alerts)


class JobRunner:
    """Enqueues jobs on a private queue and runs burst workers until the queue is empty."""

    def __init__(self, settings: Settings, database_url: str, clock: Clock) -> None:
        self.settings = settings
        self.database_url = database_url
        self.clock = clock
        self.published = Published()
        self._databases: list[Database] = []

    def deps(self) -> Deps:
        """A worker's own dependencies (its own engine, as a separate process would have)."""
        db = Database(self.database_url)
        self._databases.append(db)
        return Deps(db=db, calendar=self.settings.calendar, now=self.clock, publish=self.published)

    async def run(self, name: str, *, workers: int = 1) -> list[dict[str, Any]]:
        """Run `name` once in each of `workers` workers at the same time; their results."""
        assert self.settings.redis_url
        pools, jobs, runs = [], [], []
        for _ in range(workers):
            queue = f"{self.settings.job_queue}:{uuid.uuid4().hex[:8]}"
            pool = await create_pool(
                redis_settings(self.settings.redis_url),
                job_serializer=serialize,
                job_deserializer=deserialize,
                default_queue_name=queue,
            )
            pools.append(pool)
            jobs.append(await pool.enqueue_job(name))
            runs.append(
                build_worker(
                    self.settings,
                    InProcessBus,
                    burst=True,
                    queue_name=queue,
                    deps=self.deps(),
                    handle_signals=False,
                )
            )
        try:
            await asyncio.gather(*(worker.async_run() for worker in runs))
            return [await job.result(timeout=30) for job in jobs if job is not None]
        finally:
            for worker in runs:
                await worker.close()
            for pool in pools:
                await pool.aclose()

    async def close(self) -> None:
        for db in self._databases:
            await db.dispose()


@pytest.fixture
async def runner(redis_url: str, clean_database: str, clock: Clock) -> AsyncIterator[JobRunner]:
    settings = make_settings(
        clean_database,
        redis_url=redis_url,
        redis_prefix=f"riskgate-test-{uuid.uuid4().hex[:8]}",
    )
    runner = JobRunner(settings, clean_database, clock)
    try:
        yield runner
    finally:
        await runner.close()


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
