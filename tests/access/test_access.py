"""Who may do what (the roles table), tokens that must not get in, body limits and error
hygiene."""

from __future__ import annotations

import base64
import json
import time
import warnings
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest

from domain.access import ROLE_TABLE, Scope
from tests.support.client import GraphQLClient, Response
from tests.support.documents import CASH, CLOSE, EXPOSURE, GLOBAL, MARKS, OPEN
from tests.support.events import close_input, open_input, open_trade
from tests.support.reports import exposure
from tests.support.settings import TEST_SECRET

ME, OTHER = "alice", "bob"
SUBS = {"client": ME, "service": "approval-service", "admin": "ops"}

PLATFORM_LIMITS = """
{ platformLimits { maxTotalExposure maxOpenPositions maxPositionSize maxDailyLoss
    maxInstrumentVolume tradingMode clientCeilings { maxPositionSize maxOpenPositions } } }
"""
INSTRUMENTS = "{ instruments { symbol correlationGroup contractSize markPrice } }"
PROFILE = "query($c: String) { riskProfile(clientId: $c) { clientId maxOpenPositions } }"
HISTORY = "query($c: String) { exposureHistory(clientId: $c) { clientId totalExposure } }"
UPDATE_ALICE = (
    'mutation($i: RiskProfileInput!) { updateRiskProfile(clientId: "alice", input: $i) { id } }'
)


async def world(api: GraphQLClient) -> dict[str, Any]:
    """Everything observable, read as an admin: used to prove a refused call changed nothing."""
    state: dict[str, Any] = {}
    for client in (ME, OTHER):
        state[client] = {
            "exposure": await exposure(api, client),
            "profile": (await api.ok(PROFILE, {"c": client}, role="admin"))["riskProfile"],
            "history": (await api.ok(HISTORY, {"c": client}, role="admin"))["exposureHistory"],
        }
    state["platform"] = (await api.ok(GLOBAL, role="admin"))["globalExposure"]
    state["limits"] = (await api.ok(PLATFORM_LIMITS, role="admin"))["platformLimits"]
    state["instruments"] = (await api.ok(INSTRUMENTS, role="admin"))["instruments"]
    return state


# How the role table's scopes read in these tests.
SCOPES = {Scope.OWN: "client", Scope.STAFF: "staff", Scope.ADMIN: "admin", Scope.ANYONE: "anyone"}


@dataclass(frozen=True)
class Operation:
    name: str
    document: str
    variables: Callable[[str | None, str], dict[str, Any]]  # (clientId, unique tag) -> vars
    writes: bool

    @property
    def scope(self) -> str:
        """From the service's own role table: "client" (own for clients, any for staff),
        "staff", "admin" or "anyone"."""
        return SCOPES[ROLE_TABLE[self.name]]


OPERATIONS = [
    Operation("riskProfile", PROFILE, lambda c, _: {"c": c}, False),
    Operation("exposure", EXPOSURE, lambda c, _: {"clientId": c}, False),
    Operation("exposureHistory", HISTORY, lambda c, _: {"c": c}, False),
    Operation(
        "updateRiskProfile",
        "mutation($c: String) { updateRiskProfile(clientId: $c, input: {maxOpenPositions: 4}) "
        "{ clientId maxOpenPositions } }",
        lambda c, _: {"c": c},
        True,
    ),
    Operation(
        "recordTradeOpened",
        OPEN,
        lambda c, tag: {"trade": open_input(f"new-{tag}", c or ME)},
        True,
    ),
    Operation(
        "recordTradeClosed",
        CLOSE,
        lambda c, tag: {"trade": close_input(f"seeded-{c}", c or ME, "1.1050")},
        True,
    ),
    Operation(
        "recordCashFlow",
        CASH,
        lambda c, tag: {"flow": {"flowId": f"flow-{tag}", "clientId": c or ME, "amount": "100"}},
        True,
    ),
    Operation(
        "updateMarkPrices",
        MARKS,
        lambda c, _: {"prices": [{"instrument": "EURUSD", "price": "1.2000"}]},
        True,
    ),
    Operation("globalExposure", GLOBAL, lambda c, _: {}, False),
    Operation("platformLimits", PLATFORM_LIMITS, lambda c, _: {}, False),
    Operation(
        "updatePlatformLimits",
        "mutation { updatePlatformLimits(input: {maxOpenPositions: 60}) { maxOpenPositions } }",
        lambda c, _: {},
        True,
    ),
    Operation(
        "upsertInstrument",
        'mutation { upsertInstrument(input: {symbol: "NEWIDX", correlationGroup: "INDICES", '
        'contractSize: "10"}) { symbol contractSize } }',
        lambda c, _: {},
        True,
    ),
    Operation("instruments", INSTRUMENTS, lambda c, _: {}, False),
]


def expected(op: Operation, role: str, target: str | None) -> str:
    """'granted' or the error code the role table calls for."""
    if op.scope == "anyone":
        return "granted"
    if op.scope == "admin":
        return "granted" if role == "admin" else "FORBIDDEN"
    if op.scope == "staff":
        return "FORBIDDEN" if role == "client" else "granted"
    if role == "client":
        return "granted" if target in (None, ME) else "FORBIDDEN"
    return "granted" if target is not None else "BAD_USER_INPUT"  # staff must name a client


TARGETS = {"client": (None, ME, OTHER), "staff": (ME, OTHER), "admin": (None,), "anyone": (None,)}


@pytest.fixture
async def seeded(api: GraphQLClient) -> AsyncIterator[GraphQLClient]:
    """Both clients hold something: an open trade `seeded-<client>` each, bob some cash."""
    await open_trade(api, "seeded-alice", ME, volume="0.10", price="1.1000")
    await open_trade(api, "seeded-bob", OTHER, instrument="XAUUSD", volume="0.05", price="2300.50")
    await api.ok(CASH, {"flow": {"flowId": "bob-dep", "clientId": OTHER, "amount": "777.77"}})
    yield api


@pytest.mark.parametrize("op", OPERATIONS, ids=[op.name for op in OPERATIONS])
async def test_role_table(seeded: GraphQLClient, op: Operation) -> None:
    """Every role with every kind of target, for one operation."""
    api = seeded
    effect_seen = False
    for role in ("client", "service", "admin"):
        for target in TARGETS[op.scope]:
            case = (op.name, role, target)
            before = await world(api) if op.writes else None
            reply = await api.post(op.document, op.variables(target, f"{role}-{target}"), role=role)
            outcome = expected(op, role, target)
            if outcome == "granted":
                assert reply.status == 200 and not reply.errors, (case, reply.body)
                payload = next(iter(reply.data.values()))
                if op.scope == "client":
                    rows = payload if isinstance(payload, list) else [payload]
                    assert {r["clientId"] for r in rows} <= {target or SUBS[role]}, case
                if op.writes and not effect_seen:  # later grants may repeat the same write
                    assert await world(api) != before, (case, "a granted write changed nothing")
                    effect_seen = True
                continue
            assert set(reply.codes) == {outcome}, (case, reply.body)
            assert reply.data is None, case
            if op.writes:
                assert await world(api) == before, (case, "a refused write changed something")
    assert effect_seen or not op.writes


async def test_a_client_never_reaches_another_clients_data(seeded: GraphQLClient) -> None:
    api = seeded
    secrets = ["11502.50", "777.77", "XAUUSD"]  # bob's exposure, equity, instrument

    def leaked(reply: Response) -> list[str]:
        text = json.dumps(reply.body)
        return [s for s in secrets if s in text]

    attempts = [
        ('{ a: exposure(clientId: "alice") { totalExposure } '
         'b: exposure(clientId: "bob") { totalExposure equity byInstrument { instrument } } }',
         {}),
        ('{ b: exposure(clientId: "bob") { totalExposure } a: exposure { totalExposure } }', {}),
        ('{ mine: riskProfile { id } theirs: riskProfile(clientId: "bob") { id clientId } }', {}),
        ("query($c: String) { exposure(clientId: $c) { equity } }", {"c": "bob"}),
        ('{ exposureHistory(clientId: "bob") { totalExposure } }', {}),
        ("fragment F on Exposure { totalExposure equity } "
         '{ x: exposure(clientId: "bob") { ...F } }', {}),
        ('{ exposure(clientId: "BOB") { equity } }', {}),
        ('{ exposure(clientId: " bob") { equity } }', {}),
        ('mutation { updateRiskProfile(clientId: "bob", input: {maxOpenPositions: 1}) '
         "{ clientId } }", {}),
    ]  # fmt: skip
    for document, variables in attempts:
        reply = await api.post(document, variables, role="client", sub=ME)
        assert "FORBIDDEN" in reply.codes, (document, reply.body)
        assert not leaked(reply), (document, reply.body)
        assert reply.data is None or "bob" not in json.dumps(reply.data)
    profile = (await api.ok(PROFILE, {"c": OTHER}, role="admin"))["riskProfile"]
    assert profile["maxOpenPositions"] == 5
    # The client's own data stays reachable.
    own = await api.ok("{ exposure { clientId totalExposure } }", role="client", sub=ME)
    assert own["exposure"] == {"clientId": ME, "totalExposure": "11000.00"}


# -- tokens ------------------------------------------------------------------------------


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {"sub": "ops", "role": "admin", "iat": now, "exp": now + 600}
    for key, value in overrides.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    return values


def signed(payload: dict[str, Any], secret: str = TEST_SECRET, alg: str = "HS256") -> str:
    return jwt.encode(payload, secret, algorithm=alg)


def _hs512() -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the test secret is short for SHA-512; that is fine
        return signed(claims(), alg="HS512")


def _tampered() -> str:
    header, _, signature = signed(claims(role="client", sub="alice")).split(".")
    return f"{header}.{_b64(claims())}.{signature}"


BAD_TOKENS: dict[str, str | None] = {
    "no header": None,
    "empty bearer": "",
    "garbage": "not-a-jwt",
    "three garbage parts": "abc.def.ghi",
    "expired": signed(claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)),
    "not yet valid": signed(claims(nbf=int(time.time()) + 3600)),
    "other secret": signed(claims(), secret="another-secret-of-more-than-32-bytes!!"),
    "alg none": jwt.encode(claims(), None, algorithm="none"),
    "alg none unsigned HS256 header": f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims())}.",
    "alg none uppercase": f"{_b64({'alg': 'NONE', 'typ': 'JWT'})}.{_b64(claims())}.",
    "HS512 with the right secret": _hs512(),
    "tampered payload": _tampered(),
    "missing role": signed(claims(role=None)),
    "unknown role": signed(claims(role="superuser")),
    "role in capitals": signed(claims(role="ADMIN")),
    "role as a list": signed(claims(role=["admin"])),
    "missing sub": signed(claims(sub=None)),
    "empty sub": signed(claims(sub="")),
    "missing exp": signed(claims(exp=None)),
    "missing iat": signed(claims(iat=None)),
}


async def test_bad_tokens_are_unauthenticated_and_store_nothing(api: GraphQLClient) -> None:
    flow = {"flowId": "sneaky", "clientId": ME, "amount": "1000000"}
    requests = [
        (PROFILE, {"c": ME}),
        (GLOBAL, {}),
        (CASH, {"flow": flow}),
        ("{ instruments { symbol } }", {}),
    ]
    for case, token in BAD_TOKENS.items():
        headers = {} if token is None else {"authorization": f"Bearer {token}"}
        for document, variables in requests:
            reply = await api.http.post(
                "/graphql", json={"query": document, "variables": variables}, headers=headers
            )
            body = reply.json()
            codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or []}
            assert codes == {"UNAUTHENTICATED"}, (case, document, body)
            assert body.get("data") is None, case
    assert (await exposure(api, ME))["equity"] == "0.00"
    # The flow id was never used: a real deposit under it is not a conflict.
    await api.ok(CASH, {"flow": {**flow, "amount": "5"}})


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Token abc", "Bearer", "bearer  "])
async def test_malformed_authorization_headers(api: GraphQLClient, header: str) -> None:
    reply = await api.http.post(
        "/graphql", json={"query": "{ instruments { symbol } }"}, headers={"authorization": header}
    )
    codes = {e["extensions"]["code"] for e in reply.json()["errors"]}
    assert codes == {"UNAUTHENTICATED"}


async def test_valid_token_with_leeway_and_lowercase_scheme_is_accepted(api: GraphQLClient) -> None:
    token = signed(claims(sub="alice", role="client", exp=int(time.time()) - 2))  # within leeway
    reply = await api.http.post(
        "/graphql",
        json={"query": "{ riskProfile { clientId } }"},
        headers={"authorization": f"bearer {token}"},
    )
    assert reply.json() == {"data": {"riskProfile": {"clientId": "alice"}}}


@pytest.mark.parametrize("sub", ["a b/c", "x" * 100])
async def test_client_token_with_an_invalid_client_id_is_refused(
    api: GraphQLClient, sub: str
) -> None:
    reply = await api.post("{ riskProfile { clientId } }", role="client", sub=sub)
    assert set(reply.codes) & {"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT"}, reply.body
    assert reply.data is None


# -- request size and error hygiene ------------------------------------------------------


async def test_a_10_mb_body_is_refused_with_413_and_nothing_stored(api: GraphQLClient) -> None:
    flow = {"flowId": "huge", "clientId": ME, "amount": "100"}
    body = json.dumps(
        {"query": CASH, "variables": {"flow": flow, "padding": "x" * 10_000_000}}
    ).encode()
    headers = {"authorization": f"Bearer {api.token('service')}"}
    reply = await api.http.post(
        "/graphql", content=body, headers={**headers, "content-type": "application/json"}
    )
    assert reply.status_code == 413
    assert reply.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    # Without a declared length (chunked), the limit holds while reading.
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    reply = await api.http.post(
        "/graphql", content=chunks(), headers={**headers, "content-type": "application/json"}
    )
    assert reply.status_code == 413
    assert (await exposure(api, ME))["equity"] == "0.00"
    # The flow id was never stored.
    account = (await api.ok(CASH, {"flow": {**flow, "amount": "7"}}))["recordCashFlow"]
    assert account["balance"] == "7.00"


LEAK_MARKERS = [
    "select ",
    "insert ",
    "update ",
    "traceback",
    'file "',
    "sqlalchemy",
    "asyncpg",
    "aiosqlite",
    "sqlite3",
    "psycopg",
    "varchar",
    "decimal.",
    "invalidoperation",
    str(Path(__file__).resolve().parents[2]).lower(),  # the checkout's own path
    ".py",
]

HOSTILE: list[tuple[str, dict[str, Any], str]] = [
    ('{ exposure(clientId: "alice\' OR 1=1 --") { equity } }', {}, "service"),
    ('{ riskProfile(clientId: "x' + "y" * 5000 + '") { id } }', {}, "service"),
    (OPEN, {"trade": open_input("t' ; DROP TABLE trades; --", ME)}, "service"),
    (OPEN, {"trade": open_input("t-nul\x00", ME)}, "service"),
    (OPEN, {"trade": open_input("t-long", ME, instrument="A" * 300)}, "service"),
    (CASH, {"flow": {"flowId": "f" * 500, "clientId": ME, "amount": "1"}}, "service"),
    (CASH, {"flow": {"flowId": "f1", "clientId": ME, "amount": "1e999999999"}}, "service"),
    (CASH, {"flow": {"flowId": "f2", "clientId": ME, "amount": [1, 2]}}, "service"),
    (MARKS, {"prices": [{"instrument": "EURUSD", "price": "-0"}]}, "service"),
    (MARKS, {"prices": [{"instrument": f"S{i}", "price": "1"} for i in range(1001)]}, "service"),
    ('{ exposureHistory(clientId: "alice", limit: 100000000) { equity } }', {}, "service"),
    ('{ exposureHistory(clientId: "alice", since: "yesterday") { equity } }', {}, "service"),
    ("{ __schema { types { name } } }", {}, "client"),
    ("{ nope }", {}, "service"),
    ("{ " + " ".join(f"a{i}: instruments {{ symbol }}" for i in range(40)) + " }", {}, "client"),
    ("{ exposure { " + "clientId " * 5000 + "} }", {}, "client"),
]


async def test_errors_never_carry_internal_details(api: GraphQLClient) -> None:
    for document, variables, role in HOSTILE:
        reply = await api.post(document, variables, role=role)
        text = json.dumps(reply.body).lower()
        for marker in LEAK_MARKERS:
            assert marker not in text, (marker, document[:80], reply.body)


HELD_BACK_VARIABLES: list[tuple[str, dict[str, Any]]] = [
    (PROFILE, {"c": 12}),
    (HISTORY.replace("$c: String", "$c: String, $l: Int!").replace("$c)", "$c, limit: $l)"),
     {"c": ME, "l": "ten"}),
    (UPDATE_ALICE, {"i": {"maxOpenPositions": 2.5}}),
    (UPDATE_ALICE, {"i": {"bogus": 1}}),
    (OPEN, {"trade": open_input("t1", ME, direction="UP")}),
    (OPEN, {"trade": {**open_input("t1", ME), "volume": None}}),
    (CASH, {}),
]  # fmt: skip


async def assert_bad_user_input(api: GraphQLClient, document: str, variables: Any) -> None:
    reply = await api.post(document, variables)
    assert reply.errors, reply.body
    assert set(reply.codes) == {"BAD_USER_INPUT"}, (document[:80], variables, reply.body)
    assert reply.data is None


async def test_values_the_scalars_reject_are_bad_user_input(api: GraphQLClient) -> None:
    await assert_bad_user_input(api, UPDATE_ALICE, {"i": {"maxDailyLoss": "ten"}})
    await assert_bad_user_input(api, OPEN, {"trade": open_input("t1", ME, openedAt="today")})
    await assert_bad_user_input(api, OPEN, {"trade": open_input("t1", ME, openedAt="2025-01-01")})
    await assert_bad_user_input(api, "{ nope }", {})


async def test_variables_of_the_wrong_shape_are_bad_user_input(api: GraphQLClient) -> None:
    for document, variables in HELD_BACK_VARIABLES:
        await assert_bad_user_input(api, document, variables)


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00"])
async def test_a_date_time_out_of_range_is_bad_user_input(api: GraphQLClient, at: str) -> None:
    await assert_bad_user_input(api, OPEN, {"trade": open_input("t1", ME, openedAt=at)})


@pytest.mark.parametrize(
    "document",
    ["{ exposure(clientId: ", "{ exposure { " + "clientId " * 5000 + "} }"],
    ids=["syntax", "too-many-tokens"],
)
async def test_a_document_that_does_not_parse_is_bad_user_input(
    api: GraphQLClient, document: str
) -> None:
    await assert_bad_user_input(api, document, {})


def test_the_role_table_names_every_operation_of_the_schema() -> None:
    """Adding a query, mutation or subscription without deciding who may call it fails here."""
    from schema.build import build_schema

    schema = build_schema()._schema
    roots = (schema.query_type, schema.mutation_type, schema.subscription_type)
    served = {name for root in roots if root is not None for name in root.fields}
    tabled = {name.split(".")[0] for name in ROLE_TABLE}
    assert served == tabled
