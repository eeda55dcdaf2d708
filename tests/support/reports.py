"""Reading what the API reports: exposure, platform totals, alerts, and picking rows out."""

from __future__ import annotations

from typing import Any

from tests.support.client import GraphQLClient
from tests.support.documents import ALERTS, EXPOSURE, GLOBAL


async def exposure(api: GraphQLClient, client_id: str) -> Any:
    return (await api.ok(EXPOSURE, {"clientId": client_id}))["exposure"]


async def global_exposure(api: GraphQLClient) -> Any:
    return (await api.ok(GLOBAL, role="admin"))["globalExposure"]


async def alerts(
    api: GraphQLClient, client_id: str | None = None, *, role: str = "admin", sub: str | None = None
) -> list[dict[str, Any]]:
    data = await api.ok(ALERTS, {"clientId": client_id}, role=role, sub=sub)
    return list(data["breakerAlerts"])


def by_instrument(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {row["instrument"]: (row["volume"], row["exposure"]) for row in report["byInstrument"]}


def by_direction(report: dict[str, Any]) -> dict[str, str]:
    return {row["direction"]: row["exposure"] for row in report["byDirection"]}


def without_client(report: dict[str, Any]) -> dict[str, Any]:
    """The report's figures, for comparing two clients fed the same events."""
    return {k: v for k, v in report.items() if k not in {"clientId", "timestamp"}}


def levels(alerts: list[dict[str, Any]], kind: str) -> list[tuple[str, str]]:
    """(previousLevel, level) of one kind's alerts, oldest first."""
    return [(a["previousLevel"], a["level"]) for a in reversed(alerts) if a["kind"] == kind]
