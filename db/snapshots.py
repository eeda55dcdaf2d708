"""Stored exposure snapshots (history)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.tables import exposure_snapshots
from domain.exposure import ExposureReport, InstrumentExposure
from domain.numbers import ZERO
from domain.values import Direction


def snapshot_values(report: ExposureReport) -> dict[str, Any]:
    """Row values for a report; JSON holds decimals as exact strings."""
    return {
        "client_id": report.client_id,
        "taken_at": report.taken_at,
        "total_exposure": report.total_exposure,
        "by_instrument": [
            {"instrument": i.symbol, "volume": str(i.volume), "exposure": str(i.exposure)}
            for i in report.by_instrument
        ],
        "by_direction": {d.value: str(v) for d, v in report.by_direction},
        "open_positions": report.open_positions,
        "reserved_positions": report.reserved_positions,
        "equity": report.equity,
        "drawdown_percent": report.drawdown_percent,
        "daily_pnl": report.daily_pnl,
    }


async def insert_snapshot(conn: AsyncConnection, report: ExposureReport) -> None:
    await conn.execute(insert(exposure_snapshots).values(snapshot_values(report)))


def _report(row: Any) -> ExposureReport:
    return report_from_json(row._mapping["client_id"], dict(row._mapping))


def report_from_json(client_id: str, m: dict[str, Any]) -> ExposureReport:
    """Rebuild a report from snapshot values (a row, or the same keys stored as JSON)."""
    by_direction = m["by_direction"]
    taken_at = m["taken_at"]
    return ExposureReport(
        client_id=client_id,
        taken_at=datetime.fromisoformat(taken_at) if isinstance(taken_at, str) else taken_at,
        total_exposure=Decimal(m["total_exposure"]),
        by_instrument=tuple(
            InstrumentExposure(i["instrument"], Decimal(i["volume"]), Decimal(i["exposure"]))
            for i in m["by_instrument"]
        ),
        by_direction=tuple((d, Decimal(by_direction.get(d.value, "0"))) for d in Direction),
        open_positions=int(m["open_positions"]),
        reserved_positions=int(m["reserved_positions"]),
        reserved_exposure=Decimal(m.get("reserved_exposure", ZERO)),
        equity=Decimal(m["equity"]),
        drawdown_percent=Decimal(m["drawdown_percent"]),
        daily_pnl=Decimal(m["daily_pnl"]),
    )


async def list_snapshots(
    conn: AsyncConnection,
    client_id: str,
    *,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[ExposureReport]:
    """Newest first."""
    stmt = select(exposure_snapshots).where(exposure_snapshots.c.client_id == client_id)
    if since is not None:
        stmt = stmt.where(exposure_snapshots.c.taken_at >= since)
    if until is not None:
        stmt = stmt.where(exposure_snapshots.c.taken_at < until)
    stmt = stmt.order_by(exposure_snapshots.c.taken_at.desc(), exposure_snapshots.c.id.desc())
    return [_report(row) for row in await conn.execute(stmt.limit(limit))]
