"""A GraphQL client over the real ASGI app, with tokens per role and assertion helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from domain.values import Role
from riskgate.app import create_app
from riskgate.auth import mint_token
from riskgate.settings import Settings
from tests.support.clock import Clock
from tests.support.settings import make_settings


@dataclass
class Response:
    status: int
    body: dict[str, Any]

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.body.get("errors") or []

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings

    def token(self, role: str | Role, sub: str = "approval-service", ttl: int = 600) -> str:
        return mint_token(self.settings, sub=sub, role=Role(role), ttl_seconds=ttl)

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        role: str | None = "service",
        sub: str | None = None,
        token: str | None = None,
    ) -> Response:
        headers = {}
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        elif role is not None:
            default_sub = {"client": "alice", "service": "approval-service", "admin": "ops"}[role]
            headers["authorization"] = f"Bearer {self.token(role, sub or default_sub)}"
        reply = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        return Response(reply.status_code, reply.json())

    async def ok(self, query: str, variables: dict[str, Any] | None = None, **auth: Any) -> Any:
        """Run and require success; returns `data`."""
        response = await self.post(query, variables, **auth)
        assert_granted(response)
        return response.data

    async def fails(
        self, query: str, variables: dict[str, Any] | None = None, *, code: str, **auth: Any
    ) -> dict[str, Any]:
        """Run and require exactly one kind of error; returns the first error."""
        response = await self.post(query, variables, **auth)
        assert response.errors, f"expected {code}, got data {response.data}"
        assert set(response.codes) == {code}, response.errors
        return response.errors[0]


def assert_granted(response: Response) -> None:
    assert response.status == 200, response.body
    assert not response.errors, response.errors


def assert_denied(response: Response, code: str = "FORBIDDEN") -> None:
    assert response.errors, f"expected {code}, got {response.data}"
    assert code in response.codes, response.errors


@asynccontextmanager
async def instance(url: str, clock: Clock | None = None, **settings: Any) -> AsyncIterator[Any]:
    """One app process' worth on `url`: its own settings, engine and connection pool."""
    built = make_settings(url, **settings)
    app = create_app(built, now=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://riskgate.test") as http:
            client = GraphQLClient(http, built)
            client.app = app  # type: ignore[attr-defined]
            yield client
