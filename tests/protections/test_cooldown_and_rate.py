"""COOLDOWN and SIGNAL_RATE over HTTP: exact boundaries with a settable clock, concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.support.client import GraphQLClient, assert_granted, instance
from tests.support.clock import Clock
from tests.support.events import close_at, prepared_client, set_platform
from tests.support.signals import check, post_check, signal, violated, violation

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


async def test_cooldown_ends_exactly_cooldown_minutes_after_the_last_losing_close(
    api: GraphQLClient, clock: Clock
) -> None:
    clock.set(T0)
    await prepared_client(api, "cool", "100000", lossStreakLimit=3, cooldownMinutes=30)
    last = T0 - timedelta(minutes=5)
    for n, minutes in enumerate((20, 10, 5)):
        await close_at(api, f"cool-{n}", "cool", "-10", T0 - timedelta(minutes=minutes))
    result = await check(api, signal("cool-s1", "cool", "0.01"), dry_run=True)
    assert violated(result) == {"COOLDOWN"}
    found = violation(result, "COOLDOWN")
    assert found is not None and (found["limit"], found["current"]) == ("3.00", "3.00")
    clock.set(last + timedelta(minutes=30) - timedelta(microseconds=1))
    assert violated(await check(api, signal("cool-s2", "cool", "0.01"))) == {"COOLDOWN"}
    clock.set(last + timedelta(minutes=30))
    assert (await check(api, signal("cool-s3", "cool", "0.01")))["passes"]
    # The streak still stands: one more loss starts a new cooldown at once.
    await close_at(api, "cool-4", "cool", "-1", last + timedelta(minutes=30))
    assert violated(await check(api, signal("cool-s4", "cool", "0.01"))) == {"COOLDOWN"}


async def test_a_win_or_flat_close_resets_the_streak_whatever_the_arrival_order(
    api: GraphQLClient, clock: Clock
) -> None:
    clock.set(T0)
    await prepared_client(api, "streak", "100000", lossStreakLimit=2, cooldownMinutes=60)
    await close_at(api, "st-1", "streak", "-10", T0 - timedelta(minutes=30))
    await close_at(api, "st-2", "streak", "0", T0 - timedelta(minutes=20))
    await close_at(api, "st-3", "streak", "-10", T0 - timedelta(minutes=10))
    assert (await check(api, signal("st-s1", "streak", "0.01"), dry_run=True))["passes"]
    await close_at(api, "st-4", "streak", "-10", T0 - timedelta(minutes=5))
    assert violated(await check(api, signal("st-s2", "streak", "0.01"), dry_run=True)) == {
        "COOLDOWN"
    }
    # A win reported late, closed between the last two losses, breaks the streak.
    await close_at(api, "st-5", "streak", "25", T0 - timedelta(minutes=7))
    assert (await check(api, signal("st-s3", "streak", "0.01"), dry_run=True))["passes"]


async def test_signal_rate_counts_reserving_checks_only(api: GraphQLClient, clock: Clock) -> None:
    clock.set(T0)
    await prepared_client(api, "rate", "100000", maxSignalsPerMinute=2, maxOpenPositions=100)
    # Dry runs are free.
    for n in range(3):
        assert (await check(api, signal(f"rate-d{n}", "rate", "0.01"), dry_run=True))["passes"]
    # A refused check spends like an approved one.
    refused = await check(api, signal("rate-1", "rate", "5.00"))
    assert violated(refused) == {"MAX_POSITION_SIZE"}
    assert (await check(api, signal("rate-2", "rate", "0.01")))["passes"]
    third = await check(api, signal("rate-3", "rate", "0.01"))
    assert violated(third) == {"SIGNAL_RATE"}
    found = violation(third, "SIGNAL_RATE")
    assert found is not None and (found["limit"], found["current"]) == ("2.00", "3.00")
    # A replayed signal returns its first decision and spends nothing.
    assert (await check(api, signal("rate-2", "rate", "0.01")))["passes"]
    # Refilled at 2 a minute: one check after 30 s, not before.
    clock.set(T0 + timedelta(seconds=29))
    assert violated(await check(api, signal("rate-4", "rate", "0.01"))) == {"SIGNAL_RATE"}
    clock.set(T0 + timedelta(seconds=30))
    assert (await check(api, signal("rate-5", "rate", "0.01")))["passes"]


async def test_signal_rate_holds_under_concurrent_checks(
    api: GraphQLClient, clean_database: str, clock: Clock
) -> None:
    clock.set(T0)
    await prepared_client(api, "burst", "1000000", maxSignalsPerMinute=7, maxOpenPositions=100)
    await set_platform(api, maxOpenPositions=1000)
    # Two server instances with their own pools race on the same client.
    async with instance(clean_database, clock) as one, instance(clean_database, clock) as two:
        replies = await asyncio.gather(
            *(
                post_check(one if n % 2 else two, signal(f"burst-{n}", "burst", "0.01"))
                for n in range(24)
            )
        )
    results = []
    for reply in replies:
        assert_granted(reply)
        results.append(reply.data["checkSignal"])
    approved = [r for r in results if r["passes"]]
    assert len(approved) == 7
    assert all(violated(r) == {"SIGNAL_RATE"} for r in results if not r["passes"])
