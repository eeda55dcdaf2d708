"""Platform limits and client ceilings (admin)."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from db import audit, catalog
from db import platform as platform_db
from domain.access import Caller, authorize
from domain.limits import PlatformLimits, validate_platform_limits
from domain.protections import PROTECTION_NAMES, protection_audit, validate_protection_ceilings
from resolvers import breakers
from resolvers.deps import Deps
from resolvers.unit_of_work import Written, write_then_publish


async def get_platform_limits(deps: Deps, caller: Caller) -> tuple[PlatformLimits, datetime]:
    authorize(caller, "platformLimits")
    return await deps.db.read(platform_db.get_limits)


def _flat(limits: PlatformLimits) -> dict[str, Any]:
    values = asdict(limits)
    ceilings = values.pop("client_ceilings")
    ceilings.pop("protections")
    values.update({f"ceiling_{k}": v for k, v in ceilings.items()})
    guards = protection_audit(limits.client_ceilings.protections)
    values.update({f"ceiling_{k}": v for k, v in guards.items()})
    return values


async def update_platform_limits(
    deps: Deps, caller: Caller, changes: dict[str, Any], ceiling_changes: dict[str, Any]
) -> tuple[PlatformLimits, datetime]:
    """Partial update of the caps and client ceilings, validated as a whole and audited."""
    authorize(caller, "updatePlatformLimits")
    now = deps.now()

    async def work(conn: AsyncConnection) -> Written[tuple[PlatformLimits, datetime]]:
        current, updated_at = await platform_db.get_limits(conn, lock=True)
        guard_changes = {k: v for k, v in ceiling_changes.items() if k in PROTECTION_NAMES}
        limit_changes = {k: v for k, v in ceiling_changes.items() if k not in PROTECTION_NAMES}
        guards = current.client_ceilings.protections
        if guard_changes:
            symbols = set(await catalog.load_catalog(conn))
            guards = validate_protection_ceilings(replace(guards, **guard_changes), symbols)
        ceilings = replace(current.client_ceilings, **limit_changes, protections=guards)
        updated = validate_platform_limits(replace(current, **changes, client_ceilings=ceilings))
        if updated == current:
            return Written((current, updated_at))
        await platform_db.save_limits(conn, updated, at=now)
        await audit.record_change(
            conn,
            actor_sub=caller.sub,
            actor_role=caller.role.value,
            action="platform_limits.update",
            client_id=None,
            before=_flat(current),
            after=_flat(updated),
            at=now,
        )
        alerts = await breakers.evaluate(conn, deps, now, platform=True)
        return Written((updated, now), alerts)

    return await write_then_publish(deps, work)
