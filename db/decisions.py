"""Stored risk decisions (the audit of every reserving check) and their replay."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.snapshots import report_from_json, snapshot_values
from db.tables import risk_decisions
from domain.checks import CheckResult, Headroom, LimitCheck, Violation
from domain.decisions import Decision
from domain.profile import RiskLimits, RiskProfile
from domain.values import TradingMode


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _result_json(decision: Decision) -> dict[str, Any]:
    profile = decision.profile
    report = snapshot_values(decision.exposure)
    report["taken_at"] = decision.exposure.taken_at.isoformat()
    for key in ("total_exposure", "equity", "drawdown_percent", "daily_pnl"):
        report[key] = str(report[key])
    report["reserved_exposure"] = str(decision.exposure.reserved_exposure)
    return {
        "violations": [
            {
                "check": v.check.value,
                "limit": str(v.limit),
                "current": str(v.current),
                "message": v.message,
            }
            for v in decision.result.violations
        ],
        "headroom": [
            {
                "check": h.check.value,
                "limit": _opt(h.limit),
                "used": str(h.used),
                "remaining": _opt(h.remaining),
            }
            for h in decision.result.headroom
        ],
        "exposure": report,
        "profile": {
            "id": profile.id,
            "trading_mode": profile.trading_mode.value,
            "updated_at": profile.updated_at.isoformat() if profile.updated_at else None,
            **{
                k: _opt(v) if not isinstance(v, int) else v
                for k, v in asdict(profile.limits).items()
            },
        },
    }


async def get_decision(conn: AsyncConnection, signal_id: str) -> tuple[Decision, str] | None:
    """The stored decision for a signal and the fingerprint of the payload it answered."""
    stmt = select(risk_decisions).where(risk_decisions.c.signal_id == signal_id)
    row = (await conn.execute(stmt)).first()
    return (_decision(row), row._mapping["fingerprint"]) if row else None


async def insert_decision(
    conn: AsyncConnection, decision: Decision, *, fingerprint: str, symbol: str, direction: str
) -> int:
    result = await conn.execute(
        insert(risk_decisions)
        .values(
            signal_id=decision.signal_id,
            client_id=decision.client_id,
            fingerprint=fingerprint,
            passes=decision.result.passes,
            symbol=symbol,
            direction=direction,
            volume=decision.result.volume,
            notional=decision.result.notional,
            result=_result_json(decision),
            checked_at=decision.checked_at,
            reservation_expires_at=decision.reservation_expires_at,
        )
        .returning(risk_decisions.c.id)
    )
    return int(result.scalar_one())


async def list_decisions(conn: AsyncConnection, client_id: str, *, limit: int) -> list[Decision]:
    """Newest first."""
    stmt = (
        select(risk_decisions)
        .where(risk_decisions.c.client_id == client_id)
        .order_by(risk_decisions.c.checked_at.desc(), risk_decisions.c.id.desc())
        .limit(limit)
    )
    return [_decision(row) for row in await conn.execute(stmt)]


def _decision(row: Any) -> Decision:
    m = row._mapping
    stored = m["result"]
    p = stored["profile"]
    limits = RiskLimits(
        max_drawdown_percent=Decimal(p["max_drawdown_percent"]),
        max_daily_loss=_dec(p["max_daily_loss"]),
        max_position_size=Decimal(p["max_position_size"]),
        max_open_positions=int(p["max_open_positions"]),
        max_correlation_exposure=Decimal(p["max_correlation_exposure"]),
        risk_per_trade_percent=Decimal(p["risk_per_trade_percent"]),
    )
    profile = RiskProfile(
        client_id=m["client_id"],
        limits=limits,
        trading_mode=TradingMode(p["trading_mode"]),
        id=int(p["id"]),
        updated_at=datetime.fromisoformat(p["updated_at"]) if p["updated_at"] else None,
    )
    result = CheckResult(
        passes=m["passes"],
        volume=m["volume"],
        notional=m["notional"],
        violations=tuple(
            Violation(
                LimitCheck(v["check"]), Decimal(v["limit"]), Decimal(v["current"]), v["message"]
            )
            for v in stored["violations"]
        ),
        headroom=tuple(
            Headroom(
                LimitCheck(h["check"]), _dec(h["limit"]), Decimal(h["used"]), _dec(h["remaining"])
            )
            for h in stored["headroom"]
        ),
    )
    return Decision(
        signal_id=m["signal_id"],
        client_id=m["client_id"],
        result=result,
        exposure=report_from_json(m["client_id"], stored["exposure"]),
        profile=profile,
        checked_at=m["checked_at"],
        decision_id=int(m["id"]),
        reservation_expires_at=m["reservation_expires_at"],
    )
