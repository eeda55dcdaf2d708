"""The instrument catalog: everyone reads it, admins upsert entries."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy.ext.asyncio import AsyncConnection

from db import audit, catalog
from db import platform as platform_db
from domain.access import Caller, authorize
from domain.instruments import Instrument, validate_instrument
from resolvers.deps import Deps


async def list_instruments(deps: Deps, caller: Caller) -> list[Instrument]:
    authorize(caller, "instruments")
    return list((await deps.db.read(catalog.load_catalog)).values())


async def upsert_instrument(deps: Deps, caller: Caller, instrument: Instrument) -> Instrument:
    """Create or change a catalog entry (its mark is left as it is)."""
    authorize(caller, "upsertInstrument")
    instrument = validate_instrument(instrument)
    now = deps.now()

    async def work(conn: AsyncConnection) -> Instrument:
        await platform_db.lock_platform(conn)
        before = await catalog.get_instrument(conn, instrument.symbol)
        await catalog.save_instrument(conn, instrument, at=now)
        after = await catalog.get_instrument(conn, instrument.symbol)
        assert after is not None
        await audit.record_change(
            conn,
            actor_sub=caller.sub,
            actor_role=caller.role.value,
            action="instrument.upsert",
            client_id=None,
            before=asdict(before) if before else None,
            after=asdict(after),
            at=now,
        )
        return after

    return await deps.db.write(work)
