"""Live updates over SSE. One hub per process: for each topic with local listeners it follows
the broker once, coalesces bursts (100 ms), builds the snapshot once and fans it out.

Topics: ``session:<id>`` (control page, public page, API) and ``streamer:<user id>`` (the
overlay, which follows whichever session of the streamer is active)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import structlog

from premiere_ecoute.core.broker import Subscription
from premiere_ecoute.web.presence import Presence

if TYPE_CHECKING:
    from premiere_ecoute.bootstrap import Container

log = structlog.get_logger(__name__)
Loader = Callable[[str], Awaitable[dict[str, Any]]]


class LiveHub:
    def __init__(
        self,
        container: Container,
        loader: Loader,
        *,
        coalesce_s: float = 0.1,
        max_stream_s: float = 3600.0,
    ) -> None:
        self._c = container
        self._loader = loader
        self._coalesce_s = coalesce_s
        self.max_stream_s = max_stream_s
        self._clients: dict[str, set[asyncio.Queue[dict[str, Any] | None]]] = {}
        self._followers: dict[str, asyncio.Task[None]] = {}
        self.presence = Presence(container.broker)
        self._chores: set[asyncio.Task[None]] = set()
        self.on_presence: Callable[[str], Awaitable[None]] | None = None

    def connected(self, topic: str) -> int:
        return len(self._clients.get(topic, ()))

    async def _announce(self, topic: str) -> None:
        """A stream opened or closed: pages showing counts of connected streams refresh."""
        await self._c.broker.publish(topic, {"presence": True})
        if self.on_presence is not None:
            await self.on_presence(topic)

    def count(self, topic: str, kind: str) -> int:
        """Streams of one kind (e.g. overlays) open for a topic, on every web process."""
        return self.presence.count(topic, kind)

    async def _follow(self, topic: str, sub: Subscription) -> None:
        try:
            while True:
                self._remember(await sub.get())
                await asyncio.sleep(self._coalesce_s)  # let a burst settle
                while not sub.queue.empty():
                    self._remember(sub.queue.get_nowait())
                try:
                    snap = await self._loader(topic)
                except Exception:
                    log.exception("live.snapshot.failed", topic=topic)
                    continue
                for q in list(self._clients.get(topic, ())):
                    if q.full():
                        with contextlib.suppress(asyncio.QueueEmpty):
                            q.get_nowait()
                    q.put_nowait(snap)
        finally:
            sub.close()

    async def events(self, topic: str, kind: str) -> AsyncIterator[dict[str, str]]:
        """SSE events for one client: a full snapshot first, then updates until shutdown."""
        q: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=4)
        self._clients.setdefault(topic, set()).add(q)
        if topic not in self._followers or self._followers[topic].done():
            # Subscribed before the snapshot is read: no update can fall in between.
            sub = self._c.broker.subscribe(topic)
            follower = asyncio.create_task(self._follow(topic, sub), name=f"live:{topic}")
            follower.add_done_callback(functools.partial(_close_subscription, sub))
            self._followers[topic] = follower
        gauge = self._c.metrics.sse_clients.labels(kind)
        gauge.inc()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_stream_s
        try:
            await self.presence.change(topic, kind, +1)
            await self._announce(topic)
            yield {"event": "snapshot", "data": json.dumps(await self._loader(topic))}
            stopping = self._c.stopping
            while not stopping.is_set() and loop.time() < deadline:
                getter = asyncio.ensure_future(q.get())
                stopper = asyncio.ensure_future(stopping.wait())
                done, _ = await asyncio.wait(
                    {getter, stopper}, timeout=15, return_when=asyncio.FIRST_COMPLETED
                )
                stopper.cancel()
                if getter not in done:
                    getter.cancel()
                    if not done:
                        yield {"event": "ping", "data": "{}"}
                    continue
                snap = getter.result()
                if snap is None:
                    break
                yield {"event": "update", "data": json.dumps(snap)}
        finally:
            # No await before the clean-up: a client that goes away cancels this generator,
            # and a cancelled await would skip the rest.
            gauge.dec()
            clients = self._clients.get(topic, set())
            clients.discard(q)
            if not clients:
                self._clients.pop(topic, None)
                task = self._followers.pop(topic, None)
                if task:
                    task.cancel()
            self._in_background(self._departed(topic, kind))

    async def _departed(self, topic: str, kind: str) -> None:
        with contextlib.suppress(Exception):
            await self.presence.change(topic, kind, -1)
            await self._announce(topic)

    def _in_background(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    def _remember(self, message: dict[str, Any]) -> None:
        """Player readings travel with session updates, so a process that does not run the
        session's player monitor still shows the player's progress."""
        player = message.get("player")
        session_id = message.get("session_id")
        if isinstance(player, dict) and isinstance(session_id, int):
            self._c.services.setdefault("player_status", {})[session_id] = player

    async def close(self) -> None:
        await self.presence.close()
        for clients in self._clients.values():
            for q in clients:
                with contextlib.suppress(asyncio.QueueFull):
                    q.put_nowait(None)
        for task in self._followers.values():
            task.cancel()


def _close_subscription(sub: Subscription, _done: asyncio.Task[None]) -> None:
    sub.close()  # also when the follower was cancelled before it ever ran


async def publish_session(container: Container, session_id: int, user_id: int | None) -> None:
    container.metrics.broadcasts.inc()
    message: dict[str, Any] = {"session_id": session_id}
    player = container.services.get("player_status", {}).get(session_id)
    if player is not None:
        message["player"] = player
    await container.broker.publish(f"session:{session_id}", message)
    if user_id is not None:
        await container.broker.publish(f"streamer:{user_id}", {"session_id": session_id})
