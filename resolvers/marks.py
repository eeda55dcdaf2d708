"""Mark prices: move unrealized P&L, equity, exposure and every affected client's peak."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from db import books, catalog, clients
from db import platform as platform_db
from db.jobqueries import holders_of
from domain.access import Caller, authorize
from domain.equity import AccountState
from domain.errors import BadInput
from domain.exposure import book_totals
from domain.instruments import Instrument, validate_marks
from domain.positions import PositionBook
from resolvers import breakers
from resolvers.deps import Deps
from resolvers.unit_of_work import Written, write_then_publish


async def update_mark_prices(
    deps: Deps, caller: Caller, prices: list[tuple[str, Decimal, Decimal | None]]
) -> int:
    """Store the latest marks; returns how many instruments were updated."""
    authorize(caller, "updateMarkPrices")
    marks = validate_marks(prices)
    now = deps.now()

    async def work(conn: AsyncConnection) -> Written[int]:
        await platform_db.lock_platform(conn)
        known = await catalog.load_catalog(conn)
        for i, (symbol, _, _) in enumerate(marks):
            if symbol not in known:
                raise BadInput(f"unknown instrument {symbol}", field=f"prices[{i}].instrument")
        await catalog.save_marks(conn, marks, at=now)
        symbols = [symbol for symbol, _, _ in marks]
        await raise_peaks(conn, symbols)
        holders = holders_of(symbols)
        alerts = await breakers.evaluate(conn, deps, now, clients=holders, platform=True)
        return Written(len(marks), alerts)

    return await write_then_publish(deps, work)


async def raise_peaks(conn: AsyncConnection, symbols: list[str]) -> int:
    """Set-based: one read of the affected clients' books, one batched write of new peaks."""
    rows = await books.books_of_clients_holding(conn, symbols)
    by_client: dict[str, list[PositionBook]] = defaultdict(list)
    accounts: dict[str, AccountState] = {}
    catalog_rows: dict[str, Instrument] = {}
    for client_id, account, book, instrument in rows:
        by_client[client_id].append(book)
        accounts[client_id] = account
        catalog_rows[instrument.symbol] = instrument
    new_peaks = []
    for client_id, client_books in by_client.items():
        account = accounts[client_id]
        updated = account.after_marks(book_totals(client_books, catalog_rows).unrealized)
        if updated.peak_equity != account.peak_equity:
            new_peaks.append((client_id, updated.peak_equity))
    await clients.save_peaks(conn, new_peaks)
    return len(new_peaks)
