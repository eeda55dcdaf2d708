"""Trade and cash-flow events: idempotent, order-independent, aggregates kept in step."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from db import books, catalog, clients, ledger, reservations, snapshots
from db import platform as platform_db
from db import protections as protections_db
from domain.access import Caller, authorize
from domain.equity import AccountState
from domain.errors import Conflict, RiskUnavailable
from domain.exposure import ClientExposure, book_totals, exposure_report
from domain.instruments import Instrument, known_instrument
from domain.ledger import (
    TradeClosed,
    TradeOpened,
    TradeRecord,
    event_time,
    fingerprint_of,
    realized_pnl,
    validate_cash_flow_amount,
    validate_open,
    validate_trade_id,
)
from domain.numbers import require_positive
from domain.profile import validate_client_id
from resolvers import breakers
from resolvers.deps import Deps
from resolvers.exposure import load_client
from resolvers.unit_of_work import Written, write_then_publish


async def _instrument(conn: AsyncConnection, symbol: str) -> Instrument:
    return known_instrument(await catalog.get_instrument(conn, symbol), symbol)


async def _unrealized(conn: AsyncConnection, client_id: str) -> Decimal:
    client_books, instruments = await books.client_books(conn, client_id)
    return book_totals(client_books, instruments).unrealized


async def _locked_account(conn: AsyncConnection, client_id: str, at: datetime) -> AccountState:
    await clients.ensure_client(conn, client_id, at=at)
    account = await clients.lock_account(conn, client_id)
    if account is None:
        raise RiskUnavailable("the account could not be read")
    return account


async def _move_books(conn: AsyncConnection, trade: TradeOpened, *, opening: bool) -> None:
    """Add a position to (or take it out of) the client's and the platform's books."""
    client_book = await books.get_client_book(conn, trade.client_id, trade.symbol, trade.direction)
    platform_book = await books.get_platform_book(conn, trade.symbol, trade.direction)
    if opening:
        client_book = client_book.opened(trade.volume, trade.entry_price)
        platform_book = platform_book.opened(trade.volume, trade.entry_price)
    else:
        client_book = client_book.closed(trade.volume, trade.entry_price)
        platform_book = platform_book.closed(trade.volume, trade.entry_price)
    await books.save_client_book(conn, trade.client_id, client_book)
    await books.save_platform_book(conn, platform_book)


async def _settled(
    conn: AsyncConnection,
    deps: Deps,
    now: datetime,
    trade_id: str,
    client_id: str,
) -> Written[TradeRecord]:
    """After a trade event: re-evaluate its breakers and re-read the trade."""
    alerts = await breakers.evaluate(conn, deps, now, clients=[client_id], platform=True)
    stored = await ledger.get_trade(conn, trade_id)
    assert stored is not None
    return Written(stored.record, alerts)


async def _apply_close(
    conn: AsyncConnection,
    deps: Deps,
    opened: TradeOpened,
    close: TradeClosed,
    now: datetime,
    *,
    fingerprint: str,
) -> None:
    """Book a close against its open: ledger row, books, daily P&L, balance and peak."""
    instrument = await _instrument(conn, opened.symbol)
    closed_at = event_time(close.closed_at, now, field="closedAt")
    pnl = realized_pnl(opened.direction, opened.volume, opened.entry_price, close, instrument)
    await ledger.close_trade(conn, close, closed_at=closed_at, pnl=pnl, fingerprint=fingerprint)
    await _move_books(conn, opened, opening=False)
    await books.add_realized(conn, opened.client_id, deps.calendar.day_of(closed_at), pnl)
    await protections_db.record_close(
        conn,
        trade_id=close.trade_id,
        client_id=opened.client_id,
        week=deps.calendar.week_of(closed_at),
        closed_at=closed_at,
        pnl=pnl,
    )
    account = await _locked_account(conn, opened.client_id, now)
    unrealized = await _unrealized(conn, opened.client_id)
    await clients.save_account(
        conn,
        opened.client_id,
        account.after_realized(pnl, unrealized),
        at=now,
        open_positions_delta=-1,
    )


async def record_trade_opened(deps: Deps, caller: Caller, event: TradeOpened) -> TradeRecord:
    """Record an opened trade; consumes its signal's reservation; applies an early close."""
    authorize(caller, "recordTradeOpened")
    validate_trade_id(event.trade_id, field="tradeId")
    validate_client_id(event.client_id)
    if event.signal_id is not None:
        validate_trade_id(event.signal_id, field="signalId")
    now = deps.now()
    opened_at = event_time(event.opened_at, now, field="openedAt")

    async def work(conn: AsyncConnection) -> Written[TradeRecord]:
        await platform_db.lock_platform(conn)
        instrument = await _instrument(conn, event.symbol)
        validate_open(event, instrument)
        existing = await ledger.get_trade(conn, event.trade_id)
        if existing is not None:
            if existing.open_fingerprint != event.fingerprint():
                raise Conflict(f"trade {event.trade_id} was already recorded with other values")
            return Written(existing.record)
        pending = await ledger.get_pending_close(conn, event.trade_id)
        if pending is not None and pending.record.client_id != event.client_id:
            raise Conflict(f"trade {event.trade_id} was closed for another client")
        account = await _locked_account(conn, event.client_id, now)
        if event.signal_id is not None:
            held = await reservations.get(conn, event.signal_id)
            if held is not None and held.client_id != event.client_id:
                raise Conflict(f"signal {event.signal_id} was reserved for another client")
            await reservations.remove(conn, event.signal_id, now)
        await ledger.insert_trade(conn, event, opened_at=opened_at, at=now)
        await _move_books(conn, event, opening=True)
        # A position opened away from the mark moves equity at once.
        unrealized = await _unrealized(conn, event.client_id)
        await clients.save_account(
            conn, event.client_id, account.after_marks(unrealized), at=now, open_positions_delta=1
        )
        if pending is not None and pending.record.closed is not None:
            await _apply_close(
                conn,
                deps,
                event,
                pending.record.closed,
                now,
                fingerprint=pending.close_fingerprint or "",
            )
            await ledger.delete_pending_close(conn, event.trade_id)
        loaded = await load_client(conn, deps, event.client_id, now)
        await snapshots.insert_snapshot(conn, exposure_report(loaded.exposure, now))
        return await _settled(conn, deps, now, event.trade_id, event.client_id)

    return await write_then_publish(deps, work)


async def record_trade_closed(deps: Deps, caller: Caller, event: TradeClosed) -> TradeRecord:
    """Record a close; one that arrives before its open is kept and applied later."""
    authorize(caller, "recordTradeClosed")
    validate_trade_id(event.trade_id, field="tradeId")
    validate_client_id(event.client_id)
    require_positive(event.exit_price, field="exitPrice")
    now = deps.now()
    closed_at = event_time(event.closed_at, now, field="closedAt")

    async def work(conn: AsyncConnection) -> Written[TradeRecord]:
        await platform_db.lock_platform(conn)
        existing = await ledger.get_trade(conn, event.trade_id)
        if existing is None:
            pending = await ledger.get_pending_close(conn, event.trade_id)
            if pending is not None:
                if pending.close_fingerprint != event.fingerprint():
                    raise Conflict(f"trade {event.trade_id} already has a different close")
                return Written(pending.record)
            # A close without closedAt happened when it arrived, not when its open shows up.
            await ledger.insert_pending_close(
                conn, replace(event, closed_at=closed_at), fingerprint=event.fingerprint(), at=now
            )
            stored = await ledger.get_pending_close(conn, event.trade_id)
            assert stored is not None
            return Written(stored.record)
        record = existing.record
        if record.client_id != event.client_id:
            raise Conflict(f"trade {event.trade_id} belongs to another client")
        if existing.close_fingerprint is not None:
            if existing.close_fingerprint != event.fingerprint():
                raise Conflict(f"trade {event.trade_id} was already closed with other values")
            return Written(record)
        assert record.opened is not None
        await _apply_close(conn, deps, record.opened, event, now, fingerprint=event.fingerprint())
        return await _settled(conn, deps, now, event.trade_id, event.client_id)

    return await write_then_publish(deps, work)


async def record_cash_flow(
    deps: Deps,
    caller: Caller,
    *,
    flow_id: str,
    client_id: str,
    amount: Decimal,
    occurred_at: datetime | None,
) -> ClientExposure:
    """Deposit (> 0) or withdrawal (< 0); idempotent by flow id. Returns the account after."""
    authorize(caller, "recordCashFlow")
    validate_trade_id(flow_id, field="flowId")
    validate_client_id(client_id)
    validate_cash_flow_amount(amount)
    now = deps.now()
    at = event_time(occurred_at, now, field="occurredAt")
    fingerprint = fingerprint_of(client_id, amount, occurred_at)

    async def work(conn: AsyncConnection) -> Written[ClientExposure]:
        await platform_db.lock_platform(conn)
        existing = await ledger.get_cash_flow(conn, flow_id)
        if existing is not None:
            if existing.fingerprint != fingerprint:
                raise Conflict(f"cash flow {flow_id} was already recorded with other values")
            return Written((await load_client(conn, deps, client_id, now)).exposure)
        account = await _locked_account(conn, client_id, now)
        flow = ledger.CashFlowRecord(flow_id, client_id, amount, at, fingerprint)
        await ledger.insert_cash_flow(conn, flow, at=now)
        unrealized = await _unrealized(conn, client_id)
        await clients.save_account(
            conn, client_id, account.after_cash_flow(amount, unrealized), at=now
        )
        alerts = await breakers.evaluate(conn, deps, now, clients=[client_id])
        return Written((await load_client(conn, deps, client_id, now)).exposure, alerts)

    return await write_then_publish(deps, work)
