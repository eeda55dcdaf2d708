"""Small shared value types: directions, trading modes, alert levels."""

from __future__ import annotations

from enum import StrEnum

from domain.errors import BadInput


class Direction(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """+1 for BUY, -1 for SELL: long positions gain when price rises."""
        return 1 if self is Direction.BUY else -1

    @property
    def opposite(self) -> Direction:
        return Direction.SELL if self is Direction.BUY else Direction.BUY


class TradingMode(StrEnum):
    ACTIVE = "ACTIVE"
    REDUCE_ONLY = "REDUCE_ONLY"
    HALTED = "HALTED"


class AlertLevel(StrEnum):
    OK = "OK"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"


class Role(StrEnum):
    CLIENT = "client"
    SERVICE = "service"
    ADMIN = "admin"


MAX_REASON = 500


def validate_reason(raw: str) -> str:
    """Why a trading mode changed: required, at most MAX_REASON characters."""
    reason = raw.strip()
    if not reason or len(reason) > MAX_REASON:
        raise BadInput(f"reason must be 1-{MAX_REASON} characters", field="reason")
    return reason


def validate_page_limit(limit: int, maximum: int) -> int:
    """How many rows a list query may return."""
    if not 1 <= limit <= maximum:
        raise BadInput(f"limit must be between 1 and {maximum}", field="limit")
    return limit
