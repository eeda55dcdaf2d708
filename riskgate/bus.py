"""The alert bus: in-process without Redis; Redis pub/sub across processes with it.

Alerts are stored before they are published, so the bus is a delivery path, never the
record. With Redis:
- `publish` hands alerts to this process's subscribers at once and queues them for Redis; a
  background sender publishes the queue in order and retries while Redis is down, so a request
  never waits for (or fails because of) Redis;
- one listener per process receives every other process's alerts and fans them out to local
  subscribers; when it reconnects after losing Redis it tells them where the gap started, and
  they catch up from the stored alerts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from domain.breakers import Alert, FeedGap
from domain.values import AlertLevel
from resolvers.deps import AlertBus, FeedItem
from riskgate.observability import note_alerts

log = logging.getLogger("riskgate.bus")

SUBSCRIBER_QUEUE = 1000
OUTBOX_LIMIT = 10_000
# Catch-up after a reconnect starts this long before the connection was seen lost.
GAP_MARGIN = timedelta(seconds=30)
MAX_BACKOFF = 5.0


def alert_to_json(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "clientId": alert.client_id,
        "kind": alert.kind,
        "level": alert.level.value,
        "previousLevel": alert.previous_level.value,
        "value": str(alert.value),
        "limit": str(alert.limit),
        "message": alert.message,
        "createdAt": alert.created_at.isoformat(),
    }


def alert_from_json(data: dict[str, Any]) -> Alert:
    return Alert(
        id=int(data["id"]),
        client_id=data["clientId"],
        kind=str(data["kind"]),
        level=AlertLevel(data["level"]),
        previous_level=AlertLevel(data["previousLevel"]),
        value=Decimal(data["value"]),
        limit=Decimal(data["limit"]),
        message=str(data["message"]),
        created_at=datetime.fromisoformat(data["createdAt"]),
    )


class _Subscriber:
    """One subscription's queue. When it overflows, the oldest missed instant is kept and
    handed out as a gap once the queue drains, so a slow reader catches up from storage."""

    def __init__(self, size: int) -> None:
        self._items: deque[Alert] = deque()
        self._size = size
        self._ready = asyncio.Event()
        self._gap: datetime | None = None

    def push(self, item: FeedItem) -> None:
        if isinstance(item, FeedGap):
            self._note_gap(item.since)
        elif len(self._items) >= self._size:
            self._note_gap(item.created_at - GAP_MARGIN)
        else:
            self._items.append(item)
        self._ready.set()

    def _note_gap(self, since: datetime) -> None:
        self._gap = since if self._gap is None else min(self._gap, since)

    def __aiter__(self) -> _Subscriber:
        return self

    async def __anext__(self) -> FeedItem:
        while True:
            if self._items:
                return self._items.popleft()
            if self._gap is not None:
                gap, self._gap = self._gap, None
                return FeedGap(gap)
            self._ready.clear()
            await self._ready.wait()


class _Fanout:
    """This process's subscribers."""

    def __init__(self) -> None:
        self._subscribers: set[_Subscriber] = set()

    def deliver(self, item: FeedItem) -> None:
        for subscriber in self._subscribers:
            subscriber.push(item)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[FeedItem]]:
        subscriber = _Subscriber(SUBSCRIBER_QUEUE)
        self._subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)

    @property
    def count(self) -> int:
        return len(self._subscribers)


class InProcessBus:
    """One process: publish hands alerts straight to its subscribers."""

    def __init__(self) -> None:
        self._fanout = _Fanout()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def publish(self, alerts: Sequence[Alert]) -> None:
        note_alerts(alerts)
        for alert in alerts:
            self._fanout.deliver(alert)

    def subscribe(self) -> contextlib.AbstractAsyncContextManager[AsyncIterator[FeedItem]]:
        return self._fanout.subscribe()

    @property
    def subscribers(self) -> int:
        """Open subscriptions in this process."""
        return self._fanout.count


class RedisBus:
    """Alerts cross processes through one Redis pub/sub channel."""

    def __init__(self, url: str, channel: str, *, listen: bool = True) -> None:
        self.channel = channel
        self.origin = uuid.uuid4().hex
        self._listen = listen
        self._redis: Redis = Redis.from_url(
            url,
            socket_connect_timeout=2,
            socket_timeout=5,
            health_check_interval=5,
        )
        self._fanout = _Fanout()
        self._outbox: deque[str] = deque()
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._tasks: list[asyncio.Task[None]] = []
        self.connected = asyncio.Event()  # the listener is subscribed (tests and readiness)

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._send_loop(), name="alert-bus-sender"))
        if self._listen:
            self._tasks.append(asyncio.create_task(self._listen_loop(), name="alert-bus-listener"))

    async def close(self, *, flush_timeout: float = 2.0) -> None:
        """Stop listening; give queued alerts a moment to leave; release the connections."""
        if self._outbox and self._tasks:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(flush_timeout):
                    await self._drained.wait()
        if self._outbox:
            log.warning("%d alert message(s) not published before shutdown", len(self._outbox))
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self._redis.aclose()

    async def publish(self, alerts: Sequence[Alert]) -> None:
        if not alerts:
            return
        note_alerts(alerts)
        for alert in alerts:
            self._fanout.deliver(alert)
        message = json.dumps(
            {"origin": self.origin, "alerts": [alert_to_json(a) for a in alerts]},
            separators=(",", ":"),
        )
        if len(self._outbox) >= OUTBOX_LIMIT:
            self._outbox.popleft()
            log.warning("alert outbox full while Redis is unreachable: dropped the oldest")
        self._outbox.append(message)
        self._drained.clear()
        self._wake.set()

    def subscribe(self) -> contextlib.AbstractAsyncContextManager[AsyncIterator[FeedItem]]:
        return self._fanout.subscribe()

    @property
    def subscribers(self) -> int:
        """Open subscriptions in this process."""
        return self._fanout.count

    async def _send_loop(self) -> None:
        delay = 0.1
        failing = False
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._outbox:
                try:
                    await self._redis.publish(self.channel, self._outbox[0])
                except (RedisConnectionError, RedisTimeoutError, OSError) as error:
                    if not failing:
                        log.warning(
                            "cannot publish alerts to Redis (%s); retrying, %d queued",
                            type(error).__name__,
                            len(self._outbox),
                        )
                        failing = True
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, MAX_BACKOFF)
                    continue
                except RedisError:
                    log.exception("Redis refused an alert message; dropped it")
                self._outbox.popleft()
                if failing:
                    log.info("publishing alerts to Redis again")
                    failing = False
                delay = 0.1
            self._drained.set()

    async def _listen_loop(self) -> None:
        delay = 0.1
        lost_at: datetime | None = None
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                if lost_at is not None:
                    log.info("alert feed reconnected to Redis; subscribers catch up")
                    self._fanout.deliver(FeedGap(lost_at - GAP_MARGIN))
                    lost_at = None
                delay = 0.1
                self.connected.set()
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None:
                        self._receive(message.get("data"))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: reconnect, never die
                self.connected.clear()
                if lost_at is None:
                    lost_at = datetime.now(UTC)
                    log.warning("alert feed lost Redis (%s); reconnecting", type(error).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _receive(self, data: object) -> None:
        try:
            body = json.loads(data if isinstance(data, str | bytes) else b"")
            if body.get("origin") == self.origin:
                return  # already handed to local subscribers when published
            alerts = [alert_from_json(item) for item in body["alerts"]]
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("ignored a malformed message on %s", self.channel)
            return
        for alert in alerts:
            self._fanout.deliver(alert)


def make_bus(redis_url: str | None, channel: str, *, listen: bool = True) -> AlertBus:
    """Redis pub/sub when a Redis URL is configured, else in-process."""
    if redis_url:
        return RedisBus(redis_url, channel, listen=listen)
    return InProcessBus()
