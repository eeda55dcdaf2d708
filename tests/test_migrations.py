"""Migrations build exactly the tables the code declares, on SQLite and PostgreSQL, both ways."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, Table, func, inspect, pool, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from db.migrations import alembic_config, upgrade_to_head
from db.tables import instruments, metadata, platform_limits
from domain.instruments import DEFAULT_CATALOG
from tests.support.databases import create_postgres_database, drop_postgres_database, unavailable


async def _run(url: str, work: Any) -> Any:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(work)
    finally:
        await engine.dispose()


def _differences(target: MetaData) -> Any:
    def work(sync_conn: Connection) -> list[Any]:
        context = MigrationContext.configure(
            sync_conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, target))

    return work


def _state(sync_conn: Connection) -> dict[str, Any]:
    tables = set(inspect(sync_conn).get_table_names())
    state: dict[str, Any] = {
        "tables": tables,
        "revision": MigrationContext.configure(sync_conn).get_current_revision(),
    }
    if "instruments" in tables:
        for name, table in (("instruments", instruments), ("platform_rows", platform_limits)):
            state[name] = sync_conn.execute(select(func.count()).select_from(table)).scalar_one()
    return state


async def _downgrade_to_base(url: str) -> None:
    config = alembic_config(url)

    def work(sync_conn: Connection) -> None:
        config.attributes["connection"] = sync_conn
        command.downgrade(config, "base")

    await _run(url, work)


def _with_extra_column() -> MetaData:
    """The declared metadata plus one column: the comparison must notice it."""
    changed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    Table("accounts", changed, Column("not_migrated", Integer), extend_existing=True)
    return changed


async def _check_round_trip(url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    declared = set(metadata.tables)

    await upgrade_to_head(url)
    state = await _run(url, _state)
    assert state["revision"] == head
    assert declared <= state["tables"]
    assert state["instruments"] == len(DEFAULT_CATALOG)
    assert state["platform_rows"] == 1
    assert await _run(url, _differences(metadata)) == []
    # The comparison is not blind: an undeclared column is a difference.
    extra = await _run(url, _differences(_with_extra_column()))
    assert [d[0] for d in extra] == ["add_column"], extra
    assert extra[0][3].name == "not_migrated"

    await _downgrade_to_base(url)
    state = await _run(url, _state)
    assert state["revision"] is None
    assert not state["tables"] & declared, state["tables"]

    await upgrade_to_head(url)
    state = await _run(url, _state)
    assert state["revision"] == head
    assert state["instruments"] == len(DEFAULT_CATALOG)
    assert state["platform_rows"] == 1
    assert await _run(url, _differences(metadata)) == []
    # Upgrading an up-to-date database is a no-op.
    await upgrade_to_head(url)
    assert (await _run(url, _state))["instruments"] == len(DEFAULT_CATALOG)


async def test_migrations_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    assert not path.exists()
    await _check_round_trip(f"sqlite+aiosqlite:///{path}")


@pytest.mark.postgres
async def test_migrations_on_a_fresh_postgres_database() -> None:
    try:
        url = await create_postgres_database("riskgate_migrations")
    except Exception as error:
        unavailable("PostgreSQL", error)
    try:
        await _check_round_trip(url)
    finally:
        await drop_postgres_database(url)


def test_revisions_live_in_the_package() -> None:
    """Revisions ship inside the `db` package; one left in a top-level alembic/ folder would
    be missing from the wheel."""
    root = Path(__file__).resolve().parents[1]
    assert not list(root.glob("alembic/**/*.py")), "move revisions to db/migrations/versions/"
    assert sorted(p.name for p in (root / "db" / "migrations" / "versions").glob("0*.py"))


async def _upgrade_to(url: str, revision: str) -> None:
    config = alembic_config(url)

    def work(sync_conn: Connection) -> None:
        config.attributes["connection"] = sync_conn
        command.upgrade(config, revision)

    await _run(url, work)


async def _reserved_sums_backfilled(url: str) -> None:
    """0005 starts the platform row's reserved sums from the per-instrument totals already
    stored, exactly (SQLite would add its decimal text as floats)."""
    await _upgrade_to(url, "0004")

    def seed(sync_conn: Connection) -> None:
        totals = Table("reservation_totals", MetaData(), autoload_with=sync_conn)
        sync_conn.execute(
            totals.insert(),
            [
                {"symbol": "EURUSD", "count": 2, "volume": "0.20", "notional": "21700.10"},
                {"symbol": "XAUUSD", "count": 1, "volume": "0.05", "notional": "13250.20"},
            ],
        )

    await _run(url, seed)
    await upgrade_to_head(url)

    def sums(sync_conn: Connection) -> Any:
        columns = platform_limits.c.reserved_count, platform_limits.c.reserved_notional
        return sync_conn.execute(select(*columns)).one()

    count, notional = await _run(url, sums)
    assert (count, notional) == (3, Decimal("34950.30"))


async def test_reserved_sums_are_backfilled_on_sqlite(tmp_path: Path) -> None:
    await _reserved_sums_backfilled(f"sqlite+aiosqlite:///{tmp_path / 'backfill.db'}")


@pytest.mark.postgres
async def test_reserved_sums_are_backfilled_on_postgres() -> None:
    try:
        url = await create_postgres_database("riskgate_backfill")
    except Exception as error:
        unavailable("PostgreSQL", error)
    try:
        await _reserved_sums_backfilled(url)
    finally:
        await drop_postgres_database(url)
