"""Mutation root: each field hands the verified caller to one resolver (which authorizes)
and returns a view."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import batch, checks, instruments, ledger, marks, modes, platform, profiles
from schema.context import Info
from schema.enums import TradingMode
from schema.inputs import (
    CashFlowInput,
    ClientIdArg,
    InstrumentInput,
    MarkPriceInput,
    PlatformLimitsInput,
    RiskProfileInput,
    SignalInput,
    TradeClosedInput,
    TradeOpenedInput,
)
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


@strawberry.type(
    description="Writes. Each mutation is one transaction: it applies completely or not at all."
)
class Mutation:
    @strawberry.mutation(
        description=(
            "Change any subset of a client's limits; audited. A client may change its own within "
            "the client ceilings; service and admin any client within the allowed ranges. Returns "
            "the profile after the change."
        ),
    )
    async def update_risk_profile(
        self,
        info: Info,
        input: Annotated[
            RiskProfileInput,
            strawberry.argument(
                description="The limits to change; omitted fields stay as they are."
            ),
        ],
        client_id: ClientIdArg = None,
    ) -> RiskProfileView:
        ctx = info.context
        profile = await profiles.update_risk_profile(ctx.deps, ctx.user, client_id, input.changes())
        return RiskProfileView.of(profile)

    @strawberry.mutation(
        description=(
            "Check a signal against the client's profile and the platform breakers. A reserving "
            "check (dryRun false; service and admin) stores the decision and, when it passes, "
            "reserves the capacity until a trade consumes it, releaseSignal gives it back or it "
            "expires (default 300 s). Idempotent by signalId: the same payload returns the first "
            "decision, another payload is CONFLICT. When the check cannot be evaluated the answer "
            "is RISK_UNAVAILABLE and nothing is reserved: treat it as a refusal."
        ),
    )
    async def check_signal(
        self,
        info: Info,
        signal: Annotated[SignalInput, strawberry.argument(description="The signal to check.")],
        dry_run: Annotated[
            bool,
            strawberry.argument(
                description=(
                    "True: evaluate only, store and reserve nothing (also open to a client for its "
                    "own signals)."
                )
            ),
        ] = False,
        fit: Annotated[bool, strawberry.argument(description=FIT_DESCRIPTION)] = False,
    ) -> RiskCheckView:
        ctx = info.context
        decision = await checks.check_signal(
            ctx.deps, ctx.user, signal.request(), dry_run=dry_run, fit=fit
        )
        return RiskCheckView.of(decision)

    @strawberry.mutation(
        description=(
            "Check a list of signals (any clients, any instruments) in one request and one"
            " transaction, with exactly the answers the same signals checked one by one in"
            " list order would get: each later signal sees the reservations of the earlier"
            " approved ones. Answers come back in input order; each is stored as its own"
            " decision. A signal id already checked returns its first decision; the same id"
            " twice in the list with different values is a CONFLICT, and then nothing is"
            " stored. All of the batch is stored, or none of it. A reserving batch: service and"
            " admin; a dry run is also open to a client for its own signals."
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
                description=(
                    "True: evaluate only, store and reserve nothing; each signal is checked as if"
                    " alone (also open to a client for its own signals)."
                )
            ),
        ] = False,
        fit: Annotated[bool, strawberry.argument(description=FIT_DESCRIPTION)] = False,
    ) -> list[RiskCheckView]:
        ctx = info.context
        found = await batch.check_signals(
            ctx.deps, ctx.user, [s.request() for s in signals], dry_run=dry_run, fit=fit
        )
        return [RiskCheckView.of(d) for d in found]

    @strawberry.mutation(
        description=(
            "Give back the reservation of an approved signal that will not be traded. Idempotent: "
            "false when none was held (already released, consumed or expired). Roles: service, "
            "admin."
        ),
    )
    async def release_signal(
        self,
        info: Info,
        signal_id: Annotated[
            str, strawberry.argument(description="The signalId of the reserving check.")
        ],
    ) -> bool:
        ctx = info.context
        return await checks.release_signal(ctx.deps, ctx.user, signal_id)

    @strawberry.mutation(
        description=(
            "The kill switch: set the trading mode of a client (service, admin) or of the platform "
            "(clientId omitted; admin). Takes effect on the next check, is audited and raises a "
            "TRADING_MODE alert when it changes. Returns the mode now in force."
        ),
    )
    async def set_trading_mode(
        self,
        info: Info,
        mode: Annotated[TradingMode, strawberry.argument(description="The new mode.")],
        reason: Annotated[
            str,
            strawberry.argument(
                description="Why, 1–500 characters; kept in the audit trail and the alert."
            ),
        ],
        client_id: Annotated[
            str | None,
            strawberry.argument(
                description="The client; omit to set the platform's mode (admin only)."
            ),
        ] = None,
    ) -> TradingMode:
        ctx = info.context
        return await modes.set_trading_mode(ctx.deps, ctx.user, client_id, mode, reason)

    @strawberry.mutation(
        description=(
            "Record a trade the broker opened; consumes its signal's reservation. Idempotent by "
            "tradeId (another payload under the same id is CONFLICT). Roles: service, admin."
        ),
    )
    async def record_trade_opened(
        self,
        info: Info,
        trade: Annotated[TradeOpenedInput, strawberry.argument(description="The opened trade.")],
    ) -> TradeView:
        ctx = info.context
        return TradeView.of(await ledger.record_trade_opened(ctx.deps, ctx.user, trade.event()))

    @strawberry.mutation(
        description=(
            "Record a trade the broker closed. Idempotent by tradeId; a close that arrives first "
            "is kept (status AWAITING_OPEN) and applied when its open arrives. Roles: service, "
            "admin."
        ),
    )
    async def record_trade_closed(
        self,
        info: Info,
        trade: Annotated[TradeClosedInput, strawberry.argument(description="The closed trade.")],
    ) -> TradeView:
        ctx = info.context
        return TradeView.of(await ledger.record_trade_closed(ctx.deps, ctx.user, trade.event()))

    @strawberry.mutation(
        description=(
            "Record a deposit or withdrawal: moves balance, equity and the peak together (not a "
            "gain or a drawdown). Idempotent by flowId. Roles: service, admin."
        ),
    )
    async def record_cash_flow(
        self,
        info: Info,
        flow: Annotated[CashFlowInput, strawberry.argument(description="The cash flow.")],
    ) -> AccountView:
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

    @strawberry.mutation(
        description=(
            "Set the latest price (and optionally the quote-to-account rate) of instruments; moves "
            "unrealized P&L, equity, drawdown, daily P&L and exposure. Returns how many "
            "instruments were updated. Roles: service, admin."
        ),
    )
    async def update_mark_prices(
        self,
        info: Info,
        prices: Annotated[
            list[MarkPriceInput],
            strawberry.argument(description="1–1000 marks, each instrument at most once."),
        ],
    ) -> int:
        ctx = info.context
        rows = [(p.instrument, p.price, p.quote_to_account_rate) for p in prices]
        return await marks.update_mark_prices(ctx.deps, ctx.user, rows)

    @strawberry.mutation(
        description=(
            "Change any subset of the platform caps and client ceilings; audited. Role: admin."
        ),
    )
    async def update_platform_limits(
        self,
        info: Info,
        input: Annotated[
            PlatformLimitsInput,
            strawberry.argument(description="The caps to change; omitted fields stay as they are."),
        ],
    ) -> PlatformLimitsView:
        ctx = info.context
        limits, at = await platform.update_platform_limits(
            ctx.deps, ctx.user, input.changes(), input.ceiling_changes()
        )
        return PlatformLimitsView.of(limits, at)

    @strawberry.mutation(
        description=(
            "Create or replace a catalog entry (its mark price is kept); audited. Role: admin."
        ),
    )
    async def upsert_instrument(
        self,
        info: Info,
        input: Annotated[InstrumentInput, strawberry.argument(description="The instrument.")],
    ) -> InstrumentView:
        ctx = info.context
        return InstrumentView.of(
            await instruments.upsert_instrument(ctx.deps, ctx.user, input.instrument())
        )
