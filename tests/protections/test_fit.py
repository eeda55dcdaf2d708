"""fit across the protections: MAX_LEVERAGE and the at-stop part of MAX_WEEKLY_LOSS scale the
volume down; leverage without positive equity and a weekly loss already at its cap never do.

EURUSD at 1.0000 is 100,000 of notional a lot; a stop at 0.9900 loses 1,000 a lot.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.checks.test_fit import STOP, fit_check
from tests.support.client import GraphQLClient
from tests.support.clock import Clock
from tests.support.events import close_at, open_trade, prepared_client, set_profile
from tests.support.signals import signal, violated

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday


async def test_leverage_fits_to_the_cap(api: GraphQLClient) -> None:
    # Equity 10,000 at 10x: 100,000 of notional; 0.40 lots held leave room for 0.60.
    await prepared_client(api, "lev", "10000", maxLeverage="10", maxPositionSize="2.00")
    await open_trade(api, "lev-t1", "lev", "0.40", price="1.0000")
    payload = signal("lev-s", "lev", "1.00")
    assert violated(await fit_check(api, payload, fit=False, dry_run=True)) == {"MAX_LEVERAGE"}
    fitted = await fit_check(api, payload)
    assert fitted["passes"], fitted["violations"]
    assert (fitted["requestedVolume"], fitted["volume"]) == ("1.00", "0.60")
    assert fitted["fittedBy"] == ["MAX_LEVERAGE"]
    # One lot step above the fitted volume fails, and the reservation made it full.
    more = await fit_check(api, signal("lev-more", "lev", "0.01"), fit=False)
    assert violated(more) == {"MAX_LEVERAGE"}


async def test_leverage_without_positive_equity_is_never_fitted(api: GraphQLClient) -> None:
    await set_profile(api, "broke", maxLeverage="100", maxCorrelationExposure="1.00")
    answer = await fit_check(api, signal("broke-s", "broke", "0.50"))
    assert not answer["passes"]
    assert violated(answer) == {"MAX_LEVERAGE"}
    assert (answer["requestedVolume"], answer["volume"]) == ("0.50", "0.50")
    assert answer["fittedBy"] == []


async def test_weekly_loss_at_the_stop_fits_and_a_reached_cap_does_not(
    api: GraphQLClient, clock: Clock
) -> None:
    clock.set(T0)
    await prepared_client(api, "wk", "100000", maxWeeklyLoss="1000", maxPositionSize="5.00")
    await close_at(api, "wk-1", "wk", "-400", T0 - timedelta(hours=1))
    # 600 of room: at 1,000 a lot lost at the stop, 0.60 lots fit, 0.61 do not.
    payload = signal("wk-s", "wk", "2.00", stop=STOP)
    assert violated(await fit_check(api, payload, fit=False, dry_run=True)) == {"MAX_WEEKLY_LOSS"}
    fitted = await fit_check(api, payload, dry_run=True)
    assert fitted["passes"], fitted["violations"]
    assert (fitted["requestedVolume"], fitted["volume"]) == ("2.00", "0.60")
    assert fitted["fittedBy"] == ["MAX_WEEKLY_LOSS"]
    over = await fit_check(api, signal("wk-o", "wk", "0.61", stop=STOP), fit=False, dry_run=True)
    assert violated(over) == {"MAX_WEEKLY_LOSS"}
    # Once the week's loss has reached the cap, no volume can pass: nothing is fitted.
    await close_at(api, "wk-2", "wk", "-600", T0 - timedelta(minutes=30))
    reached = await fit_check(api, signal("wk-r", "wk", "2.00", stop=STOP), dry_run=True)
    assert not reached["passes"]
    assert "MAX_WEEKLY_LOSS" in violated(reached)
    assert (reached["volume"], reached["fittedBy"]) == ("2.00", [])
