"""Rows every database starts with: the default catalog and the platform row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from db.platform import PLATFORM_ROW, platform_row_values
from domain.instruments import DEFAULT_CATALOG
from domain.limits import DEFAULT_PLATFORM_LIMITS


def catalog_rows() -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {
            "symbol": i.symbol,
            "correlation_group": i.correlation_group,
            "contract_size": i.contract_size,
            "quote_to_account_rate": i.quote_to_account_rate,
            "lot_step": i.lot_step,
            "min_volume": i.min_volume,
            "max_volume": i.max_volume,
            "mark_price": None,
            "mark_updated_at": None,
            "updated_at": now,
        }
        for i in DEFAULT_CATALOG
    ]


def platform_row() -> dict[str, Any]:
    return {
        "id": PLATFORM_ROW,
        **platform_row_values(DEFAULT_PLATFORM_LIMITS, at=datetime.now(UTC)),
    }
