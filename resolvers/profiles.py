"""Risk profiles: get-or-create on first sight, validated and audited updates."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from db import audit, catalog, clients
from db import platform as platform_db
from db.lean import Conn
from domain.access import Caller, client_scope
from domain.errors import RiskUnavailable
from domain.profile import RiskProfile, apply_limit_changes
from domain.protections import PROTECTION_NAMES, apply_protection_changes, protection_audit
from resolvers import breakers
from resolvers.deps import Deps
from resolvers.unit_of_work import Written, write_then_publish


async def ensure_profile(conn: Conn, client_id: str, at: datetime) -> RiskProfile:
    """The client's profile, created with defaults if this is the first time it is seen."""
    profile = await clients.get_profile(conn, client_id)
    if profile is None:
        await clients.ensure_client(conn, client_id, at=at)
        profile = await clients.get_profile(conn, client_id)
    if profile is None:
        raise RiskUnavailable("the profile could not be created")
    return profile


async def get_risk_profile(deps: Deps, caller: Caller, client_id: str | None) -> RiskProfile:
    target = client_scope(caller, client_id)
    profile = await deps.db.read(lambda conn: clients.get_profile(conn, target))
    if profile is not None:
        return profile
    now = deps.now()

    async def create(conn: AsyncConnection) -> RiskProfile:
        return await ensure_profile(conn, target, now)

    return await deps.db.write(create)


async def update_risk_profile(
    deps: Deps, caller: Caller, client_id: str | None, changes: dict[str, Any]
) -> RiskProfile:
    """Apply a partial update; a client stays within the platform's client ceilings."""
    target = client_scope(caller, client_id)
    now = deps.now()

    async def work(conn: AsyncConnection) -> Written[RiskProfile]:
        limits, _ = await platform_db.get_limits(conn, lock=True)
        current = await ensure_profile(conn, target, now)
        ceilings = limits.client_ceilings if caller.is_client else None
        guard_changes = {k: v for k, v in changes.items() if k in PROTECTION_NAMES}
        limit_changes = {k: v for k, v in changes.items() if k not in PROTECTION_NAMES}
        updated = apply_limit_changes(current.limits, limit_changes, ceilings=ceilings)
        symbols: set[str] = set()
        if {"allowed_instruments", "blocked_instruments"} & guard_changes.keys():
            symbols = set(await catalog.load_catalog(conn))
        guarded = apply_protection_changes(
            current.protections,
            guard_changes,
            catalog=symbols,
            ceilings=ceilings.protections if ceilings is not None else None,
        )
        if updated == current.limits and guarded == current.protections:
            return Written(current)
        if updated != current.limits:
            await clients.save_limits(conn, target, updated, at=now)
        if guarded != current.protections:
            await clients.save_protections(conn, target, guarded, at=now)
        await audit.record_change(
            conn,
            actor_sub=caller.sub,
            actor_role=caller.role.value,
            action="risk_profile.update",
            client_id=target,
            before={**asdict(current.limits), **protection_audit(current.protections)},
            after={**asdict(updated), **protection_audit(guarded)},
            at=now,
        )
        alerts = await breakers.evaluate(conn, deps, now, clients=[target])
        return Written(await ensure_profile(conn, target, now), alerts)

    return await write_then_publish(deps, work)
