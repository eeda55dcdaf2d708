"""Breaker levels and transitions as pure rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from domain.access import Caller
from domain.breakers import (
    Alert,
    BreakerKind,
    alert_scope,
    client_readings,
    level_of,
    mode_change,
    platform_readings,
    transitions,
    visible,
)
from domain.errors import Forbidden
from domain.exposure import book_totals, platform_exposure
from domain.history import hour_bucket, snapshot_cutoff
from domain.limits import PlatformLimits
from domain.profile import RiskLimits
from domain.values import AlertLevel, Role, TradingMode

OK, WARNING, CRITICAL = AlertLevel.OK, AlertLevel.WARNING, AlertLevel.CRITICAL


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("0", OK),
        ("15.99", OK),
        ("16", WARNING),
        ("19.99", WARNING),
        ("20", CRITICAL),
        ("95", CRITICAL),
    ],
)
def test_client_levels_warn_at_80_and_trip_at_100_percent_of_the_limit(
    value: str, level: AlertLevel
) -> None:
    assert level_of(D(value), D(20), D("0.80")) is level


@pytest.mark.parametrize(
    ("value", "level"),
    [("449999.99", OK), ("450000", WARNING), ("499999.99", WARNING), ("500000", CRITICAL)],
)
def test_platform_levels_warn_at_90_and_trip_at_100_percent(value: str, level: AlertLevel) -> None:
    assert level_of(D(value), D(500_000), D("0.90")) is level


def test_daily_loss_is_off_without_a_cap_and_a_gain_is_no_loss() -> None:
    uncapped = RiskLimits()
    _, daily = client_readings("alice", drawdown_percent=D(0), daily_pnl=D(-5000), limits=uncapped)
    assert daily.level is OK
    capped = RiskLimits(max_daily_loss=D(1000))
    _, daily = client_readings("alice", drawdown_percent=D(0), daily_pnl=D(-800), limits=capped)
    assert (daily.value, daily.limit, daily.level) == (D(800), D(1000), WARNING)
    _, daily = client_readings("alice", drawdown_percent=D(0), daily_pnl=D(900), limits=capped)
    assert (daily.value, daily.level) == (D(0), OK)


def test_platform_exposure_counts_reservations() -> None:
    totals = book_totals([], {})
    exposure = platform_exposure(totals, 3, D(460_000), D(0), D(500_000), 50)
    used, daily = platform_readings(exposure, PlatformLimits())
    assert (used.kind, used.value, used.level) == (
        BreakerKind.PLATFORM_EXPOSURE,
        D(460_000),
        WARNING,
    )
    assert used.client_id is None and used.scope == "platform"
    assert daily.level is OK


def test_an_alert_only_on_a_change_of_level() -> None:
    limits = RiskLimits()
    warn, _ = client_readings("alice", drawdown_percent=D(17), daily_pnl=D(0), limits=limits)
    first = transitions([warn], {})
    assert [(t.previous_level, t.level) for t in first] == [(OK, WARNING)]
    assert "drawdown of client alice rose to WARNING" in first[0].message
    assert transitions([warn], {warn.key: WARNING}) == []
    ok, _ = client_readings("alice", drawdown_percent=D(1), daily_pnl=D(0), limits=limits)
    assert transitions([ok], {}) == []  # a breaker never seen was OK
    back = transitions([ok], {ok.key: CRITICAL})
    assert [(t.previous_level, t.level) for t in back] == [(CRITICAL, OK)]
    assert "fell to OK" in back[0].message


def test_a_removed_daily_loss_cap_resets_its_breaker() -> None:
    _, daily = client_readings(
        "alice", drawdown_percent=D(0), daily_pnl=D(-5000), limits=RiskLimits()
    )
    [change] = transitions([daily], {daily.key: CRITICAL})
    assert (change.level, change.limit) == (OK, D(0))
    assert "cap of client alice removed" in change.message


def test_mode_changes_map_to_levels() -> None:
    halt = mode_change("alice", TradingMode.ACTIVE, TradingMode.HALTED, "margin call")
    assert (halt.kind, halt.previous_level, halt.level) == (BreakerKind.TRADING_MODE, OK, CRITICAL)
    assert halt.message.endswith("from ACTIVE to HALTED: margin call")
    reduce = mode_change(None, TradingMode.HALTED, TradingMode.REDUCE_ONLY, "recovering")
    assert (reduce.scope, reduce.previous_level, reduce.level) == ("platform", CRITICAL, WARNING)


def _alert(client_id: str | None) -> Alert:
    at = datetime(2026, 1, 5, tzinfo=UTC)
    return Alert(1, client_id, "CLIENT_DRAWDOWN", WARNING, OK, D(17), D(20), "m", at)


def test_who_sees_which_alert() -> None:
    alice = Caller("alice", Role.CLIENT)
    assert alert_scope(alice, None) == "alice"
    assert alert_scope(alice, "alice") == "alice"
    with pytest.raises(Forbidden):
        alert_scope(alice, "bob")
    assert alert_scope(Caller("ops", Role.ADMIN), None) is None
    assert alert_scope(Caller("svc", Role.SERVICE), "bob") == "bob"
    assert visible(_alert("alice"), "alice")
    assert not visible(_alert("bob"), "alice")
    assert not visible(_alert(None), "alice")
    assert visible(_alert(None), None) and visible(_alert("bob"), None)


def test_hour_bucket_and_retention_cutoff() -> None:
    at = datetime(2026, 3, 1, 14, 59, 59, 999_999, tzinfo=UTC)
    assert hour_bucket(at) == datetime(2026, 3, 1, 14, tzinfo=UTC)
    assert snapshot_cutoff(at) == datetime(2025, 12, 1, 14, 59, 59, 999_999, tzinfo=UTC)
