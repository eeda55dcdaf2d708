"""checkSignals: a list of signals decided in one request and one transaction.

The answer is exactly what the same signals checked one by one in list order would give:
each later signal sees the reservations of the earlier approved ones. State is read once
for the whole batch (set-based), every decision is taken in memory from it, and the
decisions and reservations are written with a fixed number of statements.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from db import platform as platform_db
from db import reservations
from db.batchstate import (
    BatchState,
    Stored,
    ensure_clients,
    load_batch_state,
    load_guards,
    save_batch,
    save_buckets,
)
from domain.access import Caller, authorize, client_scope
from domain.current import (
    ClientSnapshot,
    PlatformSnapshot,
    client_snapshot,
    client_with_reservation,
    live_reservations,
    platform_snapshot,
    platform_with_reservation,
    totals_after,
)
from domain.decide import assess
from domain.decisions import Decision, SignalRequest, validate_signal
from domain.equity import AccountState
from domain.errors import BadInput, Conflict, RiskgateError, RiskUnavailable
from domain.exposure import Reservation
from domain.instruments import known_instrument
from domain.limits import PlatformLimits
from domain.numbers import ZERO
from domain.profile import RiskProfile, default_profile
from domain.protections import RateBucket, spent
from resolvers.deps import Deps

log = logging.getLogger("riskgate.checks")


def _prefixed(error: RiskgateError, index: int) -> BadInput:
    """A signal's input error, naming the signal's place in the list."""
    return BadInput(error.message, field=f"signals[{index}].{error.field or 'signal'}")


def validate_batch(
    caller: Caller, requests: Sequence[SignalRequest], *, dry_run: bool, max_batch: int
) -> list[tuple[SignalRequest, str]]:
    """Roles, size, each signal well-formed, and one payload per signal id (its fingerprint)."""
    authorize(caller, "checkSignals.dryRun" if dry_run else "checkSignals")
    if len(requests) > max_batch:
        raise BadInput(f"at most {max_batch} signals per call", field="signals")
    out: list[tuple[SignalRequest, str]] = []
    seen: dict[str, str] = {}
    for index, request in enumerate(requests):
        try:
            scoped = replace(request, client_id=client_scope(caller, request.client_id or None))
            checked = validate_signal(scoped)
        except BadInput as error:
            raise _prefixed(error, index) from error
        fingerprint = checked.fingerprint()
        if seen.setdefault(checked.signal_id, fingerprint) != fingerprint:
            raise Conflict(
                f"signal {checked.signal_id} appears twice in the list with different values;"
                " nothing was checked"
            )
        out.append((checked, fingerprint))
    return out


async def check_signals(
    deps: Deps,
    caller: Caller,
    requests: Sequence[SignalRequest],
    *,
    dry_run: bool,
    fit: bool = False,
) -> list[Decision]:
    """Decide every signal in list order; a normal batch stores all of it or nothing."""
    checked = validate_batch(caller, requests, dry_run=dry_run, max_batch=deps.max_batch)
    if not checked:
        return []
    now = deps.now()
    # A batch may take longer than one check, in proportion to its size.
    timeout = deps.check_timeout * (1 + len(checked) / 1000)
    try:
        async with asyncio.timeout(timeout):
            if dry_run:
                answers = await deps.db.read(
                    lambda conn: _decide_all(conn, deps, checked, now, fit=fit, reserve=False)
                )
            else:
                answers = await deps.db.write(
                    lambda conn: _decide_all(conn, deps, checked, now, fit=fit, reserve=True)
                )
    except RiskgateError:
        raise
    except TimeoutError as error:
        raise RiskUnavailable("the batch timed out; nothing was reserved") from error
    except Exception as error:
        log.exception("batch of risk checks could not be evaluated")
        raise RiskUnavailable("the batch could not be evaluated; nothing was reserved") from error
    # Counted as single checks are: decisions taken now, not replays of stored ones; a
    # reserving list decides a signal repeated in it once.
    counted: set[str] = set()
    for decision in answers:
        if decision.checked_at != now or decision.signal_id in counted:
            continue
        if not dry_run:
            counted.add(decision.signal_id)
        deps.on_decision(decision, dry_run)
    return answers


@dataclass
class _Book:
    """The running in-memory state the batch decides against, updated as it approves."""

    limits: PlatformLimits
    state: BatchState
    platform: PlatformSnapshot
    clients: dict[str, ClientSnapshot]

    def client(self, client_id: str) -> ClientSnapshot:
        found = self.clients.get(client_id)
        if found is None:
            found = self.clients[client_id] = client_snapshot(
                client_id,
                self.state.books.get(client_id, []),
                self.state.catalog,
                self.state.accounts.get(client_id) or AccountState(),
                self.state.reservations.get(client_id, []),
                self.state.realized.get(client_id, ZERO),
            )
        return found

    def reserve(self, held: Reservation) -> None:
        """Count an approved reservation for the client and the platform."""
        self.clients[held.client_id] = client_with_reservation(self.clients[held.client_id], held)
        self.platform = platform_with_reservation(self.platform, held)
        self.state.totals.update(totals_after(self.state.totals, [(held, 1)]))


async def _decide_all(
    conn: AsyncConnection,
    deps: Deps,
    checked: list[tuple[SignalRequest, str]],
    now: datetime,
    *,
    fit: bool,
    reserve: bool,
) -> list[Decision]:
    requests = [request for request, _ in checked]
    limits, _ = await platform_db.get_limits(conn, lock=reserve)
    client_ids = sorted({r.client_id for r in requests})
    state = await load_batch_state(
        conn,
        client_ids=client_ids,
        signal_ids=sorted({r.signal_id for r in requests}),
        day=deps.calendar.day_of(now),
        now=now,
        with_prior=reserve,
    )
    profiles: dict[str, RiskProfile] = state.profiles
    if reserve:
        await reservations.sweep_expired(conn, now, expired=state.expired, totals=state.totals)
        state.expired = []
        fresh = [
            c
            for c in sorted({r.client_id for r in requests if r.signal_id not in state.prior})
            if c not in profiles
        ]
        profiles.update(await ensure_clients(conn, fresh, at=now))
    guards = await load_guards(conn, client_ids, deps.calendar.week_of(now), now)
    buckets: dict[str, RateBucket] = {}
    live = live_reservations(state.totals, state.expired)
    book = _Book(
        limits,
        state,
        platform_snapshot(
            limits, state.platform_books, state.catalog, live, state.platform_realized
        ),
        {},
    )
    answers: list[Decision] = []
    decided: dict[str, int] = {}  # signal id → index of its first answer in this batch
    stored: list[Stored] = []
    held_all: list[Reservation] = []
    for index, (request, fingerprint) in enumerate(checked):
        if reserve:
            prior = state.prior.get(request.signal_id)
            if prior is not None:
                decision, stored_fingerprint = prior
                if stored_fingerprint != fingerprint:
                    raise Conflict(
                        f"signal {request.signal_id} was already checked with other values"
                    )
                answers.append(decision)
                continue
            first = decided.get(request.signal_id)
            if first is not None:
                answers.append(answers[first])
                continue
        profile = profiles.get(request.client_id) or default_profile(request.client_id, now)
        client = book.client(request.client_id)
        try:
            instrument = known_instrument(state.catalog.get(request.symbol), request.symbol)
            decision, held = assess(
                request,
                instrument,
                profile,
                limits,
                client,
                book.platform,
                state.catalog,
                now,
                guards=guards[request.client_id],
                fit=fit,
                hold_for=deps.reservation_ttl if reserve else None,
            )
        except BadInput as error:
            raise _prefixed(error, index) from error
        bucket = spent(profile.protections, guards[request.client_id].bucket, now)
        if reserve and bucket is not None:
            # As one by one: every reserving check spends, and the next sees what is left.
            buckets[request.client_id] = bucket
            guards[request.client_id] = replace(guards[request.client_id], bucket=bucket)
        if reserve:
            if held is not None:
                book.reserve(held)
                held_all.append(held)
            decided[request.signal_id] = index
            stored.append(Stored(decision, fingerprint, request.symbol, request.direction.value))
        answers.append(decision)
    if not reserve:
        return answers
    ids = await save_batch(conn, stored, held_all, state.totals)
    await save_buckets(conn, buckets)
    return [
        a if a.decision_id is not None else replace(a, decision_id=ids[a.signal_id])
        for a in answers
    ]
