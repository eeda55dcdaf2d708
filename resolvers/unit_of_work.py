"""One unit of work for writers that can raise alerts: write, commit, then publish.

Alerts are stored inside the writer's transaction; they are pushed to subscribers only after
it committed, so a subscriber never sees an alert whose data was rolled back. A transaction
that is retried starts from a fresh `Written`, so alerts of a lost attempt are never published.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from domain.breakers import Alert
from resolvers.deps import Deps

log = logging.getLogger("riskgate.breakers")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Written(Generic[T]):
    """What a write transaction produced, and the alerts it stored."""

    value: T
    alerts: Sequence[Alert] = ()


async def publish(deps: Deps, alerts: Sequence[Alert]) -> None:
    """Push committed alerts to subscribers. Never fails the caller: they are stored already."""
    if not alerts:
        return
    try:
        await deps.publish(alerts)
    except Exception:
        log.warning("publishing %d alert(s) failed; they are stored", len(alerts), exc_info=True)


async def write_then_publish(
    deps: Deps, work: Callable[[AsyncConnection], Awaitable[Written[T]]]
) -> T:
    """Run `work` in one write transaction; publish its alerts once it has committed."""
    written = await deps.db.write(work)
    await publish(deps, written.alerts)
    return written.value
