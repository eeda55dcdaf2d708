"""Whatever arrives at /graphql over HTTP, the answer is a JSON GraphQL error with a code and
a 4xx status, never a 5xx and never a traceback in the log."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from tests.hardening.helpers import assert_no_traceback
from tests.support.client import GraphQLClient

INSTRUMENTS = "{ instruments { symbol } }"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


JSON = "application/json"
Q = json.dumps(INSTRUMENTS)  # the query as a JSON string


def raw(text: str) -> bytes:
    return text.encode()


# (body, content type, expected status)
REFUSED_BODIES: dict[str, tuple[bytes, str, int]] = {
    "a string": (b'"str"', JSON, 400),
    "a number": (b"123", JSON, 400),
    "null": (b"null", JSON, 400),
    "true": (b"true", JSON, 400),
    "an empty array": (b"[]", JSON, 400),
    "a batch": (raw(json.dumps([{"query": INSTRUMENTS}] * 2)), JSON, 400),
    "bad JSON": (b'{"query": ', JSON, 400),
    "not UTF-8": (b'{"query": "\xff\xfe"}', JSON, 400),
    "NaN": (raw(f'{{"query": {Q}, "variables": {{"x": NaN}}}}'), JSON, 400),
    "an integer of 5000 digits": (raw(f'{{"query": {Q}, "x": {"1" * 5000}}}'), JSON, 400),
    "variables nested 5000 deep": (
        raw(f'{{"query": {Q}, "variables": {{"v": {nested(5000)}}}}}'),
        JSON,
        400,
    ),
    "variables nested 200 deep": (
        raw(f'{{"query": {Q}, "variables": {{"v": {nested(200)}}}}}'),
        JSON,
        400,
    ),
    "query not a string": (b'{"query": 5}', JSON, 400),
    "query missing": (b'{"variables": {}}', JSON, 400),
    "variables not an object": (raw(f'{{"query": {Q}, "variables": [1]}}'), JSON, 400),
    "operationName not a string": (raw(f'{{"query": {Q}, "operationName": 5}}'), JSON, 400),
    "unknown operationName": (raw(f'{{"query": {Q}, "operationName": "Nope"}}'), JSON, 400),
    "text/plain": (raw(json.dumps({"query": INSTRUMENTS})), "text/plain", 415),
    "form encoded": (
        b"query=%7B%20instruments%20%7B%20symbol%20%7D%20%7D",
        "application/x-www-form-urlencoded",
        415,
    ),
    "multipart": (b"--x\r\n\r\n--x--", "multipart/form-data; boundary=x", 415),
    "no content type": (raw(json.dumps({"query": INSTRUMENTS})), "", 415),
}


def assert_coded_refusal(reply: httpx.Response, status: int) -> dict[str, Any]:
    assert reply.status_code == status, (reply.status_code, reply.text[:300])
    assert reply.headers["content-type"].startswith("application/json"), reply.headers
    body = reply.json()
    assert body.get("data") is None, body
    assert body["errors"], body
    for error in body["errors"]:
        assert error["extensions"]["code"] == "BAD_USER_INPUT", body
        assert error["message"], body
    return dict(body)


@pytest.mark.parametrize("with_token", [False, True], ids=["anonymous", "admin"])
async def test_malformed_requests_are_coded_4xx_errors(
    api: GraphQLClient, caplog: pytest.LogCaptureFixture, with_token: bool
) -> None:
    caplog.set_level(logging.INFO)
    auth = {"authorization": f"Bearer {api.token('admin', 'ops')}"} if with_token else {}
    for case, (body, content_type, status) in REFUSED_BODIES.items():
        headers = {**auth, **({"content-type": content_type} if content_type else {})}
        reply = await api.http.post("/graphql", content=body, headers=headers)
        try:
            assert_coded_refusal(reply, status)
        except AssertionError as error:
            raise AssertionError(f"{case}: {error}") from None
    assert_no_traceback(caplog)


@pytest.mark.parametrize(
    "query",
    [INSTRUMENTS, 'mutation { releaseSignal(signalId: "s-1") }'],
    ids=["query", "mutation"],
)
async def test_operations_over_get_are_refused_with_405(api: GraphQLClient, query: str) -> None:
    token = api.token("admin", "ops")
    reply = await api.http.get(
        "/graphql",
        params={"query": query},
        headers={"authorization": f"Bearer {token}", "accept": "application/json"},
    )
    assert_coded_refusal(reply, 405)
    assert reply.headers["allow"] == "POST"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_other_methods_are_refused_with_405(api: GraphQLClient, method: str) -> None:
    reply = await api.http.request(
        method, "/graphql", json={"query": INSTRUMENTS}, headers={"accept": "application/json"}
    )
    assert_coded_refusal(reply, 405)


async def test_a_subscription_over_http_is_a_coded_refusal(api: GraphQLClient) -> None:
    token = api.token("admin", "ops")
    reply = await api.http.post(
        "/graphql",
        json={"query": "subscription { breakerAlerts { id } }"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert_coded_refusal(reply, 400)


SEVERAL = """
query Limits { platformLimits { maxOpenPositions } }
mutation Halt { setTradingMode(mode: HALTED, reason: "drill") }
"""


async def test_several_operations_without_a_name_run_none_of_them(api: GraphQLClient) -> None:
    token = api.token("admin", "ops")
    headers = {"authorization": f"Bearer {token}"}
    reply = await api.http.post("/graphql", json={"query": SEVERAL}, headers=headers)
    body = assert_coded_refusal(reply, 400)
    assert body["errors"][0]["extensions"]["field"] == "operationName", body
    # Nothing ran: the platform is still active.
    limits = await api.ok("{ globalExposure { tradingMode } }", role="admin")
    assert limits["globalExposure"]["tradingMode"] == "ACTIVE"
    # Naming one runs exactly that one.
    reply = await api.http.post(
        "/graphql", json={"query": SEVERAL, "operationName": "Limits"}, headers=headers
    )
    assert reply.status_code == 200
    assert reply.json() == {"data": {"platformLimits": {"maxOpenPositions": 50}}}


async def test_refusals_are_counted_by_code(api: GraphQLClient) -> None:
    def counted(text: str) -> float:
        for line in text.splitlines():
            if line.startswith('riskgate_graphql_errors_total{code="BAD_USER_INPUT"}'):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = counted((await api.http.get("/metrics")).text)
    for body in (b"123", b"[]", b"{nope"):
        reply = await api.http.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
        assert reply.status_code == 400
    assert counted((await api.http.get("/metrics")).text) == before + 3
