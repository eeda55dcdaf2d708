"""Concurrent checks never approve more than the remaining capacity.

Each race is run for several rounds on both databases through the ASGI app (asyncio.gather
on one event loop; the app's own pool and locks do the serializing). On PostgreSQL one race
also runs through two app instances, so two connection pools contend on the row lock.
"""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from typing import Any

import pytest

from tests.support.client import GraphQLClient, Response, assert_granted, instance
from tests.support.databases import reset_postgres
from tests.support.documents import CHECK, CLOSE, OPEN
from tests.support.events import open_trade, prepared_client, set_platform
from tests.support.reports import exposure, global_exposure
from tests.support.signals import decisions, passed, release, run_checks, signal

ROUNDS = 5
TWO_INSTANCE_ROUNDS = 3


async def test_one_free_slot_is_approved_once(api: GraphQLClient) -> None:
    for n in range(ROUNDS):
        client = f"slot-{n}"
        await prepared_client(api, client, maxOpenPositions=2)
        await open_trade(api, f"slot-open-{n}", client, price="1.0000")
        results = await run_checks(api, [signal(f"{client}-{i}", client) for i in range(100)])

        winners = passed(results)
        assert len(winners) == 1, f"round {n}: {len(winners)} approvals for one slot"
        for loser in results:
            if not loser["passes"]:
                assert [v["check"] for v in loser["violations"]] == ["MAX_OPEN_POSITIONS"]
                assert loser["violations"][0]["current"] == "3.00"
        after = await exposure(api, client)
        assert (after["openPositionsCount"], after["reservedPositionsCount"]) == (1, 1)
        assert len(await decisions(api, client)) == 100


async def test_platform_position_cap_holds_across_clients(api: GraphQLClient) -> None:
    await set_platform(api, maxOpenPositions=10)
    for n in range(3):
        await open_trade(api, f"base-{n}", f"base-{n}", price="1.0000")
    for n in range(ROUNDS):
        payloads = [signal(f"pp-{n}-{i}", f"pp-{n}-{i}") for i in range(30)]
        results = await run_checks(api, payloads)
        winners = passed(results)
        assert len(winners) == 7, f"round {n}: {len(winners)} approvals for 7 platform slots"
        for loser in results:
            if not loser["passes"]:
                assert [v["check"] for v in loser["violations"]] == ["PLATFORM_POSITIONS"]
        platform = await global_exposure(api)
        assert (platform["totalOpenPositions"], platform["reservedPositions"]) == (3, 7)
        for winner in winners:
            assert await release(api, winner["signalId"])
        assert (await global_exposure(api))["reservedPositions"] == 0


async def test_platform_exposure_cap_holds_across_clients(api: GraphQLClient) -> None:
    cap = Decimal(100_000)
    await set_platform(api, maxTotalExposure=str(cap))
    await open_trade(api, "base", "base", "0.25", price="1.0000")  # 25,000
    rng = random.Random(20240601)
    for n in range(ROUNDS):
        volumes = [Decimal(rng.randint(5, 30)) / 100 for _ in range(30)]
        payloads = [signal(f"pe-{n}-{i}", f"pe-{n}-{i}", str(v)) for i, v in enumerate(volumes)]
        results = await run_checks(api, payloads)

        platform = await global_exposure(api)
        used = Decimal(platform["totalPlatformExposure"]) + Decimal(platform["reservedExposure"])
        approved = sum((Decimal(r["notional"]) for r in passed(results)), Decimal(0))
        assert used == Decimal(25_000) + approved, (n, platform)
        assert used <= cap, f"round {n}: platform exposure {used} over the cap {cap}"
        for loser in results:
            if not loser["passes"]:
                assert [v["check"] for v in loser["violations"]] == ["PLATFORM_EXPOSURE"]
                # Capacity only shrank during the round: a rejected signal still does not fit.
                assert used + Decimal(loser["notional"]) > cap, (loser, used)
        for winner in passed(results):
            assert await release(api, winner["signalId"])


async def test_identical_signal_ids_reserve_once(api: GraphQLClient) -> None:
    await prepared_client(api, "dup")
    for n in range(ROUNDS):
        results = await run_checks(api, [signal(f"dup-{n}", "dup")] * 20)
        assert all(r == results[0] for r in results), f"round {n}: answers differ"
        assert results[0]["passes"]
        after = await exposure(api, "dup")
        assert after["reservedPositionsCount"] == n + 1
        assert len(await decisions(api, "dup")) == n + 1


async def post(api: GraphQLClient, document: str, trade: dict[str, Any]) -> Response:
    return await api.post(document, {"trade": trade})


async def test_trade_events_and_checks_keep_counts_consistent(api: GraphQLClient) -> None:
    limit = 10
    for n in range(ROUNDS):
        client = f"mix-{n}"
        await prepared_client(api, client, maxOpenPositions=limit)
        held = await run_checks(api, [signal(f"{client}-s{i}", client) for i in range(6)])
        assert len(passed(held)) == 6

        opens = [
            {
                "tradeId": f"{client}-t{i}",
                "clientId": client,
                "signalId": f"{client}-s{i}",
                "instrument": "EURUSD",
                "direction": "BUY",
                "volume": "0.10",
                "entryPrice": "1.0000",
            }
            for i in range(6)
        ]
        closes = [
            {"tradeId": f"{client}-t{i}", "clientId": client, "exitPrice": "1.0000", "pnl": "0"}
            for i in range(3)
        ]
        events = [post(api, OPEN, t) for t in opens * 2]  # every open delivered twice
        events += [post(api, CLOSE, t) for t in closes]
        new_checks = [
            api.post(CHECK, {"signal": signal(f"{client}-n{i}", client), "dryRun": False})
            for i in range(10)
        ]
        jobs: list[Any] = events + new_checks
        order = list(range(len(jobs)))
        random.Random(n).shuffle(order)
        responses = await asyncio.gather(*(jobs[i] for i in order))
        by_job = dict(zip(order, responses, strict=True))
        for response in responses:
            assert_granted(response)
        checks = [by_job[i].data["checkSignal"] for i in range(len(events), len(jobs))]

        approved = passed(checks)
        # 6 reserved then opened, 3 of them closed: 3 remain; approvals fill at most the rest
        # and at least what was free while all 6 were held.
        assert limit - 6 <= len(approved) <= limit - 3, len(approved)
        for winner in approved:
            shown = winner["exposure"]
            assert shown["openPositionsCount"] + shown["reservedPositionsCount"] <= limit
        after = await exposure(api, client)
        assert after["openPositionsCount"] == 3
        assert after["reservedPositionsCount"] == len(approved)
        assert after["byInstrument"] == [
            {
                "instrument": "EURUSD",
                "volume": "0.30",
                "exposure": "30000.00",
            }
        ]
        platform = await global_exposure(api)
        assert platform["totalOpenPositions"] == 3
        assert platform["reservedPositions"] == len(approved)
        for winner in approved:
            assert await release(api, winner["signalId"])
        for i in range(3, 6):
            closed = await post(api, CLOSE, {**closes[0], "tradeId": f"{client}-t{i}"})
            assert_granted(closed)
        assert (await global_exposure(api))["totalOpenPositions"] == 0


@pytest.mark.postgres
async def test_two_app_instances_contend_on_the_row_lock(postgres_url: str) -> None:
    await reset_postgres(postgres_url)
    async with instance(postgres_url) as one, instance(postgres_url) as two:
        await set_platform(one, maxOpenPositions=20)
        for n in range(TWO_INSTANCE_ROUNDS):
            client = f"two-{n}"
            await prepared_client(one, client, maxOpenPositions=2)
            await open_trade(two, f"two-open-{n}", client, price="1.0000")
            first = [signal(f"{client}-a{i}", client) for i in range(50)]
            second = [signal(f"{client}-b{i}", client) for i in range(50)]
            # Half of the signals are sent to both instances: each is still decided once.
            shared = [signal(f"{client}-c{i}", client) for i in range(10)]
            results = await asyncio.gather(
                run_checks(one, first + shared), run_checks(two, second + shared)
            )
            answers = results[0] + results[1]
            winners = {r["signalId"] for r in answers if r["passes"]}
            assert len(winners) == 1, f"round {n}: {winners}"
            after = await exposure(one, client)
            assert (after["openPositionsCount"], after["reservedPositionsCount"]) == (1, 1)
            assert len(await decisions(two, client)) == 110
            by_id: dict[str, dict[str, Any]] = {}
            for answer in answers:
                assert by_id.setdefault(answer["signalId"], answer) == answer

        # The platform cap, split across both pools.
        platform = await global_exposure(one)
        taken = platform["totalOpenPositions"] + platform["reservedPositions"]
        assert taken == 2 * TWO_INSTANCE_ROUNDS
        payloads = [signal(f"cap-{i}", f"cap-{i}") for i in range(30)]
        split = await asyncio.gather(run_checks(one, payloads[:15]), run_checks(two, payloads[15:]))
        assert len(passed(split[0] + split[1])) == 20 - taken
        platform = await global_exposure(two)
        assert platform["totalOpenPositions"] + platform["reservedPositions"] == 20
