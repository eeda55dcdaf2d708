"""Fixtures of the hardening tests: the app as configured for production (introspection off)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from riskgate.app import create_app
from tests.support.client import GraphQLClient
from tests.support.clock import Clock
from tests.support.settings import make_settings


@pytest.fixture
async def production_app(clean_database: str, clock: Clock) -> AsyncIterator[Any]:
    application = create_app(make_settings(clean_database, env="production"), now=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def production_api(production_app: Any) -> AsyncIterator[GraphQLClient]:
    transport = httpx.ASGITransport(app=production_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://riskgate.test") as http:
        yield GraphQLClient(http, production_app.state.settings)
