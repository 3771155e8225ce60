"""Publish/subscribe by topic, across processes.

Adapters: PostgreSQL LISTEN/NOTIFY (default), Redis pub/sub (when REDIS_URL is set), and
in-memory (tests, single process). Each transport carries every topic on one channel and
fans out locally, so a process holds one connection however many topics it follows. Every
payload carries a unique id: identical NOTIFYs in one transaction would otherwise collapse.

Redis pub/sub channels are global to a Redis server (database numbers do not separate them),
so the Redis channel is namespaced per instance: ``BROKER_PREFIX``, by default derived from
the database the instance uses. PostgreSQL NOTIFY channels are already per database, and the
processes of one instance share one database: its channel needs no prefix."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol
from urllib.parse import urlsplit

import structlog

log = structlog.get_logger(__name__)
CHANNEL = "premiere_ecoute"
MAX_PAYLOAD = 7900  # PostgreSQL refuses NOTIFY payloads of 8000 bytes or more


def default_prefix(database_url: str) -> str:
    """The instance's name by default: its database, as ``name@host:port`` (the processes of
    one instance share it; two instances never do)."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/") or "postgres"
    host = parts.hostname or "local"
    port = parts.port or 5432
    return f"{name}@{host}:{port}"


def channel_for(prefix: str | None, database_url: str) -> str:
    """The Redis channel of an instance: ``premiere_ecoute:<prefix>``."""
    chosen = prefix if prefix else default_prefix(database_url)
    return f"{CHANNEL}:{re.sub(r'[^A-Za-z0-9_.:@/-]', '_', chosen)[:200]}"


class Subscription:
    """Messages of one topic; iterate with ``async for``. Slow readers drop the oldest."""

    def __init__(self, broker: _Fanout, topic: str, maxsize: int = 1000) -> None:
        self.topic = topic
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize)
        self._broker = broker

    def put(self, message: dict[str, Any]) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
        self.queue.put_nowait(message)

    async def get(self, timeout: float | None = None) -> dict[str, Any]:
        # asyncio.timeout, not wait_for: wait_for (3.11) may swallow a cancellation that
        # comes as a message arrives, and a loop reading a subscription would never stop.
        async with asyncio.timeout(timeout):
            return await self.queue.get()

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            yield await self.queue.get()

    def close(self) -> None:
        self._broker._remove(self)


class Broker(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, topic: str, data: dict[str, Any]) -> None: ...
    def subscribe(self, topic: str) -> Subscription: ...


class _Fanout:
    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = defaultdict(set)

    def subscribe(self, topic: str) -> Subscription:
        sub = Subscription(self, topic)
        self._subs[topic].add(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        self._subs.get(sub.topic, set()).discard(sub)

    def _deliver_raw(self, raw: str) -> None:
        try:
            envelope = json.loads(raw)
            topic, data = envelope["t"], envelope["d"]
        except (ValueError, KeyError, TypeError):
            log.warning("broker.message.malformed", raw=raw[:200])
            return
        for sub in list(self._subs.get(topic, ())):
            sub.put(data)

    def _resync(self) -> None:
        for subs in list(self._subs.values()):
            for sub in list(subs):
                sub.put({"resync": True})

    @staticmethod
    def _encode(topic: str, data: dict[str, Any]) -> str:
        raw = json.dumps({"t": topic, "id": uuid.uuid4().hex, "d": data}, separators=(",", ":"))
        if len(raw.encode()) > MAX_PAYLOAD:
            raise ValueError(f"broker payload too large ({len(raw)} bytes) for topic {topic}")
        return raw


class InMemoryBroker(_Fanout):
    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, topic: str, data: dict[str, Any]) -> None:
        self._deliver_raw(self._encode(topic, data))


class PostgresBroker(_Fanout):
    """LISTEN on one dedicated autocommit connection; NOTIFY from another."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._listen_conn: Any = None
        self._notify_conn: Any = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen_forever(), name="broker.pg.listen")
        await asyncio.wait_for(self._ready.wait(), 15)

    async def _listen_forever(self) -> None:
        import psycopg

        delay = 0.5
        while True:
            try:
                self._listen_conn = await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True
                )
                await self._listen_conn.execute(f"LISTEN {CHANNEL}")
                if self._ready.is_set():
                    # Reconnected: whatever was published meanwhile is lost, so every
                    # subscriber is told to reload what it shows.
                    self._resync()
                self._ready.set()
                delay = 0.5
                async for note in self._listen_conn.notifies():
                    self._deliver_raw(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("broker.pg.listen.lost", error=str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def publish(self, topic: str, data: dict[str, Any]) -> None:
        import psycopg

        raw = self._encode(topic, data)
        async with self._lock:
            for attempt in (1, 2):
                try:
                    if self._notify_conn is None or self._notify_conn.closed:
                        self._notify_conn = await psycopg.AsyncConnection.connect(
                            self._url, autocommit=True
                        )
                    await self._notify_conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, raw))
                    return
                except psycopg.OperationalError:
                    self._notify_conn = None
                    if attempt == 2:
                        raise

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for conn in (self._listen_conn, self._notify_conn):
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()


class RedisBroker(_Fanout):
    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        self._url = url
        self.channel = channel
        self._client: Any = None
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        import redis.asyncio as redis

        self._client = redis.from_url(self._url, decode_responses=True)
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(self.channel)
        self._task = asyncio.create_task(self._listen(), name="broker.redis.listen")

    async def _listen(self) -> None:
        while True:
            try:
                msg = await self._pubsub.get_message(timeout=1.0)
                if msg and msg.get("type") == "message":
                    self._deliver_raw(msg["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("broker.redis.listen.error", error=str(exc))
                await asyncio.sleep(1)

    async def publish(self, topic: str, data: dict[str, Any]) -> None:
        await self._client.publish(self.channel, self._encode(topic, data))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.aclose()
