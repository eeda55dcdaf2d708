"""Apply and inspect Alembic migrations from inside the service.

The revisions ship inside this package (`env.py`, `versions/`), so an installed wheel can
migrate without the source tree; `alembic.ini` at the repository root points here too, for
developers who run the `alembic` command."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import column, pool, select, table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

SCRIPT_LOCATION = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    """A configuration built in code: no ini file is needed, and Alembic leaves logging alone."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


@cache
def head_revision() -> str | None:
    """The newest revision the code knows (read once: the files do not change at run time)."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    return ScriptDirectory.from_config(config).get_current_head()


def _current(sync_conn: Connection) -> str | None:
    return MigrationContext.configure(sync_conn).get_current_revision()


async def upgrade_to_head(url: str) -> tuple[str | None, str | None]:
    """Apply pending migrations; returns the revision before and after."""
    config = alembic_config(url)
    revisions: list[str | None] = []

    def run(sync_conn: Connection) -> None:
        revisions.append(_current(sync_conn))
        config.attributes["connection"] = sync_conn
        command.upgrade(config, "head")
        revisions.append(_current(sync_conn))

    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(run)
    finally:
        await engine.dispose()
    return revisions[0], revisions[1]


_VERSION = table("alembic_version", column("version_num"))


async def is_current(conn: AsyncConnection) -> bool:
    """True when the database is at the newest revision. Read with one plain query (no
    migration context, which logs on every call): readiness probes call this often."""
    try:
        versions = (await conn.execute(select(_VERSION.c.version_num))).scalars().all()
    except DBAPIError:  # no version table yet: nothing was migrated
        return False
    return versions == [head_revision()]
