"""The current state of one client and of the platform, built from the running sums.

Reservations are kept as per-instrument totals over every stored row, expired or not;
what still counts is those totals less the reservations that expired but are still stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from domain.equity import AccountState
from domain.exposure import (
    ClientExposure,
    PlatformExposure,
    Reservation,
    book_totals,
    client_exposure,
    platform_exposure,
    with_reservation,
    with_reserved,
)
from domain.instruments import Instrument
from domain.limits import PlatformLimits
from domain.numbers import ZERO
from domain.positions import PositionBook

# Per instrument: (count, volume, notional) over every reservation row, expired or not.
Totals = dict[str, tuple[int, Decimal, Decimal]]


@dataclass
class PlatformReservations:
    """Live (unexpired) reservations across the platform."""

    count: int = 0
    notional: Decimal = ZERO
    volume_by_symbol: dict[str, Decimal] = field(default_factory=dict)


def live_reservations(totals: Totals, expired: Iterable[Reservation]) -> PlatformReservations:
    """Platform totals less the reservations that expired but are still stored."""
    live = PlatformReservations()
    for symbol, (count, volume, notional) in totals.items():
        live.count += count
        live.notional += notional
        live.volume_by_symbol[symbol] = volume
    for gone in expired:
        live.count -= 1
        live.notional -= gone.notional
        live.volume_by_symbol[gone.symbol] = (
            live.volume_by_symbol.get(gone.symbol, ZERO) - gone.volume
        )
    return live


def totals_after(totals: Totals, changes: Iterable[tuple[Reservation, int]]) -> Totals:
    """The totals of the instruments `changes` touch once each reservation is added (+1) or
    taken out (-1): a count never below zero, and no volume or notional left on an
    instrument without reservations."""
    out: Totals = {}
    for held, sign in changes:
        count, volume, notional = out.get(held.symbol) or totals.get(held.symbol, (0, ZERO, ZERO))
        count = max(count + sign, 0)
        out[held.symbol] = (
            count,
            max(volume + sign * held.volume, ZERO) if count else ZERO,
            max(notional + sign * held.notional, ZERO) if count else ZERO,
        )
    return out


def stored_sums(totals: Totals) -> tuple[int, Decimal]:
    """Count and notional over every stored reservation, expired or not (the platform row
    keeps these beside the per-instrument totals)."""
    return (
        sum(count for count, _, _ in totals.values()),
        sum((notional for _, _, notional in totals.values()), ZERO),
    )


@dataclass(frozen=True, slots=True)
class ClientSnapshot:
    """Everything known about one client now: its exposure and the rows behind it."""

    exposure: ClientExposure
    books: tuple[PositionBook, ...]
    reservations: tuple[Reservation, ...]
    catalog: dict[str, Instrument]


def client_snapshot(
    client_id: str,
    client_books: list[PositionBook],
    catalog: dict[str, Instrument],
    account: AccountState,
    held: list[Reservation],
    realized_today: Decimal,
) -> ClientSnapshot:
    exposure = client_exposure(client_id, client_books, catalog, account, held, realized_today)
    return ClientSnapshot(exposure, tuple(client_books), tuple(held), catalog)


@dataclass(frozen=True, slots=True)
class PlatformSnapshot:
    limits: PlatformLimits
    exposure: PlatformExposure
    reserved_volume: dict[str, Decimal]  # live reserved lots per instrument
    catalog: dict[str, Instrument]


def platform_snapshot(
    limits: PlatformLimits,
    platform_books: list[PositionBook],
    catalog: dict[str, Instrument],
    held: PlatformReservations,
    realized_today: Decimal,
) -> PlatformSnapshot:
    exposure = platform_exposure(
        book_totals(platform_books, catalog),
        held.count,
        held.notional,
        realized_today,
        limits.max_total_exposure,
        limits.max_open_positions,
    )
    return PlatformSnapshot(limits, exposure, held.volume_by_symbol, catalog)


def client_with_reservation(snapshot: ClientSnapshot, held: Reservation) -> ClientSnapshot:
    """The client as it stands once `held` counts too."""
    return ClientSnapshot(
        with_reservation(snapshot.exposure, held),
        snapshot.books,
        (*snapshot.reservations, held),
        snapshot.catalog,
    )


def platform_with_reservation(snapshot: PlatformSnapshot, held: Reservation) -> PlatformSnapshot:
    """The platform as it stands once `held` counts too (utilization included)."""
    exposure = snapshot.exposure
    reserved_volume = dict(snapshot.reserved_volume)
    reserved_volume[held.symbol] = reserved_volume.get(held.symbol, ZERO) + held.volume
    counted = with_reserved(
        exposure,
        exposure.reserved_positions + 1,
        exposure.reserved_exposure + held.notional,
        snapshot.limits.max_total_exposure,
        snapshot.limits.max_open_positions,
    )
    return replace(snapshot, exposure=counted, reserved_volume=reserved_volume)
