"""Query root: each field hands the verified caller to one resolver (which authorizes) and
returns a view."""

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
from schema.inputs import ClientIdArg
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


@strawberry.type(
    description=(
        "Reads. Every field needs a Bearer token; a client reaches only its own data (FORBIDDEN "
        "otherwise)."
    )
)
class Query:
    @strawberry.field(
        description=(
            "A client's risk profile (created with the defaults on first sight). Roles: client "
            "(own), service, admin."
        ),
    )
    async def risk_profile(
        self,
        info: Info,
        client_id: ClientIdArg = None,
    ) -> RiskProfileView:
        ctx = info.context
        return RiskProfileView.of(await profiles.get_risk_profile(ctx.deps, ctx.user, client_id))

    @strawberry.field(
        description=(
            "A client's exposure now. Reading never writes. Roles: client (own), service, admin."
        ),
    )
    async def exposure(
        self,
        info: Info,
        client_id: ClientIdArg = None,
    ) -> ExposureView:
        ctx = info.context
        return ExposureView.of(await exposure.get_exposure(ctx.deps, ctx.user, client_id))

    @strawberry.field(
        description=(
            "Stored exposure snapshots, newest first (one after each opened trade and hourly for "
            "active clients). Roles: client (own), service, admin."
        ),
    )
    async def exposure_history(
        self,
        info: Info,
        client_id: ClientIdArg = None,
        since: Annotated[
            datetime | None,
            strawberry.argument(description="Only snapshots taken at or after this instant."),
        ] = None,
        until: Annotated[
            datetime | None,
            strawberry.argument(
                description="Only snapshots taken before this instant; must be after since."
            ),
        ] = None,
        limit: Annotated[
            int, strawberry.argument(description="Most snapshots to return, 1–1000.")
        ] = 100,
    ) -> list[ExposureView]:
        ctx = info.context
        reports = await exposure.exposure_history(
            ctx.deps, ctx.user, client_id, since=since, until=until, limit=limit
        )
        return [ExposureView.of(r) for r in reports]

    @strawberry.field(
        description=(
            "The volume that risks the profile's riskPerTradePercent of equity at the stop. "
            "BAD_USER_INPUT when the stop equals the entry or equity is not positive. Roles: "
            "client (own), service, admin."
        ),
    )
    async def position_size(
        self,
        info: Info,
        instrument: Annotated[str, strawberry.argument(description="Symbol from the catalog.")],
        entry_price: Annotated[
            Decimal, strawberry.argument(description="Entry price in the quote currency, > 0.")
        ],
        stop_loss: Annotated[
            Decimal, strawberry.argument(description="Stop price, > 0, different from the entry.")
        ],
        client_id: ClientIdArg = None,
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

    @strawberry.field(
        description=(
            "Stored decisions of reserving checks, newest first (dry runs are not stored). Roles: "
            "client (own), service, admin."
        ),
    )
    async def risk_decisions(
        self,
        info: Info,
        client_id: ClientIdArg = None,
        limit: Annotated[
            int, strawberry.argument(description="Most decisions to return, 1–500.")
        ] = 50,
    ) -> list[RiskCheckView]:
        ctx = info.context
        found = await checks.risk_decisions(ctx.deps, ctx.user, client_id, limit=limit)
        return [RiskCheckView.of(d) for d in found]

    @strawberry.field(
        description="Platform-wide exposure, limits, utilization and trading mode. Role: admin.",
    )
    async def global_exposure(self, info: Info) -> GlobalExposureView:
        ctx = info.context
        snapshot = await exposure.global_exposure(ctx.deps, ctx.user)
        return GlobalExposureView.of(snapshot, ctx.deps.now())

    @strawberry.field(
        description="The instrument catalog. Roles: client, service, admin.",
    )
    async def instruments(self, info: Info) -> list[InstrumentView]:
        ctx = info.context
        return [
            InstrumentView.of(i) for i in await instruments.list_instruments(ctx.deps, ctx.user)
        ]

    @strawberry.field(
        description="The platform caps, trading mode and client ceilings. Role: admin.",
    )
    async def platform_limits(self, info: Info) -> PlatformLimitsView:
        ctx = info.context
        return PlatformLimitsView.of(*await platform.get_platform_limits(ctx.deps, ctx.user))

    @strawberry.field(
        description=(
            "Stored breaker alerts, newest first. Roles: client (own), service and admin (one "
            "client's, or all)."
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
        limit: Annotated[
            int, strawberry.argument(description="Most alerts to return, 1–1000.")
        ] = 100,
    ) -> list[BreakerAlertView]:
        ctx = info.context
        found = await alerts.list_alerts(ctx.deps, ctx.user, client_id, limit=limit)
        return [BreakerAlertView.of(a) for a in found]

    @strawberry.field(
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
        page = await list_clients(ctx.deps, ctx.user, order_by, limit=limit, after=after)
        return ClientPageView.of(page)
