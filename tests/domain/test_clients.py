"""Ranking and paging rules of the clients overview, as properties."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.clients import (
    ClientOrder,
    Cursor,
    client_page,
    decode_cursor,
    encode_cursor,
    rank_clients,
)
from domain.errors import BadInput
from domain.exposure import ExposureReport
from domain.values import Direction

AT = datetime(2025, 6, 10, tzinfo=UTC)
money = st.decimals(min_value=-10_000, max_value=10_000, places=3)


def report(client_id: str, exposure: Decimal, drawdown: Decimal, pnl: Decimal) -> ExposureReport:
    return ExposureReport(
        client_id=client_id,
        taken_at=AT,
        total_exposure=abs(exposure),
        by_instrument=(),
        by_direction=((Direction.BUY, abs(exposure)), (Direction.SELL, Decimal(0))),
        open_positions=0,
        reserved_positions=0,
        reserved_exposure=Decimal(0),
        equity=Decimal(0),
        drawdown_percent=abs(drawdown) % 100,
        daily_pnl=pnl,
    )


reports = st.dictionaries(
    st.text("abcxyz0", min_size=1, max_size=4), st.tuples(money, money, money), max_size=30
).map(lambda found: [report(c, *figures) for c, figures in found.items()])


@given(reports, st.sampled_from(list(ClientOrder)), st.integers(1, 7))
def test_paging_yields_the_ranking_once(
    clients: list[ExposureReport], order: ClientOrder, limit: int
) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = client_page(order, clients, after=after, limit=limit)
        seen.extend(r.client_id for r in page.items)
        if page.next_cursor is None:
            break
        after = decode_cursor(encode_cursor(page.next_cursor), order)
    assert seen == [r.client_id for r in rank_clients(order, clients)]
    assert sorted(seen) == sorted(r.client_id for r in clients)


@given(reports)
def test_worst_first_and_ties_by_id(clients: list[ExposureReport]) -> None:
    def pairs(order: ClientOrder, figure: str) -> list[tuple[Decimal, str]]:
        ranked = rank_clients(order, clients)
        return [(round(getattr(r, figure), 2), r.client_id) for r in ranked]

    by_exposure = pairs(ClientOrder.EXPOSURE, "total_exposure")
    assert by_exposure == sorted(by_exposure, key=lambda p: (-p[0], p[1]))
    by_drawdown = pairs(ClientOrder.DRAWDOWN, "drawdown_percent")
    assert by_drawdown == sorted(by_drawdown, key=lambda p: (-p[0], p[1]))
    by_pnl = pairs(ClientOrder.DAILY_PNL, "daily_pnl")
    assert by_pnl == sorted(by_pnl)
    ids = [r.client_id for r in rank_clients(ClientOrder.CLIENT_ID, clients)]
    assert ids == sorted(ids)


@given(st.sampled_from(list(ClientOrder)), money, st.text(max_size=20))
def test_a_cursor_round_trips_and_any_edit_is_refused(
    order: ClientOrder, figure: Decimal, client_id: str
) -> None:
    cursor = Cursor(order, None if order is ClientOrder.CLIENT_ID else figure, client_id)
    token = encode_cursor(cursor)
    assert decode_cursor(token, order) == cursor
    for other in ClientOrder:
        if other is not order:
            with pytest.raises(BadInput):
                decode_cursor(token, other)
    for i in range(len(token)):
        changed = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        with pytest.raises(BadInput):
            decode_cursor(changed, order)
