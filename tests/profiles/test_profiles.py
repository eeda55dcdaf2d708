"""Risk profiles over HTTP: defaults, get-or-create, validated updates and client ceilings."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from db.tables import audit_log, risk_profiles
from riskgate.settings import Settings
from tests.support.client import GraphQLClient, Response
from tests.support.databases import count_rows

PROFILE_FIELDS = """
    id clientId maxDrawdownPercent maxDailyLoss maxPositionSize maxOpenPositions
    maxCorrelationExposure riskPerTradePercent tradingMode updatedAt
"""
READ = f"query Read($c: String) {{ riskProfile(clientId: $c) {{ {PROFILE_FIELDS} }} }}"
UPDATE = f"""
mutation Update($c: String, $i: RiskProfileInput!) {{
  updateRiskProfile(clientId: $c, input: $i) {{ {PROFILE_FIELDS} }}
}}
"""
CEILINGS = """
mutation Ceilings($c: ClientCeilingsInput!) {
  updatePlatformLimits(input: { clientCeilings: $c }) {
    clientCeilings { maxDrawdownPercent maxDailyLoss maxPositionSize maxOpenPositions
                     maxCorrelationExposure riskPerTradePercent }
  }
}
"""

DEFAULTS = {
    "maxDrawdownPercent": "20.00",
    "maxDailyLoss": None,
    "maxPositionSize": "1.00",
    "maxOpenPositions": 5,
    "maxCorrelationExposure": "0.70",
    "riskPerTradePercent": "2.00",
    "tradingMode": "ACTIVE",
}


async def read(api: GraphQLClient, client_id: str) -> dict[str, Any]:
    return (await api.ok(READ, {"c": client_id}))["riskProfile"]


async def update(
    api: GraphQLClient, client_id: str | None, changes: dict[str, Any], **auth: Any
) -> Response:
    return await api.post(UPDATE, {"c": client_id, "i": changes}, **auth)


def limits_of(profile: dict[str, Any]) -> dict[str, Any]:
    return {k: profile[k] for k in DEFAULTS}


async def test_new_client_gets_the_default_profile(api: GraphQLClient) -> None:
    profile = await read(api, "carol")
    assert profile["clientId"] == "carol"
    assert limits_of(profile) == DEFAULTS
    assert profile["id"]
    assert profile["updatedAt"].endswith("+00:00")
    # A second read returns the same stored profile, not a fresh one.
    assert await read(api, "carol") == profile


async def test_a_client_reads_its_own_profile_without_naming_itself(api: GraphQLClient) -> None:
    mine = (await api.ok(READ, {"c": None}, role="client", sub="dave"))["riskProfile"]
    assert mine["clientId"] == "dave"
    assert mine == await read(api, "dave")


async def test_concurrent_first_reads_create_exactly_one_profile(
    api: GraphQLClient, settings: Settings
) -> None:
    replies = await asyncio.gather(*(api.post(READ, {"c": "newcomer"}) for _ in range(20)))
    for reply in replies:
        assert reply.status == 200 and not reply.errors, reply.body
    ids = {reply.data["riskProfile"]["id"] for reply in replies}
    assert len(ids) == 1, ids
    assert {reply.data["riskProfile"]["clientId"] for reply in replies} == {"newcomer"}
    assert await count_rows(settings, risk_profiles, risk_profiles.c.client_id == "newcomer") == 1


OUT_OF_RANGE = [
    ("maxDrawdownPercent", "0.99"),
    ("maxDrawdownPercent", "100.01"),
    ("maxDrawdownPercent", "-5"),
    ("maxDailyLoss", "0"),
    ("maxDailyLoss", "-100"),
    ("maxPositionSize", "0"),
    ("maxPositionSize", "100.01"),
    ("maxPositionSize", "0.015"),
    ("maxOpenPositions", 0),
    ("maxOpenPositions", 1001),
    ("maxCorrelationExposure", "0"),
    ("maxCorrelationExposure", "1.01"),
    ("riskPerTradePercent", "0.09"),
    ("riskPerTradePercent", "10.01"),
]


@pytest.mark.parametrize("as_role", ["client", "service"])
async def test_out_of_range_values_are_rejected_and_nothing_changes(
    api: GraphQLClient, as_role: str
) -> None:
    before = await read(api, "alice")
    for field, value in OUT_OF_RANGE:
        reply = await update(api, "alice", {field: value}, role=as_role)
        assert reply.codes == ["BAD_USER_INPUT"], (field, value, reply.body)
        assert reply.errors[0]["extensions"].get("field") == field, (field, value, reply.body)
        assert reply.data is None
    assert await read(api, "alice") == before


async def test_one_bad_field_rejects_the_whole_update(api: GraphQLClient) -> None:
    before = await read(api, "alice")
    reply = await update(api, "alice", {"maxPositionSize": "2.00", "maxOpenPositions": 5000})
    assert reply.codes == ["BAD_USER_INPUT"]
    assert reply.errors[0]["extensions"]["field"] == "maxOpenPositions"
    assert await read(api, "alice") == before


async def test_null_is_refused_for_limits_that_cannot_be_cleared(api: GraphQLClient) -> None:
    before = await read(api, "alice")
    reply = await update(api, "alice", {"maxPositionSize": None})
    assert reply.codes == ["BAD_USER_INPUT"]
    assert reply.errors[0]["extensions"]["field"] == "maxPositionSize"
    assert await read(api, "alice") == before


async def test_partial_update_and_explicit_null_clears_max_daily_loss(
    api: GraphQLClient, settings: Settings
) -> None:
    reply = await update(api, "alice", {"maxDailyLoss": "500", "maxOpenPositions": 8})
    assert not reply.errors, reply.body
    profile = reply.data["updateRiskProfile"]
    assert profile["maxDailyLoss"] == "500.00"
    assert profile["maxOpenPositions"] == 8
    assert profile["maxDrawdownPercent"] == "20.00"  # untouched

    # Omitting a field leaves it as it is.
    reply = await update(api, "alice", {"riskPerTradePercent": "1.5"})
    assert reply.data["updateRiskProfile"]["maxDailyLoss"] == "500.00"
    assert reply.data["updateRiskProfile"]["riskPerTradePercent"] == "1.50"

    # An explicit null clears the daily loss cap.
    reply = await update(api, "alice", {"maxDailyLoss": None})
    assert not reply.errors, reply.body
    assert reply.data["updateRiskProfile"]["maxDailyLoss"] is None
    stored = await read(api, "alice")
    assert stored["maxDailyLoss"] is None
    assert stored["maxOpenPositions"] == 8
    assert stored["riskPerTradePercent"] == "1.50"
    # Each change is audited.
    assert (
        await count_rows(
            settings,
            audit_log,
            audit_log.c.client_id == "alice",
            audit_log.c.action == "risk_profile.update",
        )
        == 3
    )


async def test_client_updates_its_own_profile_within_ceilings(api: GraphQLClient) -> None:
    reply = await update(
        api,
        None,
        {"maxPositionSize": "100", "maxOpenPositions": 1000, "maxDrawdownPercent": "100"},
        role="client",
        sub="alice",
    )
    assert not reply.errors, reply.body
    assert reply.data["updateRiskProfile"]["clientId"] == "alice"
    assert reply.data["updateRiskProfile"]["maxPositionSize"] == "100.00"
    assert (await read(api, "alice"))["maxOpenPositions"] == 1000


async def test_client_above_an_admin_set_ceiling_is_rejected(api: GraphQLClient) -> None:
    ceilings = {"maxPositionSize": "2.00", "maxOpenPositions": 10, "maxDailyLoss": "1000"}
    data = await api.ok(CEILINGS, {"c": ceilings}, role="admin")
    assert data["updatePlatformLimits"]["clientCeilings"]["maxPositionSize"] == "2.00"
    assert data["updatePlatformLimits"]["clientCeilings"]["maxDailyLoss"] == "1000.00"

    # At or below the ceiling: fine.
    reply = await update(
        api, "alice", {"maxPositionSize": "2.00", "maxDailyLoss": "800"}, role="client"
    )
    assert not reply.errors, reply.body
    before = await read(api, "alice")
    assert before["maxPositionSize"] == "2.00"

    rejected = [
        ({"maxPositionSize": "2.01"}, "maxPositionSize"),
        ({"maxOpenPositions": 11}, "maxOpenPositions"),
        ({"maxDailyLoss": "1000.01"}, "maxDailyLoss"),
        ({"maxDailyLoss": None}, "maxDailyLoss"),  # clearing would lift the platform cap
        ({"maxOpenPositions": 3, "maxPositionSize": "5"}, "maxPositionSize"),
    ]
    for changes, field in rejected:
        reply = await update(api, "alice", changes, role="client")
        assert reply.codes == ["BAD_USER_INPUT"], (changes, reply.body)
        assert reply.errors[0]["extensions"]["field"] == field, (changes, reply.body)
    assert await read(api, "alice") == before


@pytest.mark.parametrize("role", ["service", "admin"])
async def test_service_and_admin_may_exceed_client_ceilings(api: GraphQLClient, role: str) -> None:
    await api.ok(CEILINGS, {"c": {"maxPositionSize": "2.00", "maxOpenPositions": 10}}, role="admin")
    reply = await update(
        api, "alice", {"maxPositionSize": "50", "maxOpenPositions": 900}, role=role
    )
    assert not reply.errors, reply.body
    profile = await read(api, "alice")
    assert profile["maxPositionSize"] == "50.00"
    assert profile["maxOpenPositions"] == 900
    # ... but never outside the ranges.
    reply = await update(api, "alice", {"maxPositionSize": "100.01"}, role=role)
    assert reply.codes == ["BAD_USER_INPUT"]
    assert reply.errors[0]["extensions"]["field"] == "maxPositionSize"
    assert await read(api, "alice") == profile


UNREPRESENTABLE = ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "1E+1000000", "1.0E-1000000"]
TOO_PRECISE = "12.345678901234567890123456789"  # 29 significant digits


@pytest.mark.parametrize("raw", [*UNREPRESENTABLE, TOO_PRECISE])
async def test_non_finite_overflowing_or_too_precise_decimals_are_rejected(
    api: GraphQLClient, raw: str
) -> None:
    before = await read(api, "alice")
    for field in ("maxDrawdownPercent", "maxDailyLoss", "riskPerTradePercent"):
        reply = await update(api, "alice", {field: raw})
        assert reply.codes == ["BAD_USER_INPUT"], (field, raw, reply.body)
        named = reply.errors[0]["extensions"].get("field", "")
        assert named.split(".")[-1] == field, (field, raw, reply.body)
        assert reply.data is None
    assert await read(api, "alice") == before


@pytest.mark.parametrize("raw", ["NaN", "1E+1000000", "Infinity", TOO_PRECISE])
async def test_rejected_decimal_variable_names_the_field(api: GraphQLClient, raw: str) -> None:
    reply = await update(api, "alice", {"maxDrawdownPercent": raw})
    assert reply.codes == ["BAD_USER_INPUT"]
    field = reply.errors[0]["extensions"].get("field", "")
    assert field.split(".")[-1] == "maxDrawdownPercent", reply.body


async def test_rejected_decimal_literal_names_the_field(api: GraphQLClient) -> None:
    reply = await api.post(
        'mutation { updateRiskProfile(clientId: "alice", input: {maxDailyLoss: "NaN"}) { id } }'
    )
    assert reply.codes == ["BAD_USER_INPUT"]
    field = reply.errors[0]["extensions"].get("field", "")
    assert field.split(".")[-1] == "maxDailyLoss", reply.body


async def test_precision_inside_the_limit_is_accepted_and_rounded_for_display(
    api: GraphQLClient,
) -> None:
    reply = await update(api, "alice", {"maxDailyLoss": "1234.565"})
    assert not reply.errors, reply.body
    # Stored exactly, shown half-even to 2 decimals.
    assert reply.data["updateRiskProfile"]["maxDailyLoss"] == "1234.56"
