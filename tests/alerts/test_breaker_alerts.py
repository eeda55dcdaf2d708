"""Breaker alerts raised by the events that move them, through the real app on each backend."""

from __future__ import annotations

import pytest

from tests.support.client import GraphQLClient
from tests.support.documents import MODE
from tests.support.events import Flows
from tests.support.reports import levels

PLATFORM_LIMITS = """
mutation Limits($input: PlatformLimitsInput!) {
  updatePlatformLimits(input: $input) { maxTotalExposure }
}
"""


@pytest.fixture
def flows(api: GraphQLClient) -> Flows:
    return Flows(api)


async def test_warning_critical_ok_raise_three_alerts_and_a_held_level_none(flows: Flows) -> None:
    await flows.deposit("alice", "10000")
    await flows.realize("alice", "-1700")  # drawdown 17 %: WARNING (80 % of 20 %)
    await flows.realize("alice", "-100")  # 18 %: still WARNING, no alert
    assert len(await flows.alerts("alice")) == 1
    await flows.realize("alice", "-300")  # 21 %: CRITICAL
    await flows.realize("alice", "-50")  # still CRITICAL, no alert
    await flows.realize("alice", "2150")  # back at the peak: OK
    alerts = await flows.alerts("alice")
    assert levels(alerts, "CLIENT_DRAWDOWN") == [
        ("OK", "WARNING"),
        ("WARNING", "CRITICAL"),
        ("CRITICAL", "OK"),
    ]
    assert len(alerts) == 3
    warning = alerts[-1]
    assert warning["clientId"] == "alice"
    assert (warning["value"], warning["limit"]) == ("17.00", "20.00")
    assert "drawdown of client alice rose to WARNING" in warning["message"]
    ids = [int(a["id"]) for a in alerts]
    assert ids == sorted(ids, reverse=True)  # newest first


async def test_daily_loss_follows_trades_and_profile_changes(flows: Flows) -> None:
    await flows.deposit("alice", "10000")
    await flows.profile("alice", maxDailyLoss="1000")
    await flows.realize("alice", "-850")  # 85 % of the cap: WARNING
    await flows.profile("alice", maxDailyLoss="2000")  # 42.5 %: OK
    await flows.profile("alice", maxDailyLoss="500")  # 170 %: CRITICAL
    await flows.profile("alice", maxDailyLoss=None)  # no cap: the breaker is off
    alerts = await flows.alerts("alice")
    assert levels(alerts, "CLIENT_DAILY_LOSS") == [
        ("OK", "WARNING"),
        ("WARNING", "OK"),
        ("OK", "CRITICAL"),
        ("CRITICAL", "OK"),
    ]
    assert "removed" in alerts[0]["message"]
    assert levels(alerts, "CLIENT_DRAWDOWN") == []  # 8.5 % is below 80 % of 20 %


async def test_marks_move_the_breakers_of_every_holder(flows: Flows) -> None:
    await flows.deposit("alice", "10000")
    await flows.deposit("bob", "10000")
    await flows.open("alice", instrument="XAUUSD", volume="1.00", price="2000")
    await flows.open("bob", instrument="XAUUSD", volume="0.50", price="2000")
    await flows.marks(("XAUUSD", "1980"))  # alice -2,000 (20 %), bob -1,000 (10 %)
    await flows.marks(("XAUUSD", "2000"))
    assert levels(await flows.alerts("alice"), "CLIENT_DRAWDOWN") == [
        ("OK", "CRITICAL"),
        ("CRITICAL", "OK"),
    ]
    assert await flows.alerts("bob") == []


async def test_platform_breakers_reach_admins_not_clients(flows: Flows, api: GraphQLClient) -> None:
    await flows.deposit("alice", "100000")
    await flows.open("alice", instrument="XAUUSD", volume="1.00", price="2000")  # 200,000
    await api.ok(PLATFORM_LIMITS, {"input": {"maxTotalExposure": "210000"}}, role="admin")
    await flows.open("alice", instrument="XAUUSD", volume="0.10", price="2000")  # 220,000
    everything = await flows.alerts()
    assert levels(everything, "PLATFORM_EXPOSURE") == [("OK", "WARNING"), ("WARNING", "CRITICAL")]
    critical = everything[0]
    assert critical["clientId"] is None
    assert (critical["value"], critical["limit"]) == ("220000.00", "210000.00")
    assert await flows.alerts(role="client", sub="alice") == []


async def test_trading_mode_changes_are_alerts_of_their_own(
    flows: Flows, api: GraphQLClient
) -> None:
    halt = {"clientId": "alice", "mode": "HALTED", "reason": "margin call"}
    await api.ok(MODE, halt)
    await api.ok(MODE, halt)  # unchanged: no second alert
    await api.ok(MODE, {"clientId": None, "mode": "REDUCE_ONLY", "reason": "news"}, role="admin")
    mine = await flows.alerts(role="client", sub="alice")
    assert [(a["kind"], a["previousLevel"], a["level"]) for a in mine] == [
        ("TRADING_MODE", "OK", "CRITICAL")
    ]
    assert "from ACTIVE to HALTED: margin call" in mine[0]["message"]
    platform = [a for a in await flows.alerts() if a["clientId"] is None]
    assert [(a["previousLevel"], a["level"]) for a in platform] == [("OK", "WARNING")]


async def test_replayed_events_raise_nothing_new(flows: Flows) -> None:
    await flows.deposit("alice", "10000")
    trade = await flows.open("alice")
    await flows.close("alice", trade, pnl="-2500")
    await flows.close("alice", trade, pnl="-2500")  # the same event again
    assert levels(await flows.alerts("alice"), "CLIENT_DRAWDOWN") == [("OK", "CRITICAL")]


async def test_clients_read_only_their_own_alerts(flows: Flows, api: GraphQLClient) -> None:
    await flows.deposit("alice", "10000")
    await flows.deposit("bob", "10000")
    await flows.realize("alice", "-2500")
    await flows.realize("bob", "-1800")
    assert [a["clientId"] for a in await flows.alerts(role="client", sub="alice")] == ["alice"]
    assert [a["clientId"] for a in await flows.alerts(role="client", sub="bob")] == ["bob"]
    await api.fails(
        '{ breakerAlerts(clientId: "alice") { id } }', code="FORBIDDEN", role="client", sub="bob"
    )
    assert {a["clientId"] for a in await flows.alerts(role="service")} == {"alice", "bob"}
    assert [a["clientId"] for a in await flows.alerts("bob", role="service")] == ["bob"]
    await api.fails("{ breakerAlerts(limit: 0) { id } }", code="BAD_USER_INPUT", role="admin")
    await api.fails("{ breakerAlerts { id } }", code="UNAUTHENTICATED", role=None)
