"""The kill switch: trading modes for the platform (admin) and per client (admin, service)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncConnection

from db import audit, clients
from db import platform as platform_db
from domain.access import Caller, authorize
from domain.profile import validate_client_id
from domain.values import TradingMode, validate_reason
from resolvers import breakers
from resolvers.deps import Deps
from resolvers.profiles import ensure_profile
from resolvers.unit_of_work import Written, write_then_publish


async def set_trading_mode(
    deps: Deps, caller: Caller, client_id: str | None, mode: TradingMode, reason: str
) -> TradingMode:
    """Takes effect on the very next check (checks read the mode inside their transaction)."""
    authorize(caller, "setTradingMode.platform" if client_id is None else "setTradingMode.client")
    if client_id is not None:
        validate_client_id(client_id)
    reason = validate_reason(reason)
    now = deps.now()

    async def work(conn: AsyncConnection) -> Written[TradingMode]:
        limits, _ = await platform_db.get_limits(conn, lock=True)
        if client_id is None:
            old = limits.trading_mode
            if old is not mode:
                await platform_db.save_limits(conn, replace(limits, trading_mode=mode), at=now)
        else:
            old = (await ensure_profile(conn, client_id, now)).trading_mode
            if old is not mode:
                await clients.save_trading_mode(conn, client_id, mode, at=now)
        if old is mode:
            return Written(mode)
        await audit.record_change(
            conn,
            actor_sub=caller.sub,
            actor_role=caller.role.value,
            action="trading_mode.set",
            client_id=client_id,
            before={"trading_mode": old.value},
            after={"trading_mode": mode.value},
            at=now,
            reason=reason,
        )
        alert = await breakers.mode_change_alert(
            conn, deps, client_id=client_id, old=old, new=mode, reason=reason, at=now
        )
        return Written(mode, [alert])

    return await write_then_publish(deps, work)
