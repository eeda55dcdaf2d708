"""Fail closed: a check that cannot be evaluated answers RISK_UNAVAILABLE and holds nothing.

Faults are real: another connection holding the lock every writer takes, server backends
terminated mid-check, a failure injected by a trigger after the reservation row was written,
a database that is not there yet. After each fault the stored rows are counted straight from
the database, and the next check once the database is back must be answered correctly.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from db.migrations import upgrade_to_head
from tests.support.client import GraphQLClient, Response, instance
from tests.support.databases import (
    POSTGRES_URL,
    SqliteTemplate,
    drop_postgres_database,
    reset_postgres,
    stored_rows,
)
from tests.support.events import prepared_client, set_profile
from tests.support.reports import exposure
from tests.support.signals import check, decisions, post_check, signal, violated

LOCK_PLATFORM_ROW = "SELECT id FROM platform_limits WHERE id = 1 FOR UPDATE"
# Only this test's database: other suites on the same server must not lose connections.
_OURS = "application_name = 'riskgate' AND datname = current_database()"
APP_BACKENDS = f"SELECT pid FROM pg_stat_activity WHERE {_OURS}"
TERMINATE_APP = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {_OURS}"
LEAKS = ("injected", "select", "insert", "sqlite", "asyncpg", "traceback", "platform_limits")


def unavailable(response: Response) -> None:
    """Answered with RISK_UNAVAILABLE only: no data, never a pass, no internals."""
    assert response.codes == ["RISK_UNAVAILABLE"], response.body
    assert response.data is None, response.body
    message = response.errors[0]["message"].lower()
    assert not any(word in message for word in LEAKS), message


@asynccontextmanager
async def writer_lock_held(backend: str, url: str) -> AsyncIterator[None]:
    """Hold, from another connection, the lock a reserving check must take first."""
    if backend == "sqlite":
        other = sqlite3.connect(str(make_url(url).database), isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            yield
            other.execute("ROLLBACK")
        finally:
            other.close()
        return
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("BEGIN"))
            await conn.execute(text(LOCK_PLATFORM_ROW))
            yield
            await conn.execute(text("ROLLBACK"))
    finally:
        await engine.dispose()


@asynccontextmanager
async def admin_connection(url: str) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            yield conn
    finally:
        await engine.dispose()


async def wait_for_app_backend(conn: AsyncConnection, wait_event_type: str) -> None:
    """Until one of the app's server backends waits on `wait_event_type` (Lock, Timeout)."""
    query = text(f"SELECT count(*) FROM pg_stat_activity WHERE {_OURS} AND wait_event_type = :kind")
    for _ in range(500):
        if (await conn.execute(query, {"kind": wait_event_type})).scalar():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no riskgate backend waited on {wait_event_type}")


async def assert_recovered(api: GraphQLClient, client: str, held: int) -> None:
    """The next checks are answered correctly: one slot left of maxOpenPositions = held + 1."""
    after = await check(api, signal(f"{client}-next", client))
    assert after["passes"], after["violations"]
    assert after["exposure"]["reservedPositionsCount"] == held + 1
    full = await check(api, signal(f"{client}-full", client))
    assert violated(full) == {"MAX_OPEN_POSITIONS"}


# --- a held lock and the check timeout --------------------------------------------------------


async def test_check_blocked_past_its_timeout_fails_closed(
    backend: str, clean_database: str
) -> None:
    url = clean_database
    async with instance(url, statement_timeout_ms=300) as api:
        await prepared_client(api, "alice", maxOpenPositions=1)
        for attempt in range(2):
            async with writer_lock_held(backend, url):
                pending = asyncio.create_task(
                    post_check(api, signal(f"blocked-{attempt}", "alice"))
                )
                await asyncio.sleep(0.6)  # twice the 300 ms timeout
            unavailable(await pending)
        assert await stored_rows(url) == (0, 0)
        assert (await exposure(api, "alice"))["reservedPositionsCount"] == 0
        assert await decisions(api, "alice") == []
        await assert_recovered(api, "alice", held=0)
        assert await stored_rows(url) == (1, 2)


async def test_check_timeout_answers_promptly(
    backend: str, clean_database: str, request: pytest.FixtureRequest
) -> None:
    url = clean_database
    async with instance(url, statement_timeout_ms=300) as api:
        await prepared_client(api, "alice")
        async with writer_lock_held(backend, url):
            pending = asyncio.create_task(post_check(api, signal("slow", "alice")))
            done, _ = await asyncio.wait({pending}, timeout=1.5)
        response = await pending
        unavailable(response)
        assert pending in done, "no answer within 1.5 s although the check timeout is 300 ms"


# --- failures after the reservation row was written -------------------------------------------

SQLITE_TRIGGER = """
CREATE TRIGGER inject_fault BEFORE INSERT ON risk_decisions
BEGIN SELECT RAISE(ABORT, 'injected fault'); END
"""
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION inject_fault() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'injected fault' USING ERRCODE = '58030'; END $$
"""
PG_SLEEP_FUNCTION = """
CREATE OR REPLACE FUNCTION inject_fault() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(30); RETURN NEW; END $$
"""
PG_TRIGGER = """
CREATE TRIGGER inject_fault BEFORE INSERT ON risk_decisions
FOR EACH ROW EXECUTE FUNCTION inject_fault()
"""


@asynccontextmanager
async def decision_insert_fails(backend: str, url: str) -> AsyncIterator[None]:
    """Every insert into risk_decisions fails, after the check has written its reservation."""
    async with admin_connection(url) as conn:
        if backend == "sqlite":
            await conn.execute(text(SQLITE_TRIGGER))
        else:
            await conn.execute(text(PG_FUNCTION))
            await conn.execute(text(PG_TRIGGER))
        try:
            yield
        finally:
            if backend == "sqlite":
                await conn.execute(text("DROP TRIGGER inject_fault"))
            else:
                await conn.execute(text("DROP TRIGGER inject_fault ON risk_decisions"))
                await conn.execute(text("DROP FUNCTION inject_fault()"))


async def test_failure_after_the_reservation_was_written_rolls_it_back(
    backend: str, clean_database: str
) -> None:
    url = clean_database
    async with instance(url) as api:
        await prepared_client(api, "alice", maxOpenPositions=2)
        held = await check(api, signal("before", "alice"))
        assert held["passes"]
        async with decision_insert_fails(backend, url):
            for n in range(3):
                unavailable(await post_check(api, signal(f"fault-{n}", "alice")))
            # A dry run writes nothing, so it is still answered.
            dry = await check(api, signal("dry", "alice"), dry_run=True)
            assert dry["passes"]
            assert dry["exposure"]["reservedPositionsCount"] == 1
        assert await stored_rows(url) == (1, 1)
        assert (await exposure(api, "alice"))["reservedPositionsCount"] == 1
        await assert_recovered(api, "alice", held=1)
        assert await stored_rows(url) == (2, 3)


# --- PostgreSQL: backends terminated ----------------------------------------------------------


@pytest.fixture
async def pg_url(postgres_url: str) -> str:
    await reset_postgres(postgres_url)
    return postgres_url


@pytest.mark.postgres
async def test_backend_terminated_while_waiting_for_the_lock(pg_url: str) -> None:
    async with instance(pg_url) as api:
        await prepared_client(api, "alice", maxOpenPositions=1)
        async with writer_lock_held("postgres", pg_url), admin_connection(pg_url) as admin:
            pending = asyncio.create_task(post_check(api, signal("cut", "alice")))
            await wait_for_app_backend(admin, "Lock")
            assert (await admin.execute(text(TERMINATE_APP))).all()
            unavailable(await pending)
        assert await stored_rows(pg_url) == (0, 0)
        await assert_recovered(api, "alice", held=0)


@pytest.mark.postgres
async def test_backend_terminated_after_writing_the_reservation(pg_url: str) -> None:
    async with instance(pg_url) as api:
        await prepared_client(api, "alice", maxOpenPositions=1)
        async with admin_connection(pg_url) as admin:
            await admin.execute(text(PG_SLEEP_FUNCTION))
            await admin.execute(text(PG_TRIGGER))
            try:
                pending = asyncio.create_task(post_check(api, signal("cut", "alice")))
                # Sleeping inside the decision insert: the reservation row is already written.
                await wait_for_app_backend(admin, "Timeout")
                await admin.execute(text(TERMINATE_APP))
                unavailable(await pending)
            finally:
                await admin.execute(text("DROP TRIGGER inject_fault ON risk_decisions"))
                await admin.execute(text("DROP FUNCTION inject_fault()"))
        assert await stored_rows(pg_url) == (0, 0)
        await assert_recovered(api, "alice", held=0)


@pytest.mark.postgres
async def test_pooled_connections_terminated_between_checks(pg_url: str) -> None:
    """A pool of dead connections may cost one RISK_UNAVAILABLE, never a wrong answer."""
    async with instance(pg_url) as api:
        await prepared_client(api, "alice")
        async with admin_connection(pg_url) as admin:
            assert (await admin.execute(text(APP_BACKENDS))).all()
            await admin.execute(text(TERMINATE_APP))
        first = await post_check(api, signal("first", "alice"))
        if first.errors:
            unavailable(first)
            assert await stored_rows(pg_url) == (0, 0)
            held = 0
        else:
            assert first.data["checkSignal"]["passes"]
            assert await stored_rows(pg_url) == (1, 1)
            held = 1
        await set_profile(api, "alice", maxOpenPositions=held + 1)
        await assert_recovered(api, "alice", held=held)


# --- a database that is not there -------------------------------------------------------------


async def answers_unavailable(api: GraphQLClient) -> None:
    for dry_run in (False, True):
        unavailable(await post_check(api, signal("gone", "alice"), dry_run=dry_run))
    ready = await api.http.get("/readyz")
    assert ready.status_code == 503


async def test_missing_database_fails_closed_then_recovers(
    backend: str, sqlite_template: SqliteTemplate, tmp_path: Path
) -> None:
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'later' / 'riskgate.db'}"
    else:
        name = f"riskgate_fault_{uuid.uuid4().hex[:10]}"
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        async with instance(url) as api:
            await answers_unavailable(api)
            if backend == "sqlite":
                target = tmp_path / "later" / "riskgate.db"
                target.parent.mkdir()
                target.write_bytes(b"this is not a database file " * 200)
                await answers_unavailable(api)
                os.remove(target)
                shutil.copyfile(sqlite_template.template, target)
            else:
                async with admin_connection(POSTGRES_URL) as admin:
                    await admin.execute(text(f'CREATE DATABASE "{name}"'))
                await upgrade_to_head(url)
            await prepared_client(api, "alice", maxOpenPositions=1)
            assert (await api.http.get("/readyz")).status_code == 200
            await assert_recovered(api, "alice", held=0)
            assert await stored_rows(url) == (1, 2)
    finally:
        if backend == "postgres":
            await drop_postgres_database(url)


def remove_database_files(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


async def test_sqlite_file_removed_under_a_running_app(sqlite_template: SqliteTemplate) -> None:
    url = sqlite_template.fresh()
    path = str(make_url(url).database)
    async with instance(url) as api:
        await prepared_client(api, "alice")
        assert (await check(api, signal("before", "alice")))["passes"]
        remove_database_files(path)
        response = await post_check(api, signal("after", "alice"))
        unavailable(response)
