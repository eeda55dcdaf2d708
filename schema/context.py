"""The typed request context: dependencies and the verified caller (or why there is none)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from domain.access import Caller
from domain.errors import RiskgateError, Unauthenticated
from resolvers.deps import Deps


@dataclass
class Context:
    deps: Deps
    caller: Caller | None = None
    auth_error: RiskgateError | None = None
    token_expires_at: int | None = None
    connection_params: dict[str, Any] | None = None
    # A WebSocket connection's context lives as long as the socket; it closes at token expiry.
    websocket: WebSocket | None = None
    expiry: asyncio.Task[None] | None = None

    @property
    def user(self) -> Caller:
        """The verified caller, or the reason the request is unauthenticated."""
        if self.caller is None:
            raise self.auth_error or Unauthenticated("a bearer token is required")
        return self.caller


Info = StrawberryInfo[Context, None]
