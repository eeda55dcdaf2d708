"""Fresh databases for each phase: a new SQLite file, or a new PostgreSQL database."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]

PG_ADMIN_DSN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
_NAME = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True, slots=True)
class BenchDatabase:
    backend: str  # "sqlite" | "postgres"
    url: str  # the SQLAlchemy URL the server is given
    sqlite_path: Path | None = None
    pg_dsn: str | None = None  # the asyncpg DSN of this database


def _pg_dsn(name: str) -> str:
    base, _, _ = PG_ADMIN_DSN.rpartition("/")
    return f"{base}/{name}"


@dataclass
class DatabaseFactory:
    """Creates databases for one run and drops the PostgreSQL ones it made."""

    run_dir: Path
    run_tag: str
    created_pg: list[str] = field(default_factory=list)
    created_sqlite: list[Path] = field(default_factory=list)

    def sqlite(self, phase: str) -> BenchDatabase:
        path = (self.run_dir / f"{phase}.db").resolve()
        _remove_sqlite(path)
        self.created_sqlite.append(path)
        return BenchDatabase("sqlite", f"sqlite+aiosqlite:///{path}", sqlite_path=path)

    async def postgres(self, phase: str) -> BenchDatabase:
        name = f"riskgate_bench_{self.run_tag}_{phase}".lower()
        if not _NAME.match(name):
            raise ValueError(f"unexpected database name {name!r}")
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.created_pg.append(name)
        dsn = _pg_dsn(name)
        url = "postgresql+asyncpg://" + dsn.removeprefix("postgresql://")
        return BenchDatabase("postgres", url, pg_dsn=dsn)

    async def create(self, backend: str, phase: str) -> BenchDatabase:
        if backend == "sqlite":
            return self.sqlite(phase)
        return await self.postgres(phase)

    async def drop_all(self) -> None:
        """Drop the PostgreSQL databases and remove the SQLite files this run made."""
        while self.created_sqlite:
            _remove_sqlite(self.created_sqlite.pop())
        if not self.created_pg:
            return
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            while self.created_pg:
                name = self.created_pg.pop()
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def postgres_reachable() -> bool:
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True
