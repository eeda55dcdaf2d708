"""In production (introspection off) error messages never suggest names of the schema."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.client import GraphQLClient

# (document, variables, role, a name of the schema the mistake is close to)
MISTAKES: list[tuple[str, dict[str, Any], str, str]] = [
    ("{ instrumnts { symbol } }", {}, "client", "instruments"),
    ("{ instruments { symbl } }", {}, "client", "symbol"),
    ('{ riskProfile(clientID: "alice") { clientId } }', {}, "client", "clientId"),
    ("query($c: Strin) { riskProfile(clientId: $c) { id } }", {"c": "al"}, "client", "String"),
    (
        "mutation($i: RiskProfileInput!) { updateRiskProfile(input: $i) { id } }",
        {"i": {"maxOpenPosition": 3}},
        "client",
        "maxOpenPositions",
    ),
    (
        "mutation { updateRiskProfile(input: { maxOpenPosition: 3 }) { id } }",
        {},
        "client",
        "maxOpenPositions",
    ),
    (
        'mutation($d: Direction!) { checkSignal(dryRun: true, signal: { signalId: "s",'
        ' instrument: "EURUSD", direction: $d, entryPrice: "1.1" }) { passes } }',
        {"d": "BYU"},
        "client",
        "BUY",
    ),
    (
        'mutation { setTradingMode(mode: HALTD, reason: "r") }',
        {},
        "admin",
        "HALTED",
    ),
]  # fmt: skip


async def replies(api: GraphQLClient) -> list[tuple[str, list[dict[str, Any]], str]]:
    found = []
    for document, variables, role, name in MISTAKES:
        reply = await api.post(document, variables, role=role)
        assert reply.errors, (document, reply.body)
        assert set(reply.codes) == {"BAD_USER_INPUT"}, (document, reply.body)
        found.append((document, reply.errors, name))
    return found


async def test_no_suggestions_while_introspection_is_off(production_api: GraphQLClient) -> None:
    for document, errors, name in await replies(production_api):
        text = json.dumps(errors)
        assert "did you mean" not in text.lower(), (document, errors)
        assert f"'{name}'" not in text, (document, errors)


@pytest.mark.parametrize("role", ["client", "admin"])
async def test_introspection_is_off_in_production(production_api: GraphQLClient, role: str) -> None:
    for document in ("{ __schema { types { name } } }", '{ __type(name: "Query") { name } }'):
        reply = await production_api.post(document, role=role)
        assert set(reply.codes) == {"BAD_USER_INPUT"}, reply.body
        assert reply.data is None


async def test_development_still_suggests(api: GraphQLClient) -> None:
    # The same mistakes do get suggestions where introspection is on (so the check above
    # looks at messages that would carry them).
    suggested = [name for _, errors, name in await replies(api) if name in json.dumps(errors)]
    assert len(suggested) >= 6, suggested
