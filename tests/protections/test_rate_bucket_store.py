"""The signal-rate bucket is saved by compare-and-set: a writer that read an older version
loses and its transaction is retried, whatever locks the check path holds."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from db.engine import Database
from db.failures import RetryTransaction
from db.protections import CheckGuards, load_for_check, save_bucket
from domain.protections import RateBucket

AT = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


async def test_a_stale_bucket_version_is_refused(clean_database: str) -> None:
    db = Database(clean_database)

    async def work(conn: AsyncConnection) -> CheckGuards:
        seen = await load_for_check(conn, "racer", AT.date(), AT)
        assert (seen.rate_seq, seen.state.bucket) == (0, None)
        await save_bucket(conn, "racer", RateBucket(Decimal(4), AT), seen_seq=0)
        # A second writer that also saw version 0 must not overwrite the first.
        with pytest.raises(RetryTransaction):
            await save_bucket(conn, "racer", RateBucket(Decimal(4), AT), seen_seq=0)
        await save_bucket(conn, "racer", RateBucket(Decimal(3), AT), seen_seq=1)
        return await load_for_check(conn, "racer", AT.date(), AT)

    try:
        again = await db.write(work)
    finally:
        await db.dispose()
    assert again.rate_seq == 2
    assert again.state.bucket == RateBucket(Decimal(3), AT)
