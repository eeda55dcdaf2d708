"""The periodic jobs. Each is set-based (a few queries per page of clients, never one per
client), idempotent (a second run changes nothing) and safe to run twice at once."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from db import jobqueries, reservations
from db import platform as platform_db
from db.alerts import load_states
from db.snapshots import snapshot_values
from domain.breakers import Alert, platform_readings, transitions
from domain.exposure import client_exposure, exposure_report
from domain.history import hour_bucket, snapshot_cutoff
from resolvers import breakers
from resolvers.deps import Deps
from resolvers.exposure import load_platform
from resolvers.unit_of_work import publish

log = logging.getLogger("riskgate.jobs")

PAGE = 5000  # clients read and written per step
DELETE_BATCH = 5000  # rows deleted per statement (and per transaction)
BREAKER_WRITE_CHUNK = 1000  # changed clients re-evaluated per locked transaction

JobResult = dict[str, Any]


async def take_snapshots(deps: Deps) -> JobResult:
    """Hourly: a snapshot for every client with open positions or activity since its last
    snapshot, keyed to the hour so that a re-run (or a second worker) stores nothing new."""
    now = deps.now()
    bucket = hour_bucket(now)
    day = deps.calendar.day_of(now)
    candidates = jobqueries.snapshot_candidates(bucket)
    after, considered, inserted = "", 0, 0
    while True:

        async def read_page(conn: AsyncConnection, after: str = after) -> Any:
            await jobqueries.repeatable_read(conn)
            page = jobqueries.page_of(candidates, after, PAGE)
            rows = await jobqueries.load_clients(conn, page, day)
            return rows, await jobqueries.active_reservations_by_client(conn, now)

        rows, held = await deps.db.read(read_page)
        if not rows.accounts:
            break
        values = []
        for client_id, account in rows.accounts.items():
            exposure = client_exposure(
                client_id,
                rows.books.get(client_id, ()),
                rows.catalog,
                account,
                held.get(client_id, ()),
                rows.realized_today[client_id],
            )
            values.append(
                {**snapshot_values(exposure_report(exposure, now)), "hour_bucket": bucket}
            )
        inserted += await deps.db.write(_writer(jobqueries.insert_snapshots, values))
        considered += len(values)
        after = max(rows.accounts)
        if len(rows.accounts) < PAGE:
            break
    return {"hour": bucket.isoformat(), "clients": considered, "inserted": inserted}


def _writer(
    fn: Callable[[AsyncConnection, list[dict[str, Any]]], Awaitable[int]],
    values: list[dict[str, Any]],
) -> Callable[[AsyncConnection], Awaitable[int]]:
    async def work(conn: AsyncConnection) -> int:
        return await fn(conn, values)

    return work


async def evaluate_breakers(deps: Deps) -> JobResult:
    """Every 15 minutes, the safety net: measure every breaker without locking anything; then
    re-evaluate only those whose level differs from the stored one, under the platform lock
    (as event writers do), store the changes and publish their alerts."""
    now = deps.now()
    day = deps.calendar.day_of(now)
    week = deps.calendar.week_of(now)
    changed: list[str] = []
    platform_changed = False
    after, measured = "", 0
    states = await deps.db.read(load_states)
    while True:

        async def read_page(conn: AsyncConnection, after: str = after) -> Any:
            await jobqueries.repeatable_read(conn)
            page = jobqueries.page_of(jobqueries.all_clients(), after, PAGE)
            rows = await jobqueries.load_clients(conn, page, day, week)
            snapshot = None if after else await load_platform(conn, deps, now)
            return rows, snapshot

        rows, snapshot = await deps.db.read(read_page)
        if snapshot is not None:
            readings = platform_readings(snapshot.exposure, snapshot.limits)
            platform_changed = bool(transitions(readings, states))
        if not rows.accounts:
            break
        moved = {t.client_id for t in transitions(breakers.readings_of(rows), states)}
        changed.extend(sorted(c for c in moved if c is not None))
        measured += len(rows.accounts)
        after = max(rows.accounts)
        if len(rows.accounts) < PAGE:
            break
    raised: list[Alert] = []
    parts = [
        changed[i : i + BREAKER_WRITE_CHUNK] for i in range(0, len(changed), BREAKER_WRITE_CHUNK)
    ]
    if platform_changed and not parts:
        parts = [[]]
    for i, part in enumerate(parts):
        stored = await deps.db.write(_evaluator(deps, now, part, platform_changed and i == 0))
        raised.extend(stored)
        await publish(deps, stored)
    return {"clients": measured, "changed": len(changed), "alerts": len(raised)}


def _evaluator(
    deps: Deps, now: datetime, clients: list[str], platform: bool
) -> Callable[[AsyncConnection], Awaitable[list[Alert]]]:
    async def work(conn: AsyncConnection) -> list[Alert]:
        await platform_db.lock_platform(conn)
        return await breakers.evaluate(conn, deps, now, clients=clients, platform=platform)

    return work


async def cleanup_snapshots(deps: Deps) -> JobResult:
    """Weekly: delete snapshots older than the retention period, a batch per transaction,
    by id, without reading them."""
    cutoff = snapshot_cutoff(deps.now())
    deleted, batches = 0, 0
    while True:
        count = await deps.db.write(_deleter(cutoff))
        deleted += count
        batches += 1
        if count < DELETE_BATCH:
            break
    return {"cutoff": cutoff.isoformat(), "deleted": deleted, "batches": batches}


def _deleter(cutoff: datetime) -> Callable[[AsyncConnection], Awaitable[int]]:
    async def work(conn: AsyncConnection) -> int:
        return await jobqueries.delete_old_snapshots(conn, cutoff, batch=DELETE_BATCH)

    return work


async def purge_reservations(deps: Deps) -> JobResult:
    """Delete reservations that have expired (they stopped counting when they expired) and
    take them out of the platform totals, under the platform lock like every writer."""
    now = deps.now()

    async def work(conn: AsyncConnection) -> int:
        await platform_db.lock_platform(conn)
        return await reservations.sweep_expired(conn, now)

    return {"purged": await deps.db.write(work)}


JOBS: dict[str, Callable[[Deps], Awaitable[JobResult]]] = {
    "snapshots": take_snapshots,
    "breakers": evaluate_breakers,
    "cleanup-snapshots": cleanup_snapshots,
    "purge-reservations": purge_reservations,
}


async def run_job(name: str, deps: Deps) -> JobResult:
    """Run one job by name, log what it did and how long it took, and record the run."""
    job = JOBS[name]
    started_at = deps.now()
    clock = time.perf_counter()
    log.info("job %s started", name)
    try:
        result = await job(deps)
    except Exception:
        log.exception("job %s failed after %.2f s", name, time.perf_counter() - clock)
        raise
    result["seconds"] = round(time.perf_counter() - clock, 3)
    finished_at = deps.now()

    async def record(conn: AsyncConnection) -> None:
        await jobqueries.record_job_run(
            conn, name, started_at=started_at, finished_at=finished_at, result=result
        )

    await deps.db.write(record)
    log.info(
        "job %s done in %.2f s: %s",
        name,
        result["seconds"],
        ", ".join(f"{k}={v}" for k, v in result.items() if k != "seconds"),
    )
    return result
