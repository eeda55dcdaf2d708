"""The trade ledger, out-of-order closes and cash flows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.tables import cash_flows, pending_closes, trades
from domain.ledger import TradeClosed, TradeOpened, TradeRecord, TradeStatus
from domain.values import Direction


@dataclass(frozen=True, slots=True)
class StoredTrade:
    """A ledger row with the fingerprints that make its events idempotent."""

    record: TradeRecord
    open_fingerprint: str | None
    close_fingerprint: str | None


def _stored(row: Any) -> StoredTrade:
    m = row._mapping
    opened = TradeOpened(
        trade_id=m["trade_id"],
        client_id=m["client_id"],
        signal_id=m["signal_id"],
        symbol=m["symbol"],
        direction=Direction(m["direction"]),
        volume=m["volume"],
        entry_price=m["entry_price"],
        stop_loss=m["stop_loss"],
        opened_at=m["opened_at"],
    )
    status = TradeStatus(m["status"])
    closed = None
    if status is TradeStatus.CLOSED:
        closed = TradeClosed(m["trade_id"], m["client_id"], m["exit_price"], m["closed_at"], None)
    record = TradeRecord(
        trade_id=m["trade_id"],
        client_id=m["client_id"],
        status=status,
        opened=opened,
        opened_at=m["opened_at"],
        closed=closed,
        closed_at=m["closed_at"],
        realized_pnl=m["realized_pnl"],
    )
    return StoredTrade(record, m["open_fingerprint"], m["close_fingerprint"])


async def get_trade(conn: AsyncConnection, trade_id: str) -> StoredTrade | None:
    row = (await conn.execute(select(trades).where(trades.c.trade_id == trade_id))).first()
    return _stored(row) if row else None


async def insert_trade(
    conn: AsyncConnection, event: TradeOpened, *, opened_at: datetime, at: datetime
) -> None:
    await conn.execute(
        insert(trades).values(
            trade_id=event.trade_id,
            client_id=event.client_id,
            signal_id=event.signal_id,
            symbol=event.symbol,
            direction=event.direction.value,
            volume=event.volume,
            entry_price=event.entry_price,
            stop_loss=event.stop_loss,
            opened_at=opened_at,
            open_fingerprint=event.fingerprint(),
            status=TradeStatus.OPEN.value,
            recorded_at=at,
        )
    )


async def close_trade(
    conn: AsyncConnection,
    event: TradeClosed,
    *,
    closed_at: datetime,
    pnl: Decimal,
    fingerprint: str,
) -> None:
    await conn.execute(
        update(trades)
        .where(trades.c.trade_id == event.trade_id, trades.c.status == TradeStatus.OPEN.value)
        .values(
            status=TradeStatus.CLOSED.value,
            exit_price=event.exit_price,
            closed_at=closed_at,
            realized_pnl=pnl,
            close_fingerprint=fingerprint,
        )
    )


async def get_pending_close(conn: AsyncConnection, trade_id: str) -> StoredTrade | None:
    """A close waiting for its open, as an AWAITING_OPEN ledger entry."""
    stmt = select(pending_closes).where(pending_closes.c.trade_id == trade_id)
    row = (await conn.execute(stmt)).first()
    if row is None:
        return None
    m = row._mapping
    closed = TradeClosed(m["trade_id"], m["client_id"], m["exit_price"], m["closed_at"], m["pnl"])
    record = TradeRecord(
        trade_id=m["trade_id"],
        client_id=m["client_id"],
        status=TradeStatus.AWAITING_OPEN,
        opened=None,
        opened_at=None,
        closed=closed,
        closed_at=m["closed_at"],
    )
    return StoredTrade(record, None, m["fingerprint"])


async def insert_pending_close(
    conn: AsyncConnection, event: TradeClosed, *, fingerprint: str, at: datetime
) -> None:
    await conn.execute(
        insert(pending_closes).values(
            trade_id=event.trade_id,
            client_id=event.client_id,
            exit_price=event.exit_price,
            closed_at=event.closed_at,
            pnl=event.pnl,
            fingerprint=fingerprint,
            received_at=at,
        )
    )


async def delete_pending_close(conn: AsyncConnection, trade_id: str) -> None:
    await conn.execute(delete(pending_closes).where(pending_closes.c.trade_id == trade_id))


@dataclass(frozen=True, slots=True)
class CashFlowRecord:
    flow_id: str
    client_id: str
    amount: Decimal
    occurred_at: datetime
    fingerprint: str


async def get_cash_flow(conn: AsyncConnection, flow_id: str) -> CashFlowRecord | None:
    stmt = select(
        cash_flows.c.flow_id,
        cash_flows.c.client_id,
        cash_flows.c.amount,
        cash_flows.c.occurred_at,
        cash_flows.c.fingerprint,
    ).where(cash_flows.c.flow_id == flow_id)
    row = (await conn.execute(stmt)).first()
    return CashFlowRecord(*row) if row else None


async def insert_cash_flow(conn: AsyncConnection, flow: CashFlowRecord, *, at: datetime) -> None:
    await conn.execute(
        insert(cash_flows).values(
            flow_id=flow.flow_id,
            client_id=flow.client_id,
            amount=flow.amount,
            occurred_at=flow.occurred_at,
            fingerprint=flow.fingerprint,
            recorded_at=at,
        )
    )
