"""Protection settings over HTTP: defaults, ranges, unknown symbols, client ceilings, audit."""

from __future__ import annotations

from typing import Any

import pytest

from riskgate.settings import Settings
from tests.protections.helpers import audit_entries
from tests.support.client import GraphQLClient

FIELDS = """
    clientId maxLeverage maxWeeklyLoss lossStreakLimit cooldownMinutes maxSignalsPerMinute
    allowedInstruments blockedInstruments stopOutOnBreach
"""
READ = f"query Read($c: String) {{ riskProfile(clientId: $c) {{ {FIELDS} }} }}"
UPDATE = f"""
mutation Update($c: String, $i: RiskProfileInput!) {{
  updateRiskProfile(clientId: $c, input: $i) {{ {FIELDS} }}
}}
"""
CEILINGS = """
mutation Ceilings($c: ClientCeilingsInput!) {
  updatePlatformLimits(input: { clientCeilings: $c }) {
    clientCeilings { maxLeverage maxWeeklyLoss lossStreakLimit cooldownMinutes
      maxSignalsPerMinute allowedInstruments blockedInstruments stopOutOnBreach }
  }
}
"""
OFF = {
    "maxLeverage": None,
    "maxWeeklyLoss": None,
    "lossStreakLimit": None,
    "cooldownMinutes": 60,
    "maxSignalsPerMinute": None,
    "allowedInstruments": None,
    "blockedInstruments": [],
    "stopOutOnBreach": False,
}


async def update(api: GraphQLClient, changes: dict[str, Any], **auth: Any) -> dict[str, Any]:
    data = await api.ok(UPDATE, {"c": "alice", "i": changes}, **auth)
    return dict(data["updateRiskProfile"])


async def test_protections_are_off_by_default(api: GraphQLClient) -> None:
    profile = (await api.ok(READ, {"c": "alice"}))["riskProfile"]
    assert {k: profile[k] for k in OFF} == OFF


async def test_every_setting_round_trips_at_its_bounds(api: GraphQLClient) -> None:
    low = {
        "maxLeverage": "1",
        "maxWeeklyLoss": "0.01",
        "lossStreakLimit": 1,
        "cooldownMinutes": 1,
        "maxSignalsPerMinute": 1,
        "allowedInstruments": ["eurusd", "XAUUSD"],
        "blockedInstruments": ["US30"],
        "stopOutOnBreach": True,
    }
    profile = await update(api, low)
    assert profile["maxLeverage"] == "1.00"
    assert profile["maxWeeklyLoss"] == "0.01"
    assert profile["allowedInstruments"] == ["EURUSD", "XAUUSD"]
    assert profile["blockedInstruments"] == ["US30"]
    assert profile["stopOutOnBreach"] is True
    high = {
        "maxLeverage": "1000",
        "lossStreakLimit": 100,
        "cooldownMinutes": 10080,
        "maxSignalsPerMinute": 10000,
    }
    profile = await update(api, high)
    assert (profile["lossStreakLimit"], profile["cooldownMinutes"]) == (100, 10080)
    assert profile["maxSignalsPerMinute"] == 10000
    # An explicit null switches a protection off again.
    cleared = {
        "maxLeverage": None,
        "maxWeeklyLoss": None,
        "lossStreakLimit": None,
        "maxSignalsPerMinute": None,
        "allowedInstruments": None,
        "blockedInstruments": [],
        "stopOutOnBreach": False,
        "cooldownMinutes": 60,
    }
    assert {k: v for k, v in (await update(api, cleared)).items() if k in OFF} == OFF
    stored = (await api.ok(READ, {"c": "alice"}))["riskProfile"]
    assert {k: stored[k] for k in OFF} == OFF


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("maxLeverage", "0.99"),
        ("maxLeverage", "1000.01"),
        ("maxWeeklyLoss", "0"),
        ("lossStreakLimit", 0),
        ("lossStreakLimit", 101),
        ("cooldownMinutes", 0),
        ("cooldownMinutes", 10081),
        ("cooldownMinutes", None),
        ("maxSignalsPerMinute", 0),
        ("maxSignalsPerMinute", 10001),
        ("allowedInstruments", ["EURUSD", "NOSUCH"]),
        ("blockedInstruments", ["NOSUCH"]),
        ("blockedInstruments", None),
        ("stopOutOnBreach", None),
    ],
)
async def test_out_of_range_and_unknown_symbols_are_refused(
    api: GraphQLClient, field: str, value: Any
) -> None:
    error = await api.fails(UPDATE, {"c": "alice", "i": {field: value}}, code="BAD_USER_INPUT")
    assert field in error["message"] or error.get("extensions", {}).get("field") == field
    profile = (await api.ok(READ, {"c": "alice"}))["riskProfile"]
    assert {k: profile[k] for k in OFF} == OFF


async def test_client_stays_within_the_ceilings(api: GraphQLClient) -> None:
    ceilings = {
        "maxLeverage": "30",
        "cooldownMinutes": 15,
        "allowedInstruments": ["EURUSD", "GBPUSD"],
        "blockedInstruments": ["GBPUSD"],
        "stopOutOnBreach": True,
    }
    shown = (await api.ok(CEILINGS, {"c": ceilings}, role="admin"))["updatePlatformLimits"]
    assert shown["clientCeilings"]["maxLeverage"] == "30.00"
    assert shown["clientCeilings"]["allowedInstruments"] == ["EURUSD", "GBPUSD"]
    as_client = {"role": "client", "sub": "alice"}
    for bad in (
        {"maxLeverage": "31"},
        {"maxLeverage": None},
        {"cooldownMinutes": 14},
        {"allowedInstruments": ["XAUUSD"]},
        {"allowedInstruments": None},
        {"blockedInstruments": []},
        {"stopOutOnBreach": False},
    ):
        await api.fails(UPDATE, {"c": "alice", "i": bad}, code="BAD_USER_INPUT", **as_client)
    good = {
        "maxLeverage": "30",
        "cooldownMinutes": 15,
        "allowedInstruments": ["EURUSD"],
        "blockedInstruments": ["GBPUSD", "US30"],
        "stopOutOnBreach": True,
    }
    profile = await update(api, good, **as_client)
    assert profile["allowedInstruments"] == ["EURUSD"]
    # The service is not bound by client ceilings.
    assert (await update(api, {"maxLeverage": "500"}))["maxLeverage"] == "500.00"
    # Ceilings are validated like settings.
    await api.fails(
        CEILINGS, {"c": {"blockedInstruments": ["NOSUCH"]}}, code="BAD_USER_INPUT", role="admin"
    )
    await api.fails(CEILINGS, {"c": {"cooldownMinutes": 0}}, code="BAD_USER_INPUT", role="admin")


async def test_changes_are_audited(api: GraphQLClient, settings: Settings) -> None:
    await update(api, {"maxLeverage": "20", "blockedInstruments": ["US30", "GER40"]})
    [entry] = await audit_entries(settings, client_id="alice", action="risk_profile.update")
    assert entry.old_values is not None and entry.new_values is not None
    assert entry.old_values["max_leverage"] is None
    assert entry.new_values["max_leverage"] == "20"
    assert entry.new_values["blocked_instruments"] == "GER40,US30"
    assert entry.actor_role == "service"
