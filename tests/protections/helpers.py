"""Reading the audit trail straight from the database the app uses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import pool, select
from sqlalchemy.ext.asyncio import create_async_engine

from db.tables import audit_log
from riskgate.settings import Settings


async def audit_entries(settings: Settings, *, client_id: str, action: str) -> list[Any]:
    """The client's audit rows of one action, newest first (columns by name)."""
    engine = create_async_engine(settings.database_url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            stmt = (
                select(audit_log)
                .where(audit_log.c.client_id == client_id, audit_log.c.action == action)
                .order_by(audit_log.c.id.desc())
            )
            return list(await conn.execute(stmt))
    finally:
        await engine.dispose()
