"""Coded errors raised by rules and use cases; the API maps each code once."""

from __future__ import annotations


class RiskgateError(Exception):
    """Base of every error a caller may see; `code` is the public error code."""

    code = "INTERNAL"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadInput(RiskgateError):
    """The input is malformed or out of range; `field` names the offending input."""

    code = "BAD_USER_INPUT"


class Conflict(RiskgateError):
    """The same idempotency key arrived with a different payload."""

    code = "CONFLICT"


class Unauthenticated(RiskgateError):
    """No token, or a token that does not verify."""

    code = "UNAUTHENTICATED"


class Forbidden(RiskgateError):
    """The caller's role or client may not do this."""

    code = "FORBIDDEN"


class RiskUnavailable(RiskgateError):
    """The risk state cannot be read or written right now; nothing was decided."""

    code = "RISK_UNAVAILABLE"
