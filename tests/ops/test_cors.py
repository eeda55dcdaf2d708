"""CORS: off by default; with RISKGATE_CORS_ORIGINS only the listed origins get answers."""

from __future__ import annotations

from tests.ops.conftest import OpenClient

DESK = "https://desk.example.com"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


async def test_no_cors_by_default(sqlite_client: OpenClient) -> None:
    async with sqlite_client() as http:
        reply = await http.options("/graphql", headers={"Origin": DESK, **PREFLIGHT})
        assert reply.status_code == 405
        assert "access-control-allow-origin" not in reply.headers
        posted = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": DESK}
        )
        assert "access-control-allow-origin" not in posted.headers


async def test_preflight_for_an_allowed_origin_only(sqlite_client: OpenClient) -> None:
    origins = f"{DESK}, https://other.example.com"
    async with sqlite_client(cors_origins=origins) as http:
        reply = await http.options("/graphql", headers={"Origin": DESK, **PREFLIGHT})
        assert reply.status_code == 200
        assert reply.headers["access-control-allow-origin"] == DESK
        assert "POST" in reply.headers["access-control-allow-methods"]
        allowed = reply.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed and "content-type" in allowed

        stranger = await http.options(
            "/graphql", headers={"Origin": "https://evil.example.com", **PREFLIGHT}
        )
        assert stranger.status_code >= 400
        assert "access-control-allow-origin" not in stranger.headers

        posted = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": DESK}
        )
        assert posted.status_code == 200
        assert posted.headers["access-control-allow-origin"] == DESK
        assert "x-request-id" in posted.headers["access-control-expose-headers"].lower()
        foreign = await http.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"Origin": "https://evil.example.com"},
        )
        assert "access-control-allow-origin" not in foreign.headers
