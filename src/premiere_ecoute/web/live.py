"""Live updates over SSE. One hub per web process follows the broker's ``live`` topic once
(``sessions.live`` announces a session there after each commit that changed it) and serves
every local stream from it: for each topic with local listeners it coalesces bursts
(100 ms), builds the view once and fans it out.

Topics: ``session:<id>`` (control page, API) and ``streamer:<user id>`` (the public page and
the overlay, which follow whichever session of the streamer is active)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from premiere_ecoute.core.broker import Broker, Subscription
from premiere_ecoute.core.kernel import Kernel
from premiere_ecoute.sessions.live import LIVE_TOPIC
from premiere_ecoute.sessions.queries import live_view
from premiere_ecoute.telemetry.metrics import Metrics
from premiere_ecoute.web.presence import Presence

log = structlog.get_logger(__name__)
Loader = Callable[[str], Awaitable[dict[str, Any]]]
Client = asyncio.Queue[dict[str, Any] | None]


def live_views(kernel: Kernel) -> Loader:
    """The hub's loader: what a topic's streams show (``sessions.queries.live_view``)."""

    async def load(topic: str) -> dict[str, Any]:
        kind, _, ident = topic.partition(":")
        key = "session_id" if kind == "session" else "streamer_id"
        async with kernel.db.session() as s:
            return await live_view(s, **{key: int(ident)}, now=kernel.clock.now())

    return load


@dataclass
class _Topic:
    clients: set[Client] = field(default_factory=set)
    dirty: asyncio.Event = field(default_factory=asyncio.Event)
    owner: int | None = None  # the streamer of the session it shows, once known
    flusher: asyncio.Task[None] | None = None


class LiveHub:
    def __init__(
        self,
        broker: Broker,
        loader: Loader,
        metrics: Metrics,
        stopping: asyncio.Event,
        *,
        coalesce_s: float = 0.1,
        max_stream_s: float = 3600.0,
    ) -> None:
        self._broker = broker
        self._loader = loader
        self._metrics = metrics
        self._stopping = stopping
        self._coalesce_s = coalesce_s
        self.max_stream_s = max_stream_s
        self._topics: dict[str, _Topic] = {}
        self._router: asyncio.Task[None] | None = None
        self.presence = Presence(broker, on_change=self._presence_changed)
        self._chores: set[asyncio.Task[None]] = set()

    def connected(self, topic: str) -> int:
        state = self._topics.get(topic)
        return len(state.clients) if state else 0

    def count(self, topic: str, kind: str) -> int:
        """Streams of one kind (e.g. overlays) open for a topic, on every web process."""
        return self.presence.count(topic, kind)

    def _ensure_routing(self) -> None:
        if self._router is None or self._router.done():
            sub = self._broker.subscribe(LIVE_TOPIC)
            self._router = asyncio.create_task(self._route(sub), name="live.router")

    async def _route(self, sub: Subscription) -> None:
        try:
            while True:
                message = await sub.get()
                if message.get("resync"):
                    # The broker lost its connection a moment: messages may be missing.
                    for state in self._topics.values():
                        state.dirty.set()
                    continue
                session_id, user_id = message.get("session_id"), message.get("user_id")
                self._mark(f"session:{session_id}")
                if user_id is not None:
                    self._mark(f"streamer:{user_id}")
        finally:
            sub.close()

    def _mark(self, topic: str) -> None:
        state = self._topics.get(topic)
        if state is not None:
            state.dirty.set()

    def _presence_changed(self, topic: str, kind: str) -> None:
        """An overlay came or went: the control pages of that streamer's session show the
        count of connected overlays."""
        if kind != "overlay" or not topic.startswith("streamer:"):
            return
        owner = int(topic.partition(":")[2])
        for name, state in self._topics.items():
            if name.startswith("session:") and state.owner == owner:
                state.dirty.set()

    async def _load(self, topic: str, state: _Topic) -> dict[str, Any]:
        view = await self._loader(topic)
        session = view.get("session")
        state.owner = session.get("user_id") if isinstance(session, dict) else None
        view["overlays"] = (
            self.count(f"streamer:{state.owner}", "overlay") if state.owner is not None else 0
        )
        return view

    async def _flush(self, topic: str, state: _Topic) -> None:
        while True:
            await state.dirty.wait()
            await asyncio.sleep(self._coalesce_s)  # let a burst settle
            state.dirty.clear()
            try:
                view = await self._load(topic, state)
            except Exception:
                log.exception("live.snapshot.failed", topic=topic)
                continue
            for q in list(state.clients):
                if q.full():
                    with contextlib.suppress(asyncio.QueueEmpty):
                        q.get_nowait()
                q.put_nowait(view)

    async def events(self, topic: str, kind: str) -> AsyncIterator[dict[str, str]]:
        """SSE events for one client: a full snapshot first, then updates until shutdown."""
        q: Client = asyncio.Queue(maxsize=4)
        self._ensure_routing()
        state = self._topics.setdefault(topic, _Topic())
        state.clients.add(q)
        if state.flusher is None or state.flusher.done():
            state.flusher = asyncio.create_task(self._flush(topic, state), name=f"live:{topic}")
        gauge = self._metrics.sse_clients.labels(kind)
        gauge.inc()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_stream_s
        try:
            await self.presence.change(topic, kind, +1)
            # Registered before the snapshot is read: no update can fall in between.
            yield {"event": "snapshot", "data": json.dumps(await self._load(topic, state))}
            while not self._stopping.is_set() and loop.time() < deadline:
                getter = asyncio.ensure_future(q.get())
                stopper = asyncio.ensure_future(self._stopping.wait())
                done, _ = await asyncio.wait(
                    {getter, stopper}, timeout=15, return_when=asyncio.FIRST_COMPLETED
                )
                stopper.cancel()
                if getter not in done:
                    getter.cancel()
                    if not done:
                        yield {"event": "ping", "data": "{}"}
                    continue
                view = getter.result()
                if view is None:
                    break
                yield {"event": "update", "data": json.dumps(view)}
        finally:
            # No await before the clean-up: a client that goes away cancels this generator,
            # and a cancelled await would skip the rest.
            gauge.dec()
            state.clients.discard(q)
            if not state.clients and self._topics.get(topic) is state:
                del self._topics[topic]
                if state.flusher is not None:
                    state.flusher.cancel()
            self._in_background(self._departed(topic, kind))

    async def _departed(self, topic: str, kind: str) -> None:
        with contextlib.suppress(Exception):
            await self.presence.change(topic, kind, -1)

    def _in_background(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    async def close(self) -> None:
        await self.presence.close()
        for state in self._topics.values():
            for q in state.clients:
                with contextlib.suppress(asyncio.QueueFull):
                    q.put_nowait(None)
            if state.flusher is not None:
                state.flusher.cancel()
        if self._router is not None:
            self._router.cancel()
