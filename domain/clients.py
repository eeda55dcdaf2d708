"""The clients overview: how clients rank (worst first) and the opaque cursor of its pages."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from domain.errors import BadInput
from domain.exposure import ExposureReport
from domain.numbers import round2

MAX_CLIENT_PAGE = 500

# The cursor says where a page ends; it carries nothing a staff caller could not read anyway.
# The MAC only makes an edited or made-up cursor fail loudly instead of paging from an odd
# place, so a fixed key is enough.
_CURSOR_KEY = b"riskgate clients cursor v1"
_MAC_BYTES = 12


class ClientOrder(StrEnum):
    EXPOSURE = "EXPOSURE"  # largest total exposure first
    DRAWDOWN = "DRAWDOWN"  # deepest drawdown first
    DAILY_PNL = "DAILY_PNL"  # biggest loss today first
    CLIENT_ID = "CLIENT_ID"  # alphabetical


# (figure compared, with the worst first; client id) — the figure is None for CLIENT_ID.
SortKey = tuple[Decimal, str] | tuple[str]


def ranked_figure(order: ClientOrder, report: ExposureReport) -> Decimal | None:
    """The figure a client is ranked by, as shown (2 decimals): ties are what look equal."""
    if order is ClientOrder.EXPOSURE:
        return round2(report.total_exposure)
    if order is ClientOrder.DRAWDOWN:
        return round2(report.drawdown_percent)
    if order is ClientOrder.DAILY_PNL:
        return round2(report.daily_pnl)
    return None


def sort_key(order: ClientOrder, figure: Decimal | None, client_id: str) -> SortKey:
    """Ascending key: bigger exposure and drawdown first, lower daily P&L first, then id."""
    if order is ClientOrder.CLIENT_ID or figure is None:
        return (client_id,)
    if order is ClientOrder.DAILY_PNL:
        return (figure, client_id)
    return (-figure, client_id)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ended: the ordering, the last client's ranked figure and its id."""

    order: ClientOrder
    figure: Decimal | None
    client_id: str

    def key(self) -> SortKey:
        return sort_key(self.order, self.figure, self.client_id)


def cursor_after(order: ClientOrder, report: ExposureReport) -> Cursor:
    return Cursor(order, ranked_figure(order, report), report.client_id)


def encode_cursor(cursor: Cursor) -> str:
    figure = None if cursor.figure is None else format(cursor.figure, "f")
    payload = json.dumps([cursor.order.value, figure, cursor.client_id], separators=(",", ":"))
    raw = payload.encode()
    mac = hmac.new(_CURSOR_KEY, raw, hashlib.blake2b).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(mac + raw).decode().rstrip("=")


def decode_cursor(token: str, order: ClientOrder) -> Cursor:
    """The cursor a previous page of the same ordering returned, or BadInput."""
    bad = BadInput("after is not a cursor returned by this ordering of clients", field="after")
    if not token or len(token) > 2000:
        raise bad
    try:
        blob = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise bad from None
    if base64.urlsafe_b64encode(blob).decode().rstrip("=") != token:
        raise bad  # one cursor, one spelling: no unused bits or stray characters
    mac, raw = blob[:_MAC_BYTES], blob[_MAC_BYTES:]
    expected = hmac.new(_CURSOR_KEY, raw, hashlib.blake2b).digest()[:_MAC_BYTES]
    if not hmac.compare_digest(mac, expected):
        raise bad
    try:
        order_name, figure_text, client_id = json.loads(raw)
        found = ClientOrder(order_name)
        figure = None if figure_text is None else Decimal(figure_text)
    except (ValueError, TypeError, InvalidOperation):
        raise bad from None
    if found is not order or not isinstance(client_id, str):
        raise bad
    if (figure is None) != (order is ClientOrder.CLIENT_ID):
        raise bad
    if figure is not None and not figure.is_finite():
        raise bad
    return Cursor(order, figure, client_id)


def rank_clients(order: ClientOrder, reports: Iterable[ExposureReport]) -> list[ExposureReport]:
    """Every client in the ordering's sequence, ties broken by client id."""
    return sorted(reports, key=lambda r: sort_key(order, ranked_figure(order, r), r.client_id))


@dataclass(frozen=True, slots=True)
class ClientPage:
    items: tuple[ExposureReport, ...]
    next_cursor: Cursor | None


def client_page(
    order: ClientOrder,
    reports: Iterable[ExposureReport],
    *,
    after: Cursor | None,
    limit: int,
) -> ClientPage:
    """The `limit` clients ranked right after `after` (from the top without one); a next
    cursor while more follow. Keyset paging: a client whose figures move between pages may
    show up twice or not at all, but a fixed set of figures pages through each client once."""
    ranked: Sequence[ExposureReport] = rank_clients(order, reports)
    if after is not None:
        edge = after.key()
        ranked = [r for r in ranked if sort_key(order, ranked_figure(order, r), r.client_id) > edge]
    items = tuple(ranked[:limit])
    more = len(ranked) > limit
    return ClientPage(items, cursor_after(order, items[-1]) if more and items else None)
