"""The app starts on each backend and answers authenticated and anonymous requests."""

from __future__ import annotations

from tests.support.client import GraphQLClient, assert_denied


async def test_profile_defaults_for_new_client(api: GraphQLClient) -> None:
    data = await api.ok(
        "{ riskProfile { clientId maxDrawdownPercent maxDailyLoss maxOpenPositions } }",
        role="client",
    )
    assert data["riskProfile"] == {
        "clientId": "alice",
        "maxDrawdownPercent": "20.00",
        "maxDailyLoss": None,
        "maxOpenPositions": 5,
    }


async def test_no_token_is_unauthenticated(api: GraphQLClient) -> None:
    assert_denied(await api.post("{ riskProfile { id } }", role=None), "UNAUTHENTICATED")
