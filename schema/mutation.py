"""Mutation root: permission class, then one resolver call, then a view."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import batch, checks, instruments, ledger, marks, modes, platform, profiles
from schema.context import Info
from schema.enums import TradingMode
from schema.inputs import (
    CashFlowInput,
    InstrumentInput,
    MarkPriceInput,
    PlatformLimitsInput,
    RiskProfileInput,
    SignalInput,
    TradeClosedInput,
    TradeOpenedInput,
)
from schema.permissions import Admin, Authenticated, Staff
from schema.types import (
    AccountView,
    InstrumentView,
    PlatformLimitsView,
    RiskCheckView,
    RiskProfileView,
    TradeView,
)

FIT_DESCRIPTION = (
    "Approve a signal that fails only checks a smaller volume can satisfy at the largest"
    " multiple of the lot step, not above the requested volume and not below the minimum,"
    " at which every check passes (see `requestedVolume` and `fittedBy`). Checks no volume"
    " can satisfy are never fitted."
)


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=[Authenticated])
    async def update_risk_profile(
        self, info: Info, input: RiskProfileInput, client_id: str | None = None
    ) -> RiskProfileView:
        ctx = info.context
        profile = await profiles.update_risk_profile(ctx.deps, ctx.user, client_id, input.changes())
        return RiskProfileView.of(profile)

    @strawberry.mutation(permission_classes=[Authenticated])
    async def check_signal(
        self,
        info: Info,
        signal: SignalInput,
        dry_run: bool = False,
        fit: Annotated[bool, strawberry.argument(description=FIT_DESCRIPTION)] = False,
    ) -> RiskCheckView:
        ctx = info.context
        decision = await checks.check_signal(
            ctx.deps, ctx.user, signal.request(), dry_run=dry_run, fit=fit
        )
        return RiskCheckView.of(decision)

    @strawberry.mutation(
        permission_classes=[Authenticated],
        description=(
            "Check a list of signals (any clients, any instruments) in one request and one"
            " transaction, with exactly the answers the same signals checked one by one in"
            " list order would get: each later signal sees the reservations of the earlier"
            " approved ones. Answers come back in input order; each is stored as its own"
            " decision. A signal id already checked returns its first decision; the same id"
            " twice in the list with different values is a CONFLICT, and then nothing is"
            " stored. All of the batch is stored, or none of it."
        ),
    )
    async def check_signals(
        self,
        info: Info,
        signals: Annotated[
            list[SignalInput],
            strawberry.argument(
                description=(
                    "The signals, at most RISKGATE_MAX_BATCH (default 10,000). A client's"
                    " dry run may hold only its own signals."
                )
            ),
        ],
        dry_run: Annotated[
            bool,
            strawberry.argument(
                description="Check without reserving or storing anything (what if)."
            ),
        ] = False,
        fit: Annotated[bool, strawberry.argument(description=FIT_DESCRIPTION)] = False,
    ) -> list[RiskCheckView]:
        ctx = info.context
        found = await batch.check_signals(
            ctx.deps, ctx.user, [s.request() for s in signals], dry_run=dry_run, fit=fit
        )
        return [RiskCheckView.of(d) for d in found]

    @strawberry.mutation(permission_classes=[Staff])
    async def release_signal(self, info: Info, signal_id: str) -> bool:
        ctx = info.context
        return await checks.release_signal(ctx.deps, ctx.user, signal_id)

    @strawberry.mutation(permission_classes=[Staff])
    async def set_trading_mode(
        self, info: Info, mode: TradingMode, reason: str, client_id: str | None = None
    ) -> TradingMode:
        ctx = info.context
        return await modes.set_trading_mode(ctx.deps, ctx.user, client_id, mode, reason)

    @strawberry.mutation(permission_classes=[Staff])
    async def record_trade_opened(self, info: Info, trade: TradeOpenedInput) -> TradeView:
        ctx = info.context
        return TradeView.of(await ledger.record_trade_opened(ctx.deps, ctx.user, trade.event()))

    @strawberry.mutation(permission_classes=[Staff])
    async def record_trade_closed(self, info: Info, trade: TradeClosedInput) -> TradeView:
        ctx = info.context
        return TradeView.of(await ledger.record_trade_closed(ctx.deps, ctx.user, trade.event()))

    @strawberry.mutation(permission_classes=[Staff])
    async def record_cash_flow(self, info: Info, flow: CashFlowInput) -> AccountView:
        ctx = info.context
        account = await ledger.record_cash_flow(
            ctx.deps,
            ctx.user,
            flow_id=flow.flow_id,
            client_id=flow.client_id,
            amount=flow.amount,
            occurred_at=flow.occurred_at,
        )
        return AccountView.of(account)

    @strawberry.mutation(permission_classes=[Staff])
    async def update_mark_prices(self, info: Info, prices: list[MarkPriceInput]) -> int:
        ctx = info.context
        rows = [(p.instrument, p.price, p.quote_to_account_rate) for p in prices]
        return await marks.update_mark_prices(ctx.deps, ctx.user, rows)

    @strawberry.mutation(permission_classes=[Admin])
    async def update_platform_limits(
        self, info: Info, input: PlatformLimitsInput
    ) -> PlatformLimitsView:
        ctx = info.context
        limits, at = await platform.update_platform_limits(
            ctx.deps, ctx.user, input.changes(), input.ceiling_changes()
        )
        return PlatformLimitsView.of(limits, at)

    @strawberry.mutation(permission_classes=[Admin])
    async def upsert_instrument(self, info: Info, input: InstrumentInput) -> InstrumentView:
        ctx = info.context
        return InstrumentView.of(
            await instruments.upsert_instrument(ctx.deps, ctx.user, input.instrument())
        )
