"""The audit trail: who changed what, when, from which values to which."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.tables import audit_log


@dataclass(frozen=True, slots=True)
class AuditEntry:
    occurred_at: datetime
    actor_sub: str
    actor_role: str
    action: str
    client_id: str | None
    old_values: dict[str, Any] | None
    new_values: dict[str, Any] | None
    reason: str | None = None


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: (None if v is None else str(v)) for k, v in values.items()}


async def record(conn: AsyncConnection, entry: AuditEntry) -> None:
    await conn.execute(
        insert(audit_log).values(
            occurred_at=entry.occurred_at,
            actor_sub=entry.actor_sub,
            actor_role=entry.actor_role,
            action=entry.action,
            client_id=entry.client_id,
            old_values=_jsonable(entry.old_values),
            new_values=_jsonable(entry.new_values),
            reason=entry.reason,
        )
    )


async def record_change(
    conn: AsyncConnection,
    *,
    actor_sub: str,
    actor_role: str,
    action: str,
    client_id: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    at: datetime,
    reason: str | None = None,
) -> None:
    """Audit only what changed (everything, when there was nothing before)."""
    if before is None:
        old, new = None, after
    else:
        changed = [k for k in after if before.get(k) != after[k]]
        old = {k: before.get(k) for k in changed}
        new = {k: after[k] for k in changed}
    await record(
        conn,
        AuditEntry(
            occurred_at=at,
            actor_sub=actor_sub,
            actor_role=actor_role,
            action=action,
            client_id=client_id,
            old_values=old,
            new_values=new,
            reason=reason,
        ),
    )
