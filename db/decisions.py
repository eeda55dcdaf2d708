"""Stored risk decisions (the audit of every reserving check) and their replay."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.lean import Conn, Lean, Sql
from db.rows import DECISION, typed_params
from db.snapshots import report_from_json, snapshot_values
from db.tables import risk_decisions
from domain.checks import CheckResult, Headroom, LimitCheck, Violation
from domain.decisions import Decision
from domain.profile import RiskLimits, RiskProfile
from domain.protections import DEFAULT_PROTECTIONS, protection_audit, protections_from_audit
from domain.values import TradingMode

# asdict() deep-copies every value; a stored decision needs the limits' names only.
_LIMIT_NAMES = tuple(f.name for f in fields(RiskLimits))


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
                for k, v in ((k, getattr(profile.limits, k)) for k in _LIMIT_NAMES)
            },
            # Only when set, so that a decision under default settings stays as small as ever.
            **(
                {"protections": protection_audit(profile.protections)}
                if profile.protections != DEFAULT_PROTECTIONS
                else {}
            ),
        },
    }


_GET = Sql(f"SELECT {DECISION.sql('d')} FROM risk_decisions d WHERE d.signal_id = ?")
_COLUMNS = (
    "signal_id",
    "client_id",
    "fingerprint",
    "passes",
    "symbol",
    "direction",
    "volume",
    "notional",
    "result",
    "checked_at",
    "reservation_expires_at",
    "requested_volume",
    "fitted_by",
)
_INSERT = f"INSERT INTO risk_decisions ({', '.join(_COLUMNS)})"
INSERT_DECISION = Sql(f"{_INSERT} VALUES ({', '.join('?' * len(_COLUMNS))}) RETURNING id")


def insert_decision_from(source: str) -> str:
    """INSERT_DECISION (same parameters) storing a row only if `source` (a CTE) has one."""
    return f"{_INSERT} SELECT {typed_params(risk_decisions, _COLUMNS)} FROM {source} RETURNING id"


async def get_decision(conn: Conn, signal_id: str) -> tuple[Decision, str] | None:
    """The stored decision for a signal and the fingerprint of the payload it answered."""
    row = await (await Lean.of(conn)).row(_GET, signal_id)
    if row is None:
        return None
    stored = DECISION.decode(row)
    return decision_from(stored), stored["fingerprint"]


def decision_args(
    decision: Decision, *, fingerprint: str, symbol: str, direction: str
) -> tuple[Any, ...]:
    """Parameters of INSERT_DECISION."""
    return (
        decision.signal_id,
        decision.client_id,
        fingerprint,
        decision.result.passes,
        symbol,
        direction,
        decision.result.volume,
        decision.result.notional,
        json.dumps(_result_json(decision), separators=(",", ":")),
        decision.checked_at,
        decision.reservation_expires_at,
        decision.requested,
        fitted_by_text(decision.fitted_by),
    )


def fitted_by_text(checks: tuple[LimitCheck, ...]) -> str:
    return ",".join(c.value for c in checks)


async def insert_decision(
    conn: Conn, decision: Decision, *, fingerprint: str, symbol: str, direction: str
) -> int:
    args = decision_args(decision, fingerprint=fingerprint, symbol=symbol, direction=direction)
    row = await (await Lean.of(conn)).row(INSERT_DECISION, *args)
    assert row is not None
    return int(row[0])


async def list_decisions(conn: AsyncConnection, client_id: str, *, limit: int) -> list[Decision]:
    """Newest first."""
    stmt = (
        select(*DECISION.columns())
        .where(risk_decisions.c.client_id == client_id)
        .order_by(risk_decisions.c.checked_at.desc(), risk_decisions.c.id.desc())
        .limit(limit)
    )
    return [decision_from(DECISION.decode(row)) for row in await conn.execute(stmt)]


def decision_from(m: Any) -> Decision:
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
        protections=protections_from_audit(p.get("protections")),
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
        requested_volume=m["requested_volume"],
        fitted_by=tuple(LimitCheck(c) for c in (m["fitted_by"] or "").split(",") if c),
    )
