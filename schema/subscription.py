"""Subscription root: live breaker alerts over graphql-transport-ws."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated

import strawberry
from graphql import GraphQLError

from domain.breakers import Alert
from domain.errors import RiskgateError
from resolvers import alerts
from schema.context import Info
from schema.errors import map_error
from schema.types import BreakerAlertView


@strawberry.type(
    description=(
        "Live events over the graphql-transport-ws protocol; the token goes in the "
        'connection_init payload as {"authorization": "Bearer <token>"}.'
    )
)
class Subscription:
    @strawberry.subscription(
        description=(
            "Alerts as they are raised: a client receives its own; service and admin one client's, "
            "or every alert (platform ones included) when clientId is omitted."
        ),
    )
    async def breaker_alerts(
        self,
        info: Info,
        client_id: Annotated[
            str | None,
            strawberry.argument(
                description=(
                    "The client whose alerts to read; a client caller reads only its own. Service "
                    "and admin: omit for every alert, platform ones included."
                )
            ),
        ] = None,
    ) -> AsyncGenerator[BreakerAlertView, None]:
        """Alerts as they are raised: a client its own; service and admin one client's, or
        every alert when no clientId is given."""
        ctx = info.context
        # Authorized before the first event, so a refusal is an error, not an empty stream;
        # coded here because subscription errors do not pass through the operation hooks.
        try:
            stream = alerts.watch_alerts(ctx.deps, ctx.user, client_id)
        except RiskgateError as error:
            raise map_error(GraphQLError(error.message, original_error=error)) from error
        return _views(stream)


async def _views(stream: AsyncIterator[Alert]) -> AsyncGenerator[BreakerAlertView, None]:
    try:
        async for alert in stream:
            yield BreakerAlertView.of(alert)
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()
