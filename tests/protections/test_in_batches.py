"""The protections in checkSignals: a list decides as the same checks one by one would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.checks.test_batch import batch, single
from tests.support.client import GraphQLClient
from tests.support.clock import Clock
from tests.support.events import close_at, prepared_client
from tests.support.signals import signal, violated

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def outcome(answer: dict[str, Any]) -> tuple[bool, set[str]]:
    return answer["passes"], violated(answer)


async def test_a_batch_spends_the_signal_rate_as_checks_one_by_one_do(
    api: GraphQLClient, clock: Clock
) -> None:
    clock.set(T0)
    for client in ("rate-b", "rate-s"):
        await prepared_client(api, client, "100000", maxSignalsPerMinute=2, maxOpenPositions=100)
    listed = [signal(f"rb-{n}", "rate-b", "1.50" if n == 0 else "0.01") for n in range(4)]
    in_batch = [outcome(a) for a in await batch(api, listed)]
    one_by_one = [
        outcome(await single(api, signal(f"rs-{n}", "rate-s", "1.50" if n == 0 else "0.01")))
        for n in range(4)
    ]
    assert in_batch == one_by_one
    assert in_batch == [
        (False, {"MAX_POSITION_SIZE"}),
        (True, set()),
        (False, {"SIGNAL_RATE"}),
        (False, {"SIGNAL_RATE"}),
    ]
    # What the batch spent is stored: the next check of that client finds the bucket empty.
    assert outcome(await single(api, signal("rb-next", "rate-b", "0.01"))) == (
        False,
        {"SIGNAL_RATE"},
    )
    # A dry-run list spends nothing.
    clock.set(T0 + timedelta(minutes=5))
    dry = await batch(api, [signal(f"rd-{n}", "rate-b", "0.01") for n in range(3)], dry_run=True)
    assert [a["passes"] for a in dry] == [True, True, True]
    assert (await single(api, signal("rb-after", "rate-b", "0.01")))["passes"]


async def test_a_batch_sees_the_cooldown_and_the_weekly_loss(
    api: GraphQLClient, clock: Clock
) -> None:
    clock.set(T0)
    await prepared_client(
        api, "cool-b", "100000", lossStreakLimit=1, cooldownMinutes=30, maxWeeklyLoss="5"
    )
    await close_at(api, "cb-1", "cool-b", "-10", T0 - timedelta(minutes=5))
    answers = await batch(api, [signal("cb-s", "cool-b", "0.01")], dry_run=True)
    assert violated(answers[0]) == {"COOLDOWN", "MAX_WEEKLY_LOSS"}
    assert violated(await single(api, signal("cb-t", "cool-b", "0.01"), dry_run=True)) == {
        "COOLDOWN",
        "MAX_WEEKLY_LOSS",
    }
