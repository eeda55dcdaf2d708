"""Token claims and RS256 as installed: a real RSA key pair, through the real app."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from importlib.metadata import requires
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from riskgate.app import create_app
from riskgate.auth import TokenVerifier
from tests.support.client import GraphQLClient
from tests.support.settings import TEST_SECRET, make_settings

PROFILE = "{ riskProfile { clientId } }"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {"sub": "alice", "role": "client", "iat": now, "exp": now + 600}
    values.update(overrides)
    return values


def hs256(payload: dict[str, Any]) -> str:
    return jwt.encode(payload, TEST_SECRET, algorithm="HS256")


async def answer(api: GraphQLClient, token: str) -> dict[str, Any]:
    reply = await api.http.post(
        "/graphql", json={"query": PROFILE}, headers={"authorization": f"Bearer {token}"}
    )
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def unauthenticated(body: dict[str, Any]) -> bool:
    codes = {e["extensions"]["code"] for e in body.get("errors") or []}
    return codes == {"UNAUTHENTICATED"} and body.get("data") is None


NOW = int(time.time())
STRING_TIMES: dict[str, dict[str, Any]] = {
    "exp as digits": claims(exp=str(NOW + 600)),
    "iat as digits": claims(iat=str(NOW)),
    "nbf as digits": claims(nbf=str(NOW - 10)),
    "exp as true": claims(exp=True),
    "iat as a list": claims(iat=[NOW]),
    "nbf as null": claims(nbf=None),
}


async def test_times_that_are_not_numbers_are_refused(api: GraphQLClient) -> None:
    assert (await answer(api, hs256(claims()))) == {"data": {"riskProfile": {"clientId": "alice"}}}
    assert (await answer(api, hs256(claims(exp=NOW + 600.5, nbf=NOW - 1))))["data"]
    for case, payload in STRING_TIMES.items():
        body = await answer(api, hs256(payload))
        assert unauthenticated(body), (case, body)


def test_the_verifier_refuses_string_times() -> None:
    verifier = TokenVerifier(make_settings("sqlite+aiosqlite:///unused.db"))
    verifier.verify(hs256(claims()))
    for case, payload in STRING_TIMES.items():
        with pytest.raises(Exception) as refused:
            verifier.verify(hs256(payload))
        assert getattr(refused.value, "code", None) == "UNAUTHENTICATED", case


# -- RS256 ----------------------------------------------------------------------------------


def test_the_crypto_backend_is_a_declared_dependency() -> None:
    declared = [r.split(";")[0].strip().lower() for r in requires("riskgate") or []]
    assert any(r.startswith("cryptography") for r in declared), declared


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _hmac_signed(payload: dict[str, Any], key: bytes) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    signing_input = f"{header}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _key_pair() -> tuple[rsa.RSAPrivateKey, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public_pem.decode()


@pytest.fixture(scope="module")
def key_pairs() -> tuple[tuple[rsa.RSAPrivateKey, str], tuple[rsa.RSAPrivateKey, str]]:
    return _key_pair(), _key_pair()


@pytest.fixture
async def rs256_api(
    clean_database: str, key_pairs: Any
) -> AsyncIterator[tuple[GraphQLClient, Any, Any]]:
    (mine, public_pem), (other, _) = key_pairs
    settings = make_settings(
        clean_database, env="production", jwt_algorithm="RS256", jwt_public_key=public_pem
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://riskgate.test") as http:
            yield GraphQLClient(http, settings), mine, other


async def test_rs256_accepts_a_correctly_signed_token_and_refuses_others(
    rs256_api: tuple[GraphQLClient, Any, Any],
) -> None:
    api, mine, other = rs256_api
    good = jwt.encode(claims(), mine, algorithm="RS256")
    assert (await answer(api, good)) == {"data": {"riskProfile": {"clientId": "alice"}}}

    assert unauthenticated(await answer(api, jwt.encode(claims(), other, algorithm="RS256")))
    header, _, signature = good.split(".")
    forged = jwt.encode(claims(sub="bob"), other, algorithm="RS256").split(".")[1]
    assert unauthenticated(await answer(api, f"{header}.{forged}.{signature}"))
    # The algorithm is configured, never taken from the token: HS256 signed with the
    # public key as a secret is refused.
    public_pem = api.settings.jwt_public_key
    assert public_pem
    confused = _hmac_signed(claims(), public_pem.encode())
    assert unauthenticated(await answer(api, confused))
    assert unauthenticated(
        await answer(api, jwt.encode(claims(exp=str(NOW + 600)), mine, algorithm="RS256"))
    )
