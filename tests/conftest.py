"""Fixtures: every database test runs on SQLite and on PostgreSQL through the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from riskgate.app import create_app
from riskgate.settings import Settings
from tests.support.client import GraphQLClient
from tests.support.clock import Clock
from tests.support.databases import (
    SqliteTemplate,
    create_postgres_database,
    drop_postgres_database,
    reset_postgres,
    unavailable,
)
from tests.support.settings import make_settings


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    template = SqliteTemplate(Path(tmp_path_factory.mktemp("sqlite")))
    await template.prepare()
    return template


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    from db.migrations import upgrade_to_head

    try:
        url = await create_postgres_database()
    except Exception as error:
        unavailable("PostgreSQL", error)
    await upgrade_to_head(url)
    yield url
    await drop_postgres_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(
    backend: str, request: pytest.FixtureRequest, sqlite_template: SqliteTemplate
) -> str:
    """A migrated database on each backend (PostgreSQL is emptied by `clean_database`)."""
    if backend == "sqlite":
        return sqlite_template.fresh()
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def clean_database(backend: str, database_url: str) -> str:
    """The database in its just-migrated state."""
    if backend == "postgres":
        await reset_postgres(database_url)
    return database_url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def app(settings: Settings, clock: Clock, clean_database: str) -> AsyncIterator[object]:
    application = create_app(settings, now=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def api(app: object, settings: Settings) -> AsyncIterator[GraphQLClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://riskgate.test") as http:
        yield GraphQLClient(http, settings)
