"""How many live streams (overlays, control pages...) are open, across every web process.

Each process counts its own streams and tells the others through the broker whenever a count
changes, and again every ``refresh_s`` so a process that died is forgotten after ``ttl_s``."""

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


class Presence:
    def __init__(
        self,
        broker: Broker,
        *,
        process_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        ttl_s: float = 60.0,
        refresh_s: float = 20.0,
        on_change: Callable[[str, str], None] | None = None,
    ) -> None:
        self._broker = broker
        self.process_id = process_id or f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self._clock = clock
        self._ttl_s = ttl_s
        self._refresh_s = refresh_s
        self._local: dict[tuple[str, str], int] = {}
        self._remote: dict[tuple[str, str], dict[str, tuple[int, float]]] = {}
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

    async def change(self, topic: str, kind: str, delta: int) -> None:
        self._ensure_started()
        key = (topic, kind)
        self._local[key] = max(0, self._local.get(key, 0) + delta)
        self._changed(key)
        await self._tell(key)

    async def _tell(self, key: tuple[str, str]) -> None:
        await self._broker.publish(
            TOPIC, {"p": self.process_id, "t": key[0], "k": key[1], "n": self._local.get(key, 0)}
        )

    def _ensure_started(self) -> None:
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._listen(), name="presence.listen"),
            asyncio.create_task(self._refresh(), name="presence.refresh"),
        ]

    def receive(self, message: dict[str, Any]) -> None:
        try:
            key = (str(message["t"]), str(message["k"]))
            process, count = str(message["p"]), int(message["n"])
        except (KeyError, TypeError, ValueError):
            return
        if process == self.process_id:
            return
        known = self._remote.setdefault(key, {})
        before = known.get(process, (None, 0.0))[0]
        known[process] = (count, self._clock() + self._ttl_s)
        if before != count:
            self._changed(key)

    def _changed(self, key: tuple[str, str]) -> None:
        if self._on_change is not None:
            self._on_change(*key)

    async def _listen(self) -> None:
        sub = self._broker.subscribe(TOPIC)
        try:
            while True:
                self.receive(await sub.get())
        finally:
            sub.close()

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_s)
            for key, count in list(self._local.items()):
                if count:
                    with contextlib.suppress(Exception):
                        await self._tell(key)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
