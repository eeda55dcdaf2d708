"""The signal-rate bucket is saved by compare-and-set: a writer that read an older version
loses and its transaction is retried, whatever locks the check path holds."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from db.checkstate import CheckState, load_check_state
from db.engine import Database
from db.failures import RetryTransaction
from db.protections import save_bucket
from domain.protections import RateBucket

AT = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


async def test_a_stale_bucket_version_is_refused(clean_database: str) -> None:
    db = Database(clean_database)

    async def state(conn: AsyncConnection) -> CheckState:
        return await load_check_state(
            conn,
            signal_id="s",
            client_id="racer",
            symbol="EURUSD",
            day=AT.date(),
            week=AT.date(),
            now=AT,
        )

    async def work(conn: AsyncConnection) -> CheckState:
        seen = (await state(conn)).guard
        assert (seen.rate_seq, seen.bucket) == (0, None)
        await save_bucket(conn, "racer", RateBucket(Decimal(4), AT), seen_seq=0)
        # A second writer that also saw version 0 must not overwrite the first.
        with pytest.raises(RetryTransaction):
            await save_bucket(conn, "racer", RateBucket(Decimal(4), AT), seen_seq=0)
        await save_bucket(conn, "racer", RateBucket(Decimal(3), AT), seen_seq=1)
        return await state(conn)

    try:
        again = await db.write(work)
    finally:
        await db.dispose()
    assert again.guard.rate_seq == 2
    assert again.guard.bucket == RateBucket(Decimal(3), AT)
