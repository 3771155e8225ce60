"""How many live streams (overlays, control pages...) are open, across every web process.

Each process counts its own streams. A stream that opens or closes only moves a local
counter; the counts that changed are told to the other processes at most every
``announce_s`` in one broker message, and all of them again every ``refresh_s``, so a process
that died is forgotten after ``ttl_s``. A thousand viewers arriving at once cost a handful of
messages, not a thousand."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import structlog

from premiere_ecoute.core.broker import Broker

log = structlog.get_logger(__name__)
TOPIC = "presence"
Key = tuple[str, str]  # (topic, kind)


class Presence:
    def __init__(
        self,
        broker: Broker,
        *,
        process_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        ttl_s: float = 60.0,
        refresh_s: float = 20.0,
        announce_s: float = 0.5,
        on_change: Callable[[str, str], None] | None = None,
    ) -> None:
        self._broker = broker
        self.process_id = process_id or f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self._clock = clock
        self._ttl_s = ttl_s
        self._refresh_s = refresh_s
        self._announce_s = announce_s
        self._local: dict[Key, int] = {}
        self._remote: dict[Key, dict[str, tuple[int, float]]] = {}
        self._unsaid: set[Key] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._on_change = on_change

    def count(self, topic: str, kind: str) -> int:
        now = self._clock()
        others = self._remote.get((topic, kind), {})
        return self._local.get((topic, kind), 0) + sum(
            n
            for process, (n, expires) in others.items()
            if expires > now and process != self.process_id
        )

    def change(self, topic: str, kind: str, delta: int) -> None:
        """A local stream opened (+1) or closed (-1): no I/O here."""
        self._ensure_started()
        key = (topic, kind)
        count = max(0, self._local.get(key, 0) + delta)
        if count:
            self._local[key] = count
        else:
            self._local.pop(key, None)
        self._unsaid.add(key)
        self._wake.set()
        self._changed(key)

    def _ensure_started(self) -> None:
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._listen(), name="presence.listen"),
            asyncio.create_task(self._announce(), name="presence.announce"),
        ]

    async def _tell(self, keys: set[Key]) -> None:
        counts = [[topic, kind, self._local.get((topic, kind), 0)] for topic, kind in keys]
        # Split to stay below the broker's payload limit (a process may count many topics).
        for start in range(0, len(counts), 100):
            await self._broker.publish(
                TOPIC, {"p": self.process_id, "c": counts[start : start + 100]}
            )

    async def _announce(self) -> None:
        loop = asyncio.get_running_loop()
        refresh_at = loop.time() + self._refresh_s
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, refresh_at - loop.time())):
                    await self._wake.wait()
            self._wake.clear()
            if loop.time() >= refresh_at:
                self._unsaid |= set(self._local)
                refresh_at = loop.time() + self._refresh_s
            keys, self._unsaid = self._unsaid, set()
            if keys:
                try:
                    await self._tell(keys)
                except Exception:
                    log.warning("presence.tell_failed", exc_info=True)
                    self._unsaid |= keys
            await asyncio.sleep(self._announce_s)

    def receive(self, message: dict[str, Any]) -> None:
        process = message.get("p")
        counts = message.get("c")
        if not isinstance(process, str) or process == self.process_id:
            return
        if not isinstance(counts, list):
            return
        expires = self._clock() + self._ttl_s
        for item in counts:
            try:
                topic, kind, count = str(item[0]), str(item[1]), int(item[2])
            except (IndexError, TypeError, ValueError):
                continue
            key = (topic, kind)
            known = self._remote.setdefault(key, {})
            before = known.get(process, (None, 0.0))[0]
            known[process] = (count, expires)
            if before != count:
                self._changed(key)

    def _changed(self, key: Key) -> None:
        if self._on_change is not None:
            self._on_change(*key)

    async def _listen(self) -> None:
        sub = self._broker.subscribe(TOPIC)
        try:
            while True:
                self.receive(await sub.get())
        finally:
            sub.close()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
