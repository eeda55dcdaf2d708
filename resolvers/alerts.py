"""Breaker alerts: the stored list, and the live stream a subscription follows."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime

from db import alerts as alerts_db
from domain.access import Caller
from domain.breakers import Alert, FeedGap, alert_scope, visible
from domain.errors import RiskUnavailable
from domain.values import validate_page_limit
from resolvers.deps import Deps

log = logging.getLogger("riskgate.alerts")

MAX_ALERTS = 1000
# A subscriber catching up after a gap reads at most this many stored alerts at once.
CATCH_UP_LIMIT = 1000


async def list_alerts(
    deps: Deps, caller: Caller, client_id: str | None, *, limit: int
) -> list[Alert]:
    """Newest first. A client reads its own; service and admin any client, or all (None)."""
    scope = alert_scope(caller, client_id)
    validate_page_limit(limit, MAX_ALERTS)
    return await deps.db.read(lambda conn: alerts_db.list_alerts(conn, scope, limit=limit))


class _RecentIds:
    """Ids already delivered to one subscriber (bounded), so a catch-up never repeats one."""

    def __init__(self, size: int = 10_000) -> None:
        self._order: deque[int] = deque()
        self._ids: set[int] = set()
        self._size = size

    def add(self, alert_id: int) -> bool:
        """True the first time an id is seen."""
        if alert_id in self._ids:
            return False
        self._ids.add(alert_id)
        self._order.append(alert_id)
        if len(self._order) > self._size:
            self._ids.discard(self._order.popleft())
        return True


def watch_alerts(deps: Deps, caller: Caller, client_id: str | None) -> AsyncIterator[Alert]:
    """Alerts raised from now on that the caller may see, as they are published.

    Authorization happens here, before the stream starts; the stream opens a database
    session only to catch up after a gap, and closes its subscription when it is closed."""
    scope = alert_scope(caller, client_id)
    if deps.subscribe is None:
        raise RiskUnavailable("live alerts are not available here")
    return _stream(deps, scope, deps.now())


async def _stream(deps: Deps, scope: str | None, started: datetime) -> AsyncGenerator[Alert, None]:
    assert deps.subscribe is not None
    seen = _RecentIds()
    try:
        async with deps.subscribe() as feed:
            async for item in feed:
                if isinstance(item, FeedGap):
                    for alert in await _catch_up(deps, scope, max(item.since, started)):
                        if seen.add(alert.id):
                            yield alert
                elif visible(item, scope) and seen.add(item.id):
                    yield item
    finally:
        log.debug("alert subscription closed (scope %s)", scope or "all")


async def _catch_up(deps: Deps, scope: str | None, since: datetime) -> list[Alert]:
    """Stored alerts the live feed may have missed; a failure only delays them."""
    try:
        return await deps.db.read(
            lambda conn: alerts_db.alerts_since(conn, scope, since, limit=CATCH_UP_LIMIT)
        )
    except RiskUnavailable:
        log.warning("could not catch up on missed alerts: the database is unavailable")
        return []
