"""The clients overview over HTTP: ordering, paging, roles, cursors and history-free cost."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import create_async_engine

from db.tables import trades
from riskgate.settings import Settings
from tests.support.client import GraphQLClient
from tests.support.clock import Clock
from tests.support.documents import EXPOSURE_FIELDS
from tests.support.events import cash_flow, close_trade, open_trade
from tests.support.reports import exposure

NOON = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)

CLIENTS = f"""
query Clients($order: ClientOrder!, $limit: Int, $after: String) {{
  clients(orderBy: $order, limit: $limit, after: $after) {{
    items {{ {EXPOSURE_FIELDS} }}
    nextCursor
  }}
}}
"""

# The expected ranking of the five seeded clients, worst first, ties by id.
EXPECTED = {
    "EXPOSURE": ["amy", "eve", "ben", "cat", "dan"],
    "DRAWDOWN": ["ben", "cat", "amy", "dan", "eve"],
    "DAILY_PNL": ["cat", "ben", "amy", "dan", "eve"],
    "CLIENT_ID": ["amy", "ben", "cat", "dan", "eve"],
}
HISTORY_TABLES = (
    "trades",
    "cash_flows",
    "risk_decisions",
    "exposure_snapshots",
    "audit_log",
    "pending_closes",
    "breaker_alerts",
)


@pytest.fixture
def fixed_clock(clock: Clock) -> Clock:
    clock.set(NOON)
    return clock


async def seed(api: GraphQLClient) -> None:
    """amy and eve: 110,000 exposure each; ben: 5 % drawdown, −500 today, a gold position;
    cat: +300 then −1,000 today (4.93 % drawdown, −700); dan: only a deposit."""
    for client, amount in (("amy", "10000"), ("ben", "10000"), ("cat", "20000")):
        await cash_flow(api, f"dep-{client}", client, amount)
    await cash_flow(api, "dep-dan", "dan", "5000")
    await cash_flow(api, "dep-eve", "eve", "10000")
    await open_trade(api, "a1", "amy", volume="1.00", price="1.1000")
    await open_trade(api, "e1", "eve", volume="1.00", price="1.1000")
    await open_trade(api, "b1", "ben")
    await close_trade(api, "b1", "ben", "1.0500", pnl="-500")
    await open_trade(api, "b2", "ben", instrument="XAUUSD", volume="0.05", price="2300.50")
    await open_trade(api, "c1", "cat")
    await close_trade(api, "c1", "cat", "1.1030", pnl="300")
    await open_trade(api, "c2", "cat")
    await close_trade(api, "c2", "cat", "1.0000", pnl="-1000")


async def walk(api: GraphQLClient, order: str, limit: int, **auth: Any) -> list[dict[str, Any]]:
    """Every page of one ordering, following nextCursor to the end."""
    seen: list[dict[str, Any]] = []
    after = None
    for _ in range(50):
        page = (await api.ok(CLIENTS, {"order": order, "limit": limit, "after": after}, **auth))[
            "clients"
        ]
        assert len(page["items"]) <= limit
        seen.extend(page["items"])
        after = page["nextCursor"]
        if after is None:
            return seen
        assert len(page["items"]) == limit  # only the last page is short
    raise AssertionError("paging never ended")


async def test_each_ordering_ranks_worst_first_with_ties_by_client_id(
    api: GraphQLClient, fixed_clock: Clock
) -> None:
    await seed(api)
    for order, expected in EXPECTED.items():
        page = (await api.ok(CLIENTS, {"order": order}))["clients"]
        assert [c["clientId"] for c in page["items"]] == expected, order
        assert page["nextCursor"] is None
    # The default ordering is by exposure.
    default = await api.ok("{ clients { items { clientId totalExposure } nextCursor } }")
    assert [c["clientId"] for c in default["clients"]["items"]] == EXPECTED["EXPOSURE"]
    rows = {c["clientId"]: c for c in page["items"]}
    assert (rows["amy"]["totalExposure"], rows["eve"]["totalExposure"]) == ("110000.00",) * 2
    assert rows["ben"]["totalExposure"] == "11502.50"
    assert (rows["ben"]["currentDrawdownPercent"], rows["ben"]["dailyPnl"]) == ("5.00", "-500.00")
    assert (rows["cat"]["currentDrawdownPercent"], rows["cat"]["dailyPnl"]) == ("4.93", "-700.00")
    assert rows["dan"]["equity"] == "5000.00"
    # Each item is the very figure the exposure query gives for that client.
    for client_id, row in rows.items():
        assert row == await exposure(api, client_id)


@pytest.mark.parametrize("limit", [1, 2, 3])
async def test_paging_visits_every_client_exactly_once(
    api: GraphQLClient, fixed_clock: Clock, limit: int
) -> None:
    await seed(api)
    for order, expected in EXPECTED.items():
        seen = await walk(api, order, limit, role="admin")
        assert [c["clientId"] for c in seen] == expected, (order, limit)


async def test_many_clients_page_through_once(api: GraphQLClient, fixed_clock: Clock) -> None:
    ids = [f"c{n:03d}" for n in range(45)]
    for n, client in enumerate(ids):
        # Three clients per exposure level: plenty of ties to break by id.
        await open_trade(api, f"t{n}", client, volume=f"0.{n // 3 + 1:02d}")
    for order in ("EXPOSURE", "CLIENT_ID", "DRAWDOWN"):
        seen = [c["clientId"] for c in await walk(api, order, 7)]
        assert sorted(seen) == ids and len(set(seen)) == len(ids), order
    by_exposure = [c["clientId"] for c in await walk(api, "EXPOSURE", 10)]
    assert by_exposure[:3] == ["c042", "c043", "c044"]  # 0.15 lots each, ids ascending
    assert by_exposure[-3:] == ["c000", "c001", "c002"]


async def test_only_service_and_admin_may_list_clients(
    api: GraphQLClient, fixed_clock: Clock
) -> None:
    await seed(api)
    for role in ("service", "admin"):
        data = await api.ok(CLIENTS, {"order": "CLIENT_ID"}, role=role)
        assert len(data["clients"]["items"]) == 5
    error = await api.fails(CLIENTS, {"order": "CLIENT_ID"}, code="FORBIDDEN", role="client")
    assert "amy" not in str(error)
    await api.fails(CLIENTS, {"order": "CLIENT_ID"}, code="UNAUTHENTICATED", role=None)
    await api.fails(CLIENTS, {"order": "CLIENT_ID"}, code="UNAUTHENTICATED", token="not-a-jwt")


async def test_a_bad_cursor_or_limit_is_bad_user_input(
    api: GraphQLClient, fixed_clock: Clock
) -> None:
    await seed(api)
    first = (await api.ok(CLIENTS, {"order": "EXPOSURE", "limit": 2}))["clients"]
    cursor = first["nextCursor"]
    assert cursor and "amy" not in cursor and "eve" not in cursor  # opaque
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-3] ^= 1  # one bit of the payload changed
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    bad_cursors = [
        ("EXPOSURE", "garbage!"),
        ("EXPOSURE", ""),
        ("EXPOSURE", tampered),
        ("EXPOSURE", cursor[:-4]),
        ("EXPOSURE", "\u00e9" * 10),
        ("DRAWDOWN", cursor),  # a cursor of another ordering
        ("CLIENT_ID", cursor),
    ]
    for order, after in bad_cursors:
        error = await api.fails(CLIENTS, {"order": order, "after": after}, code="BAD_USER_INPUT")
        assert error["extensions"]["field"] == "after", (order, after)
    for limit in (0, -1, 501):
        error = await api.fails(
            CLIENTS, {"order": "EXPOSURE", "limit": limit}, code="BAD_USER_INPUT"
        )
        assert error["extensions"]["field"] == "limit"
    # The genuine cursor still works and continues where the first page ended.
    second = await api.ok(CLIENTS, {"order": "EXPOSURE", "limit": 2, "after": cursor})
    assert [c["clientId"] for c in second["clients"]["items"]] == ["ben", "cat"]


@contextmanager
def statements(api_app: Any) -> Iterator[list[str]]:
    """SQL the app's read path sends while the block runs."""
    engine = api_app.state.graphql.deps.db.reader.sync_engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def add_history(settings: Settings, count: int) -> None:
    """`count` closed trades per seeded client written straight into the ledger's history
    table: rows the overview must never read (the running sums already hold their effect)."""
    engine = create_async_engine(settings.database_url)
    closed_at = NOON - timedelta(days=3)
    rows = [
        {
            "trade_id": f"old-{client}-{n}",
            "client_id": client,
            "symbol": "EURUSD",
            "direction": "BUY",
            "volume": Decimal("0.10"),
            "entry_price": Decimal("1.1000"),
            "opened_at": closed_at - timedelta(hours=1),
            "open_fingerprint": "0" * 32,
            "status": "CLOSED",
            "exit_price": Decimal("1.1000"),
            "closed_at": closed_at,
            "realized_pnl": Decimal(0),
            "close_fingerprint": "0" * 32,
            "recorded_at": closed_at,
        }
        for client in EXPECTED["CLIENT_ID"]
        for n in range(count)
    ]
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(trades), rows)
    finally:
        await engine.dispose()


async def test_cost_does_not_grow_with_trade_history(
    api: GraphQLClient, app: Any, settings: Settings, fixed_clock: Clock
) -> None:
    await seed(api)

    async def measure() -> tuple[list[str], list[Any]]:
        answers = []
        with statements(app) as sql:
            for order in EXPECTED:
                answers.append(await walk(api, order, 2))
        return list(sql), answers

    small_sql, small_answers = await measure()
    # More history through the API (round trips at no P&L) and a large one in bulk.
    for n in range(20):
        await open_trade(api, f"rt{n}", "dan")
        await close_trade(api, f"rt{n}", "dan", "1.1000", pnl="0")
    await add_history(settings, 4000)
    large_sql, large_answers = await measure()

    assert large_answers == small_answers
    assert small_sql, "no statements were captured"
    assert large_sql == small_sql  # the same statements, as many of them
    assert len(small_sql) <= 4 * 3 * len(EXPECTED)  # a few per page
    for sql in small_sql:
        touched = set(re.findall(r"\b\w+\b", sql.lower()))
        assert touched.isdisjoint(HISTORY_TABLES), sql
