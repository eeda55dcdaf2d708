"""Real databases for the suite: a migrated SQLite template file, a PostgreSQL database, and
row counts read straight from them.

With CI=true an unreachable PostgreSQL or Redis fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from db.migrations import upgrade_to_head
from db.seed import catalog_rows, platform_row
from db.tables import instruments, metadata, platform_limits, reservations, risk_decisions
from riskgate.settings import Settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_URL = os.environ.get(
    "RISKGATE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("RISKGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unavailable(what: str, error: BaseException) -> None:
    message = f"{what} is not reachable: {type(error).__name__}: {error}"
    if IN_CI:
        pytest.fail(message + " (CI=true: these tests must run)", pytrace=False)
    pytest.skip(message)


async def postgres_admin_url() -> str:
    engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with asyncio.timeout(5), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    return POSTGRES_URL


async def create_postgres_database(prefix: str = "riskgate_test") -> str:
    """A fresh, empty database on the test server; returns its URL."""
    admin = await postgres_admin_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


class SqliteTemplate:
    """Migrate once, copy the file for each test (fast and fully isolated)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.template = directory / "template.db"

    async def prepare(self) -> None:
        await upgrade_to_head(f"sqlite+aiosqlite:///{self.template}")

    def fresh(self) -> str:
        target = self.directory / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(self.template, target)
        return f"sqlite+aiosqlite:///{target}"


async def reset_postgres(url: str) -> None:
    """Empty every table and put the shipped rows back (the state right after migrating)."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            await conn.execute(instruments.insert(), catalog_rows())
            await conn.execute(platform_limits.insert(), [platform_row()])
    finally:
        await engine.dispose()


async def count_rows(settings: Settings, table: Any, *where: Any) -> int:
    """Rows in a table, read straight from the database the app uses."""
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            stmt = select(func.count()).select_from(table).where(*where)
            return int((await conn.execute(stmt)).scalar_one())
    finally:
        await engine.dispose()


async def stored_rows(url: str) -> tuple[int, int]:
    """(reservations, risk decisions) as stored, read straight from the database."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            held = (await conn.execute(select(func.count()).select_from(reservations))).scalar()
            decided = (
                await conn.execute(select(func.count()).select_from(risk_decisions))
            ).scalar()
    finally:
        await engine.dispose()
    return int(held or 0), int(decided or 0)
