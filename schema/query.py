"""Query root: each field authorizes through a permission class and delegates to a resolver."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from domain import clients as client_rules
from resolvers import alerts, checks, exposure, instruments, platform, profiles
from resolvers.clients import list_clients
from schema.context import Info
from schema.enums import ClientOrder
from schema.permissions import Admin, Authenticated, Staff
from schema.types import (
    BreakerAlertView,
    ClientPageView,
    ExposureView,
    GlobalExposureView,
    InstrumentView,
    PlatformLimitsView,
    PositionSizeView,
    RiskCheckView,
    RiskProfileView,
)


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[Authenticated])
    async def risk_profile(self, info: Info, client_id: str | None = None) -> RiskProfileView:
        ctx = info.context
        return RiskProfileView.of(await profiles.get_risk_profile(ctx.deps, ctx.user, client_id))

    @strawberry.field(permission_classes=[Authenticated])
    async def exposure(self, info: Info, client_id: str | None = None) -> ExposureView:
        ctx = info.context
        return ExposureView.of(await exposure.get_exposure(ctx.deps, ctx.user, client_id))

    @strawberry.field(permission_classes=[Authenticated])
    async def exposure_history(
        self,
        info: Info,
        client_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[ExposureView]:
        ctx = info.context
        reports = await exposure.exposure_history(
            ctx.deps, ctx.user, client_id, since=since, until=until, limit=limit
        )
        return [ExposureView.of(r) for r in reports]

    @strawberry.field(permission_classes=[Authenticated])
    async def position_size(
        self,
        info: Info,
        instrument: str,
        entry_price: Decimal,
        stop_loss: Decimal,
        client_id: str | None = None,
    ) -> PositionSizeView:
        ctx = info.context
        sizing = await checks.position_size(
            ctx.deps,
            ctx.user,
            client_id,
            symbol=instrument,
            entry_price=entry_price,
            stop_loss=stop_loss,
        )
        return PositionSizeView.of(sizing)

    @strawberry.field(permission_classes=[Authenticated])
    async def risk_decisions(
        self, info: Info, client_id: str | None = None, limit: int = 50
    ) -> list[RiskCheckView]:
        ctx = info.context
        found = await checks.risk_decisions(ctx.deps, ctx.user, client_id, limit=limit)
        return [RiskCheckView.of(d) for d in found]

    @strawberry.field(permission_classes=[Admin])
    async def global_exposure(self, info: Info) -> GlobalExposureView:
        ctx = info.context
        snapshot = await exposure.global_exposure(ctx.deps, ctx.user)
        return GlobalExposureView.of(snapshot, ctx.deps.now())

    @strawberry.field(permission_classes=[Authenticated])
    async def instruments(self, info: Info) -> list[InstrumentView]:
        ctx = info.context
        return [
            InstrumentView.of(i) for i in await instruments.list_instruments(ctx.deps, ctx.user)
        ]

    @strawberry.field(permission_classes=[Admin])
    async def platform_limits(self, info: Info) -> PlatformLimitsView:
        ctx = info.context
        return PlatformLimitsView.of(*await platform.get_platform_limits(ctx.deps, ctx.user))

    @strawberry.field(permission_classes=[Authenticated])
    async def breaker_alerts(
        self, info: Info, client_id: str | None = None, limit: int = 100
    ) -> list[BreakerAlertView]:
        ctx = info.context
        found = await alerts.list_alerts(ctx.deps, ctx.user, client_id, limit=limit)
        return [BreakerAlertView.of(a) for a in found]

    @strawberry.field(
        permission_classes=[Staff],
        description=(
            "Pages through the clients with their current exposure figures, worst first "
            "(service and admin)."
        ),
    )
    async def clients(
        self,
        info: Info,
        order_by: Annotated[
            ClientOrder,
            strawberry.argument(description="Which figure ranks the clients; ties go by id."),
        ] = ClientOrder.EXPOSURE,
        limit: Annotated[
            int,
            strawberry.argument(
                description=f"Clients per page, 1 to {client_rules.MAX_CLIENT_PAGE}."
            ),
        ] = 50,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The nextCursor of the previous page, with the same orderBy."
            ),
        ] = None,
    ) -> ClientPageView:
        ctx = info.context
        order = client_rules.ClientOrder(order_by.value)
        page = await list_clients(ctx.deps, ctx.user, order, limit=limit, after=after)
        return ClientPageView.of(page)
