"""checkSignal, releaseSignal, riskDecisions and positionSize.

A reserving check is one transaction: it reads the client's and the platform's running
sums, evaluates every rule, and stores the decision and (when it passes) a reservation. On
SQLite it runs behind the platform lock (the single writer); on PostgreSQL behind its
client's lock, claiming its platform capacity as it stores itself. Anything that stops it
from being evaluated fails closed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from db import decisions, reservations
from db import platform as platform_db
from db import protections as protections_db
from db.checkstate import CheckState, load_check_state, lock_client, save_check, save_unlocked
from db.failures import RetryTransaction
from db.lean import Conn, Lean
from domain.access import Caller, authorize, client_scope
from domain.current import (
    ClientSnapshot,
    PlatformSnapshot,
    client_snapshot,
    live_reservations,
    platform_snapshot,
)
from domain.decide import assess, room_left, sizing
from domain.decisions import Decision, SignalRequest, validate_signal
from domain.errors import Conflict, RiskgateError, RiskUnavailable
from domain.exposure import Reservation
from domain.instruments import known_instrument
from domain.ledger import validate_trade_id
from domain.profile import RiskProfile, default_profile
from domain.protections import spent
from domain.sizing import PositionSizing
from domain.values import Direction, validate_page_limit
from resolvers.deps import Deps
from resolvers.profiles import ensure_profile

log = logging.getLogger("riskgate.checks")
MAX_DECISIONS = 500


def _decide(
    state: CheckState,
    request: SignalRequest,
    profile: RiskProfile,
    now: datetime,
    *,
    fit: bool = False,
    hold_for: timedelta | None = None,
) -> tuple[Decision, Reservation | None, PlatformSnapshot]:
    """Evaluate every rule against the state read for this check; with `hold_for`, a passing
    decision holds its reservation."""
    instrument = known_instrument(state.instrument, request.symbol)
    client = _client(state, request.client_id)
    platform = platform_snapshot(
        state.limits,
        state.platform_books,
        state.platform_catalog,
        live_reservations(state.totals, state.expired),
        state.platform_realized,
    )
    catalog_view = {**client.catalog, **platform.catalog, instrument.symbol: instrument}
    decision, held = assess(
        request,
        instrument,
        profile,
        state.limits,
        client,
        platform,
        catalog_view,
        now,
        guards=state.guard.state(state.client_week, now),
        fit=fit,
        hold_for=hold_for,
    )
    return decision, held, platform


def _client(state: CheckState, client_id: str) -> ClientSnapshot:
    return client_snapshot(
        client_id,
        state.client_books,
        state.client_catalog,
        state.account,
        state.client_reservations,
        state.client_realized,
    )


async def _state(conn: Conn, deps: Deps, request: SignalRequest, now: datetime) -> CheckState:
    return await load_check_state(
        conn,
        signal_id=request.signal_id,
        client_id=request.client_id,
        symbol=request.symbol,
        day=deps.calendar.day_of(now),
        week=deps.calendar.week_of(now),
        now=now,
    )


async def check_signal(
    deps: Deps, caller: Caller, request: SignalRequest, *, dry_run: bool, fit: bool = False
) -> Decision:
    """Decide a signal; a normal (reserving) check stores the decision and the reservation."""
    authorize(caller, "checkSignal.dryRun" if dry_run else "checkSignal")
    request = validate_signal(
        replace(request, client_id=client_scope(caller, request.client_id or None))
    )
    now = deps.now()
    try:
        async with asyncio.timeout(deps.check_timeout):
            if dry_run:
                decision = await _dry_run(deps, request, now, fit=fit)
            else:
                decision = await deps.db.write_direct(
                    lambda lean: _reserving(lean, deps, request, now, fit=fit)
                )
    except RiskgateError:
        raise
    except TimeoutError as error:
        raise RiskUnavailable("the risk check timed out; nothing was reserved") from error
    except Exception as error:
        log.exception("risk check could not be evaluated")
        raise RiskUnavailable(
            "the risk check could not be evaluated; nothing was reserved"
        ) from error
    if decision.checked_at == now:  # a replay answers with the decision made back then
        deps.on_decision(decision, dry_run)
    return decision


async def _read_state(deps: Deps, request: SignalRequest, now: datetime) -> CheckState:
    return await deps.db.read_direct(lambda lean: _state(lean, deps, request, now))


async def _dry_run(
    deps: Deps, request: SignalRequest, now: datetime, *, fit: bool = False
) -> Decision:
    state = await _read_state(deps, request, now)
    profile = state.profile or default_profile(request.client_id, now)
    decision, _, _ = _decide(state, request, profile, now, fit=fit)
    return decision


async def _reserving(
    lean: Lean, deps: Deps, request: SignalRequest, now: datetime, *, fit: bool = False
) -> Decision:
    """The whole reserving check, driver-level statements only (one hop on SQLite)."""
    if lean.is_pg:
        return await _claiming(lean, deps, request, now, fit=fit)
    return await _locked(lean, deps, request, now, fit=fit)


async def _replay(
    lean: Lean, state: CheckState, request: SignalRequest, fingerprint: str
) -> Decision | None:
    """The decision already made for this signal id, or None; other values are a conflict
    (known from the state read: only a true replay is fetched)."""
    if state.prior_decision is None:
        return None
    if state.prior_decision[1] != fingerprint:
        raise Conflict(f"signal {request.signal_id} was already checked with other values")
    prior = await decisions.get_decision(lean, request.signal_id)
    assert prior is not None
    return prior[0]


async def _locked(
    lean: Lean, deps: Deps, request: SignalRequest, now: datetime, *, fit: bool = False
) -> Decision:
    """Decide and store behind the platform lock (SQLite's single writer is that lock)."""
    await platform_db.lock(lean)
    state = await _state(lean, deps, request, now)
    fingerprint = request.fingerprint()
    prior = await _replay(lean, state, request, fingerprint)
    if prior is not None:
        return prior
    await reservations.sweep_expired(lean, now, expired=state.expired, totals=state.totals)
    state.expired = []
    profile = state.profile or await ensure_profile(lean, request.client_id, now)
    decision, held, _ = _decide(
        state, request, profile, now, fit=fit, hold_for=deps.reservation_ttl
    )
    await _spend_rate(lean, state, profile, request.client_id, now)
    decision_id = await save_check(
        lean,
        decision,
        fingerprint=fingerprint,
        symbol=request.symbol,
        direction=request.direction.value,
        held=held,
        totals=state.totals,
    )
    return replace(decision, decision_id=decision_id)


CLAIM_ATTEMPTS = 3


async def _claiming(
    lean: Lean, deps: Deps, request: SignalRequest, now: datetime, *, fit: bool = False
) -> Decision:
    """PostgreSQL: hold only this client's lock while reading and deciding, then claim the
    platform capacity in the statement that stores the check (`save_unlocked`), so that the
    rows every check shares are held from that statement to the commit. A claim that loses
    decides again on a fresh read; after a few losses, or to sweep expired reservations out
    of the shared totals, the check takes the platform lock."""
    await lock_client(lean, request.client_id)
    fingerprint = request.fingerprint()
    for _ in range(CLAIM_ATTEMPTS):
        state = await _state(lean, deps, request, now)
        prior = await _replay(lean, state, request, fingerprint)
        if prior is not None:
            return prior
        if state.expired:
            break  # sweeping touches the shared totals: done behind the platform lock
        profile = state.profile or await ensure_profile(lean, request.client_id, now)
        decision, held, platform = _decide(
            state, request, profile, now, fit=fit, hold_for=deps.reservation_ttl
        )
        room = room_left(platform, held) if held is not None else None
        try:
            decision_id = await save_unlocked(
                lean,
                decision,
                fingerprint=fingerprint,
                symbol=request.symbol,
                direction=request.direction.value,
                held=held,
                room=room,
                base=state.claim,
                totals=state.totals,
            )
        except RetryTransaction:
            deps.on_claim("lost")
            raise
        if decision_id is not None:
            if held is not None:
                deps.on_claim("stood")
            await _spend_rate(lean, state, profile, request.client_id, now)
            return replace(decision, decision_id=decision_id)
        deps.on_claim("lost")
    deps.on_claim("locked")
    return await _locked(lean, deps, request, now, fit=fit)


async def _spend_rate(
    lean: Lean, state: CheckState, profile: RiskProfile, client_id: str, now: datetime
) -> None:
    """A reserving check spends from the client's signal-rate bucket, passing or not."""
    bucket = spent(profile.protections, state.guard.bucket, now)
    if bucket is not None:
        await protections_db.save_bucket(lean, client_id, bucket, seen_seq=state.guard.rate_seq)


async def release_signal(deps: Deps, caller: Caller, signal_id: str) -> bool:
    """Give back a reservation; False when none was held (released, consumed or expired)."""
    authorize(caller, "releaseSignal")
    validate_trade_id(signal_id, field="signalId")
    now = deps.now()

    async def work(conn: AsyncConnection) -> bool:
        await platform_db.lock_platform(conn)
        return await reservations.remove(conn, signal_id, now)

    return await deps.db.write(work)


async def risk_decisions(
    deps: Deps, caller: Caller, client_id: str | None, *, limit: int
) -> list[Decision]:
    target = client_scope(caller, client_id)
    validate_page_limit(limit, MAX_DECISIONS)
    return await deps.db.read(lambda conn: decisions.list_decisions(conn, target, limit=limit))


async def position_size(
    deps: Deps,
    caller: Caller,
    client_id: str | None,
    *,
    symbol: str,
    entry_price: Decimal,
    stop_loss: Decimal,
) -> PositionSizing:
    """How many lots risk the profile's share of equity at the stop."""
    target = client_scope(caller, client_id)
    request = validate_signal(
        SignalRequest("sizing", target, symbol, Direction.BUY, None, entry_price, stop_loss)
    )
    now = deps.now()
    state = await _read_state(deps, request, now)
    instrument = known_instrument(state.instrument, request.symbol)
    profile = state.profile or default_profile(target, now)
    client = _client(state, target)
    return sizing(request, instrument, profile, state.limits, client.exposure.equity)
