"""Defects the schema fuzzer found, each pinned by a direct test on both databases."""

from __future__ import annotations

import pytest

from domain.errors import BadInput
from domain.profile import validate_client_id
from tests.support.client import GraphQLClient

CASH = "mutation($f: CashFlowInput!) { recordCashFlow(flow: $f) { clientId } }"
PROFILE = "query($c: String) { riskProfile(clientId: $c) { clientId } }"


@pytest.mark.parametrize("raw", ["alice\n", "alice\r\n", "\nalice"])
def test_client_id_with_a_newline_is_not_a_client_id(raw: str) -> None:
    with pytest.raises(BadInput):
        validate_client_id(raw)


async def test_client_id_with_a_trailing_newline_is_refused(api: GraphQLClient) -> None:
    """ "alice\\n" matched the client-id pattern (`$` allows a final newline) and was stored as
    a client of its own."""
    flow = {"flowId": "nl-1", "clientId": "alice\n", "amount": "100.00"}
    error = await api.fails(CASH, {"f": flow}, code="BAD_USER_INPUT", role="service")
    assert error["extensions"]["field"] == "clientId"
    await api.fails(PROFILE, {"c": "alice\n"}, code="BAD_USER_INPUT", role="admin")
    token = api.token("client", "alice\n")
    await api.fails("{ riskProfile { clientId } }", token=token, code="UNAUTHENTICATED")
    # Nothing was stored for it: the flow id is still free for the real client.
    flow["clientId"] = "alice"
    assert (await api.ok(CASH, {"f": flow}))["recordCashFlow"]["clientId"] == "alice"
