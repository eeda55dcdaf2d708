"""Every job through the real arq worker on Redis, on SQLite and PostgreSQL: its effect, a
second run that changes nothing, and two workers running it at once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db import jobqueries
from db.tables import exposure_snapshots
from jobs import tasks
from tests.jobs.conftest import JobRunner
from tests.support.client import GraphQLClient
from tests.support.clock import Clock
from tests.support.documents import CHECK
from tests.support.events import Flows
from tests.support.reports import levels

START = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)

HISTORY = """
query History($clientId: String) {
  exposureHistory(clientId: $clientId) { timestamp openPositionsCount totalExposure equity }
}
"""
GLOBAL = "{ globalExposure { reservedPositions reservedExposure } }"
LIMITS = """
mutation Limits($input: PlatformLimitsInput!) {
  updatePlatformLimits(input: $input) { maxTotalExposure }
}
"""


@pytest.fixture
def flows(api: GraphQLClient) -> Flows:
    return Flows(api)


async def _snapshots(runner: JobRunner) -> list[tuple[str, datetime | None]]:
    deps = runner.deps()
    stmt = select(exposure_snapshots.c.client_id, exposure_snapshots.c.hour_bucket)

    async def work(conn: AsyncConnection) -> list[tuple[str, datetime | None]]:
        return [(row[0], row[1]) for row in await conn.execute(stmt)]

    return await deps.db.read(work)


async def test_snapshot_job_snapshots_active_clients_once_per_hour(
    runner: JobRunner, flows: Flows, api: GraphQLClient, clock: Clock
) -> None:
    clock.set(START)
    await flows.deposit("alice", "10000")
    await flows.open("alice")  # open position (and a snapshot of its own)
    await flows.deposit("bob", "5000")  # activity, no snapshot yet
    await flows.deposit("carol", "5000")
    trade = await flows.open("carol")
    clock.advance(minutes=1)
    await flows.close("carol", trade, pnl="50")  # closed after its open's snapshot
    before = await _snapshots(runner)
    assert sorted(before) == [("alice", None), ("carol", None)]

    [first] = await runner.run("snapshots")
    assert (first["clients"], first["inserted"]) == (3, 3)
    bucket = START.replace(minute=0)
    after_first = await _snapshots(runner)
    assert sorted(c for c, b in after_first if b == bucket) == ["alice", "bob", "carol"]

    clock.advance(minutes=20)  # the same hour: nothing new
    [again] = await runner.run("snapshots")
    assert (again["clients"], again["inserted"]) == (0, 0)
    assert Counter(await _snapshots(runner)) == Counter(after_first)

    clock.set(START + timedelta(hours=1, minutes=-10))  # 11:05
    await flows.deposit("bob", "100")
    [next_hour] = await runner.run("snapshots")
    assert next_hour["inserted"] == 2  # alice holds a position, bob was active; carol was not
    [repeat] = await runner.run("snapshots")
    assert repeat["inserted"] == 0
    per_client = Counter(c for c, b in await _snapshots(runner) if b is not None)
    assert per_client == {"alice": 2, "bob": 2, "carol": 1}

    history = (await api.ok(HISTORY, {"clientId": "alice"}))["exposureHistory"]
    assert [h["openPositionsCount"] for h in history] == [1, 1, 1]
    assert history[0]["timestamp"] == "2026-03-02T11:05:00+00:00"
    assert (history[0]["totalExposure"], history[0]["equity"]) == ("11000.00", "10000.00")

    deps = runner.deps()
    run = await deps.db.read(lambda conn: jobqueries.get_job_run(conn, "snapshots"))
    assert run is not None and run["last_result"]["inserted"] == 0


async def test_two_workers_snapshotting_at_once_store_one_set(
    runner: JobRunner, flows: Flows, clock: Clock
) -> None:
    clock.set(START)
    for client in ("alice", "bob", "carol", "dave"):
        await flows.deposit(client, "1000")
    results = await runner.run("snapshots", workers=2)
    assert sum(r["inserted"] for r in results) == 4
    assert Counter(c for c, _ in await _snapshots(runner)) == dict.fromkeys(
        ("alice", "bob", "carol", "dave"), 1
    )


async def test_breaker_job_catches_what_no_event_moves(
    runner: JobRunner, flows: Flows, api: GraphQLClient, clock: Clock
) -> None:
    clock.set(START)
    await flows.deposit("alice", "10000")
    await flows.profile("alice", maxDailyLoss="1000")
    await flows.realize("alice", "-1200")  # CRITICAL daily loss, raised by the close itself
    [result] = await runner.run("breakers")
    assert (result["changed"], result["alerts"]) == (0, 0)

    # A new trading day: the day's loss is gone without any event.
    clock.set(START + timedelta(days=1))
    [result] = await runner.run("breakers")
    assert (result["clients"], result["changed"], result["alerts"]) == (1, 1, 1)
    [again] = await runner.run("breakers")
    assert (again["changed"], again["alerts"]) == (0, 0)
    assert levels(await flows.alerts("alice"), "CLIENT_DAILY_LOSS") == [
        ("OK", "CRITICAL"),
        ("CRITICAL", "OK"),
    ]
    assert [(a.kind, a.level.value) for a in runner.published.alerts] == [
        ("CLIENT_DAILY_LOSS", "OK")
    ]

    # A reservation moves platform utilization; its expiry moves it back.
    await api.ok(LIMITS, {"input": {"maxTotalExposure": "20000"}}, role="admin")
    signal = {
        "signalId": "sig-1",
        "clientId": "alice",
        "instrument": "EURUSD",
        "direction": "BUY",
        "volume": "0.17",
        "entryPrice": "1.1",
    }
    assert (await api.ok(CHECK, {"signal": signal, "dryRun": False}))["checkSignal"]["passes"]
    [reserved] = await runner.run("breakers")
    assert reserved["alerts"] == 1
    clock.advance(seconds=301)
    [expired] = await runner.run("breakers")
    assert expired["alerts"] == 1
    [quiet] = await runner.run("breakers")
    assert quiet["alerts"] == 0
    assert levels(await flows.alerts(), "PLATFORM_EXPOSURE") == [
        ("OK", "WARNING"),
        ("WARNING", "OK"),
    ]


async def test_two_workers_evaluating_at_once_raise_each_alert_once(
    runner: JobRunner, flows: Flows, clock: Clock
) -> None:
    clock.set(START)
    for client in ("alice", "bob"):
        await flows.deposit(client, "10000")
        await flows.profile(client, maxDailyLoss="1000")
        await flows.realize(client, "-900")  # WARNING each
    clock.set(START + timedelta(days=1))
    results = await runner.run("breakers", workers=2)
    assert sum(r["alerts"] for r in results) == 2
    assert len([a for a in await flows.alerts() if a["level"] == "OK"]) == 2


def _row(client_id: str, taken_at: datetime) -> dict[str, Any]:
    zero = Decimal(0)
    return {
        "client_id": client_id,
        "taken_at": taken_at,
        "total_exposure": zero,
        "by_instrument": [],
        "by_direction": {},
        "open_positions": 0,
        "reserved_positions": 0,
        "equity": zero,
        "drawdown_percent": zero,
        "daily_pnl": zero,
    }


@pytest.mark.parametrize("workers", [1, 2])
async def test_cleanup_deletes_exactly_the_snapshots_older_than_90_days(
    runner: JobRunner, clock: Clock, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    clock.set(START)
    monkeypatch.setattr(tasks, "DELETE_BATCH", 2)  # several batches from a few rows
    cutoff = START - timedelta(days=90)
    ages = {
        "d200": START - timedelta(days=200),
        "d120": START - timedelta(days=120),
        "d91": START - timedelta(days=91),
        "just-older": cutoff - timedelta(microseconds=1),
        "exactly-90": cutoff,
        "d89": START - timedelta(days=89),
        "today": START,
    }
    deps = runner.deps()

    async def seed(conn: Any) -> None:
        await conn.execute(insert(exposure_snapshots), [_row(c, t) for c, t in ages.items()])

    await deps.db.write(seed)
    results = await runner.run("cleanup-snapshots", workers=workers)
    assert sum(r["deleted"] for r in results) == 4
    assert sorted(c for c, _ in await _snapshots(runner)) == ["d89", "exactly-90", "today"]
    [again] = await runner.run("cleanup-snapshots")
    assert again["deleted"] == 0


async def test_purge_removes_only_expired_reservations(
    runner: JobRunner, api: GraphQLClient, clock: Clock
) -> None:
    clock.set(START)
    signal = {"instrument": "EURUSD", "direction": "BUY", "volume": "0.10", "entryPrice": "1.1"}
    first_check = {"signalId": "s1", "clientId": "alice", **signal}
    assert (await api.ok(CHECK, {"signal": first_check, "dryRun": False}))["checkSignal"]["passes"]
    clock.advance(seconds=200)
    second_check = {"signalId": "s2", "clientId": "bob", **signal}
    assert (await api.ok(CHECK, {"signal": second_check, "dryRun": False}))["checkSignal"]["passes"]
    clock.advance(seconds=101)  # s1 is 301 s old: expired; s2 is live
    [first] = await runner.run("purge-reservations")
    assert first["purged"] == 1
    [again] = await runner.run("purge-reservations")
    assert again["purged"] == 0
    platform = (await api.ok(GLOBAL, role="admin"))["globalExposure"]
    assert (platform["reservedPositions"], platform["reservedExposure"]) == (1, "11000.00")


async def test_breaker_job_ends_a_weekly_loss_when_the_week_turns(
    runner: JobRunner, flows: Flows, clock: Clock
) -> None:
    clock.set(START)  # a Monday
    await flows.deposit("wendy", "10000")
    await flows.profile("wendy", maxWeeklyLoss="1000")
    await flows.realize("wendy", "-1200")  # CRITICAL, raised by the close itself
    # Later days of the same week keep the loss.
    clock.set(START + timedelta(days=6))
    [result] = await runner.run("breakers")
    assert (result["changed"], result["alerts"]) == (0, 0)
    # Monday 00:00 UTC: a new week.
    clock.set(datetime(2026, 3, 9, tzinfo=UTC))
    [result] = await runner.run("breakers")
    assert (result["changed"], result["alerts"]) == (1, 1)
    assert levels(await flows.alerts("wendy"), "CLIENT_WEEKLY_LOSS") == [
        ("OK", "CRITICAL"),
        ("CRITICAL", "OK"),
    ]
