"""What a client holds, as the correlation and reduce-only rules see it: net and gross
notional by correlation group, and the open lots a signal would reduce."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from domain.exposure import Reservation
from domain.instruments import Instrument
from domain.numbers import ZERO
from domain.positions import PositionBook, book_notional
from domain.values import Direction


def opposite_open_volume(
    books: Iterable[PositionBook], symbol: str, direction: Direction
) -> Decimal:
    """Open lots on `symbol` that a `direction` signal would reduce (reservations excluded)."""
    return sum(
        (
            b.volume
            for b in books
            if b.symbol == symbol and b.direction is direction.opposite and b.count > 0
        ),
        ZERO,
    )


def correlation_sums(
    group: str,
    books: Iterable[PositionBook],
    reservations: Iterable[Reservation],
    catalog: Mapping[str, Instrument],
) -> tuple[Decimal, Decimal]:
    """(net signed notional of `group`, gross notional) over open books and reservations."""
    # Reservations keep the notional they were approved at: they have no mark of their own.
    net = ZERO
    gross = ZERO
    for book in books:
        if book.count <= 0:
            continue
        instrument = catalog[book.symbol]
        value = book_notional(book, instrument)
        gross += value
        if instrument.correlation_group == group:
            net += value * book.direction.sign
    for reservation in reservations:
        gross += reservation.notional
        if catalog[reservation.symbol].correlation_group == group:
            net += reservation.notional * reservation.direction.sign
    return net, gross


def correlation_ratio(net: Decimal, gross: Decimal) -> Decimal:
    """|net| / gross, 0 with nothing held."""
    if gross <= 0:
        return ZERO
    return abs(net) / gross


def holds_positions(books: Iterable[PositionBook], reservations: Iterable[Reservation]) -> bool:
    """True when the client has at least one open position or active reservation."""
    return any(b.count > 0 for b in books) or any(True for _ in reservations)
