"""The clients overview: every client's exposure figures, ranked and paged (staff only)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from db.jobqueries import (
    ClientFilter,
    ClientRows,
    active_reservations_by_client,
    all_clients,
    load_clients,
    page_of,
    repeatable_read,
)
from domain.access import Caller, authorize
from domain.clients import MAX_CLIENT_PAGE, ClientOrder, ClientPage, client_page, decode_cursor
from domain.exposure import Reservation, client_exposure, exposure_report
from domain.values import validate_page_limit
from resolvers.deps import Deps


async def list_clients(
    deps: Deps, caller: Caller, order: ClientOrder, *, limit: int, after: str | None
) -> ClientPage:
    """Ranking by a figure reads every client's running sums and open books (the figures
    move with marks, so no index can hold them); ranking by id reads only the page. Neither
    reads trades, cash flows, decisions or snapshots."""
    authorize(caller, "clients")
    validate_page_limit(limit, MAX_CLIENT_PAGE)
    cursor = None if after is None else decode_cursor(after, order)
    now = deps.now()
    which: ClientFilter = None
    if order is ClientOrder.CLIENT_ID:
        which = page_of(all_clients(), cursor.client_id if cursor else "", limit + 1)
    day = deps.calendar.day_of(now)

    async def read(conn: AsyncConnection) -> tuple[ClientRows, dict[str, list[Reservation]]]:
        await repeatable_read(conn)
        return await load_clients(conn, which, day), await active_reservations_by_client(conn, now)

    rows, held = await deps.db.read(read)
    reports = [
        exposure_report(
            client_exposure(
                client_id,
                rows.books.get(client_id, ()),
                rows.catalog,
                account,
                held.get(client_id, ()),
                rows.realized_today[client_id],
            ),
            now,
        )
        for client_id, account in rows.accounts.items()
    ]
    return client_page(order, reports, after=cursor, limit=limit)
