"""Dialect-aware INSERT … ON CONFLICT, the same statement shape on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def dialect_insert(conn: AsyncConnection, table: Table) -> Any:
    """The INSERT of the connection's dialect (both have ON CONFLICT clauses)."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


async def insert_ignore(
    conn: AsyncConnection, table: Table, values: Mapping[str, Any] | Sequence[Mapping[str, Any]]
) -> None:
    """Insert unless the key exists (get-or-create without a race)."""
    await conn.execute(dialect_insert(conn, table).on_conflict_do_nothing(), values)


async def upsert(
    conn: AsyncConnection,
    table: Table,
    values: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[str],
) -> None:
    """Insert, or overwrite the non-key columns of the existing row."""
    stmt = dialect_insert(conn, table)
    sample = values if isinstance(values, Mapping) else values[0]
    updates = {c: stmt.excluded[c] for c in sample if c not in keys}
    await conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=updates), values)
