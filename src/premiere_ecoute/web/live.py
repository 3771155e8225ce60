"""Live updates over SSE, built for thousands of viewers per session.

One hub per web process follows the broker's ``live`` topic once (``sessions.live`` announces
a session there after each commit that changed it) and serves every local stream from it.
Per topic with local listeners it keeps the current view and its encoded snapshot:

- a stream that opens gets the cached snapshot bytes (the view is read from the database
  once for the first listener, not once per listener);
- a change is coalesced (at most one push per topic every ``coalesce_s``, the first one at
  once), the view read once, and only its top-level keys that changed are sent, encoded once
  and shared by every stream of the topic;
- viewers arriving and leaving only move a presence counter; the control pages of the
  streamer hear the new overlay count, nobody gets a snapshot for it;
- a stream whose client lags (its queue is full) gets a fresh snapshot instead of the
  updates it missed, so it never applies a delta to the wrong state;
- at shutdown every stream ends with a ``bye`` event carrying a ``retry`` hint, so clients
  reconnect to another process at once.

Dashboards follow no topic: ``following(streamer ids)`` streams a bare ``live-now`` event each
time one of those streamers starts or stops a session (the page then fetches its "Live now"
card again), and once on connect so nothing between the page and the stream is missed.

Topics: ``session:<id>`` (control page, API: the full view) and ``streamer:<user id>`` (the
public page and the overlay, which follow whichever session of the streamer is active: the
compact view, without the report, the session detail and the vote feed)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import anyio
import structlog
from sse_starlette.sse import AppStatus, EventSourceResponse
from starlette.types import Receive, Send

from premiere_ecoute.core.broker import Broker, Subscription
from premiere_ecoute.core.kernel import Kernel
from premiere_ecoute.sessions.live import LIVE_TOPIC
from premiere_ecoute.sessions.queries import REFRESH_KEY, live_view
from premiere_ecoute.telemetry.metrics import Metrics
from premiere_ecoute.web.presence import Presence

log = structlog.get_logger(__name__)
Loader = Callable[[str], Awaitable[dict[str, Any]]]
Frame = bytes | None  # None ends the stream
RECONNECT_MS = 500
CLIENT_QUEUE = 16
PING_S = 15.0
PUSH_SLICE = 500  # clients written between two turns of the event loop
PING = b": ping\r\n\r\n"
SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),
]
RETRY_AFTER = [(b"retry-after", b"5")]


class _Direct:
    """The writer of one plain audience stream. The flusher hands it each frame and the frame
    goes to the connection at once: ``send`` is started eagerly and, while the connection takes
    bytes without waiting (its write buffer is not full), it finishes without a task switch.
    An update thus reaches N viewers without waking N tasks (waking one task per viewer was
    half of the fan-out's time in the profile). When ``send`` has to wait, a task finishes it
    and then sends what arrived meanwhile, in order; the hub bounds that backlog as it bounds
    a queue (``full``, then a fresh snapshot). Frames wait until ``open`` (the snapshot sent).
    ``None`` ends the stream once what is pending went out."""

    __slots__ = ("_open", "_pending", "_send", "_sending", "ended")

    def __init__(self, send: Send) -> None:
        self._send = send
        self._pending: deque[bytes] = deque()
        self._sending: asyncio.Task[None] | None = None
        self._open = False
        self.ended = asyncio.Event()

    # The part of asyncio.Queue's surface the hub uses for every client.
    def full(self) -> bool:
        return len(self._pending) >= CLIENT_QUEUE

    def empty(self) -> bool:
        return not self._pending

    def get_nowait(self) -> Frame:
        return self._pending.popleft()

    def put_nowait(self, item: Frame) -> None:
        if self.ended.is_set():
            return
        if item is None:
            self.ended.set()
        elif self._open and self._sending is None and not self._pending:
            self._write(item)
        else:
            self._pending.append(item)

    def open(self) -> None:
        """The snapshot went out: frames go to the connection from now on."""
        self._open = True
        if self._pending and self._sending is None:
            self._sending = asyncio.create_task(self._finish(None))

    async def flushed(self) -> None:
        while self._sending is not None:
            await self._sending

    def close(self) -> None:
        if self._sending is not None:
            self._sending.cancel()

    def _write(self, item: bytes) -> None:
        coro = self._send({"type": "http.response.body", "body": item, "more_body": True})
        if not isinstance(coro, Coroutine):  # a server whose send is no coroutine: no shortcut
            self._sending = asyncio.create_task(self._finish(None, coro))
            return
        try:
            waiting = coro.send(None)
        except StopIteration:
            return  # written without waiting: the usual case
        except Exception:
            log.debug("live.stream.write_failed", exc_info=True)
            self.ended.set()
            return
        self._sending = asyncio.create_task(self._finish((coro, waiting)))

    async def _finish(
        self,
        started: tuple[Coroutine[Any, Any, None], Any] | None,
        other: Awaitable[None] | None = None,
    ) -> None:
        try:
            if started is not None:
                await _resume(*started)
            if other is not None:
                await other
            while self._pending:
                body = self._pending.popleft()
                await self._send({"type": "http.response.body", "body": body, "more_body": True})
        except Exception:
            log.debug("live.stream.write_failed", exc_info=True)
            self.ended.set()
        finally:
            self._sending = None


async def _resume(coro: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Drive a coroutine started by hand (``coro.send(None)`` returned ``waiting``) to its end,
    as a task would: wait for what it waits on, then step it again."""
    while True:
        try:
            if waiting is None:
                await asyncio.sleep(0)  # a bare yield: give the loop one turn
            else:
                # A task clears this flag before it waits on what a coroutine yielded; the
                # future refuses a second await while it is set.
                waiting._asyncio_future_blocking = False
                await waiting
        except asyncio.CancelledError:
            coro.close()
            raise
        except Exception:
            pass  # the coroutine reads the outcome of what it waited on itself
        try:
            waiting = coro.send(None)
        except StopIteration:
            return


Client = asyncio.Queue[Frame] | _Direct


def live_views(kernel: Kernel) -> Loader:
    """The hub's loader: what a topic's streams show (``sessions.queries.live_view``)."""

    async def load(topic: str) -> dict[str, Any]:
        kind, _, ident = topic.partition(":")
        now = kernel.clock.now()
        async with kernel.db.session() as s:
            if kind == "session":
                return await live_view(s, session_id=int(ident), now=now)
            return await live_view(s, streamer_id=int(ident), now=now, compact=True)

    return load


def frame(event: str, data: Any, *, retry_ms: int | None = None) -> bytes:
    text = f"event: {event}\r\ndata: {json.dumps(data, separators=(',', ':'))}\r\n"
    if retry_ms is not None:
        text += f"retry: {retry_ms}\r\n"
    return (text + "\r\n").encode()


BYE = frame("bye", {}, retry_ms=RECONNECT_MS)
LIVE_NOW = frame("live-now", {})


@dataclass(eq=False)
class _Topic:
    clients: set[Client] = field(default_factory=set)
    view: dict[str, Any] | None = None
    encoded: bytes | None = None  # the snapshot frame of ``view``, made when first needed
    loading: asyncio.Future[None] | None = None
    stale: bool = False  # the data changed: read the view again
    recount: bool = False  # only the presence count changed
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    flusher: asyncio.Task[None] | None = None
    owner: int | None = None  # the streamer of the session it shows, once known
    last_push: float = 0.0
    refresh: asyncio.TimerHandle | None = None  # a read the view asked for at a known time
    expiry: asyncio.TimerHandle | None = None  # reads the view again when a final scene ends


class LiveHub:
    def __init__(
        self,
        broker: Broker,
        loader: Loader,
        metrics: Metrics,
        *,
        coalesce_s: float = 0.1,
        max_stream_s: float = 3600.0,
    ) -> None:
        self._broker = broker
        self._loader = loader
        self._metrics = metrics
        self._coalesce_s = coalesce_s
        self.max_stream_s = max_stream_s
        self._topics: dict[str, _Topic] = {}
        # streamer id -> the queues of the dashboards following them
        self._followers: dict[int, set[asyncio.Queue[Frame]]] = {}
        self._router: asyncio.Task[None] | None = None
        self._watchers: list[asyncio.Task[None]] = []
        self.presence = Presence(broker, on_change=self._presence_changed)
        self.shutdown_event = anyio.Event()  # set by sse-starlette when the server stops

    def stream(self, topic: str, kind: str) -> EventSourceResponse:
        """The SSE response of one client of ``topic``."""
        return EventSourceResponse(
            self.events(topic, kind),
            ping=15,
            shutdown_event=self.shutdown_event,
            shutdown_grace_period=1.0,
        )

    def following(self, streamer_ids: set[int]) -> EventSourceResponse:
        """The SSE response of a dashboard: ``live-now`` when a followed streamer starts or
        stops a session."""
        return EventSourceResponse(
            self.follow_events(streamer_ids),
            ping=15,
            shutdown_event=self.shutdown_event,
            shutdown_grace_period=1.0,
        )

    async def follow_events(self, streamer_ids: set[int]) -> AsyncIterator[bytes]:
        self._ensure_running()
        # One pending notice is enough (the page fetches the whole card anyway); room for two
        # so that ``bye`` and the end fit at shutdown.
        q: asyncio.Queue[Frame] = asyncio.Queue(maxsize=2)
        for streamer_id in streamer_ids:
            self._followers.setdefault(streamer_id, set()).add(q)
        gauge = self._metrics.sse_clients.labels("dashboard")
        gauge.inc()
        try:
            yield LIVE_NOW
            while True:
                item = await q.get()
                if item is None:
                    break
                yield item
        finally:
            gauge.dec()
            for streamer_id in streamer_ids:
                queues = self._followers.get(streamer_id)
                if queues is not None:
                    queues.discard(q)
                    if not queues:
                        del self._followers[streamer_id]

    def _notify_followers(self, streamer_ids: list[int] | None) -> None:
        """``None``: all of them (the broker lost messages)."""
        if streamer_ids is None:
            targets = list(self._followers.values())
        else:
            targets = [self._followers.get(i, set()) for i in streamer_ids]
        for queues in targets:
            for q in queues:
                if q.empty():
                    q.put_nowait(LIVE_NOW)

    def connected(self, topic: str) -> int:
        state = self._topics.get(topic)
        return len(state.clients) if state else 0

    def count(self, topic: str, kind: str) -> int:
        """Streams of one kind (e.g. overlays) open for a topic, on every web process."""
        return self.presence.count(topic, kind)

    # Following the broker ------------------------------------------------------------------

    def _ensure_running(self) -> None:
        if self._router is None or self._router.done():
            sub = self._broker.subscribe(LIVE_TOPIC)
            self._router = asyncio.create_task(self._route(sub), name="live.router")
        if not self._watchers:
            self._watchers = [
                asyncio.create_task(self._farewell(), name="live.farewell"),
                asyncio.create_task(self._reap(), name="live.reaper"),
                asyncio.create_task(self._ping(), name="live.ping"),
            ]

    async def _route(self, sub: Subscription) -> None:
        try:
            while True:
                message = await sub.get()
                if message.get("resync"):
                    # The broker lost its connection a moment: messages may be missing.
                    for state in self._topics.values():
                        self._mark(state)
                    self._notify_followers(None)
                    continue
                session_id, user_id = message.get("session_id"), message.get("user_id")
                if message.get("lifecycle") and isinstance(user_id, int):
                    self._notify_followers([user_id])
                for name in (f"session:{session_id}", f"streamer:{user_id}"):
                    if (found := self._topics.get(name)) is not None:
                        self._mark(found)
        finally:
            sub.close()

    def _mark(self, state: _Topic, *, data: bool = True) -> None:
        if data:
            state.stale = True
        else:
            state.recount = True
        state.wake.set()

    def _presence_changed(self, topic: str, kind: str) -> None:
        """An overlay came or went: the control pages of that streamer's session show the
        count of connected overlays (a small update, never a snapshot)."""
        if kind != "overlay" or not topic.startswith("streamer:"):
            return
        owner = int(topic.partition(":")[2])
        for name, state in self._topics.items():
            if state.owner == owner and name.startswith("session:"):
                self._mark(state, data=False)

    # Views and frames ----------------------------------------------------------------------

    def _with_presence(self, topic: str, state: _Topic, view: dict[str, Any]) -> dict[str, Any]:
        """The control page (a session topic) shows how many overlays of its streamer are
        connected; the audience's views do not carry it."""
        refresh_in_s = view.pop(REFRESH_KEY, None)
        if refresh_in_s is not None:
            # What a delayed stream's audience hears changes then: read the view again.
            if state.refresh is not None:
                state.refresh.cancel()
            state.refresh = asyncio.get_running_loop().call_later(
                float(refresh_in_s), self._mark, state
            )
        session = view.get("session")
        state.owner = session.get("user_id") if isinstance(session, dict) else None
        self._expire_final_scene(state, view)
        if topic.startswith("session:"):
            owner = state.owner
            view["overlays"] = self.count(f"streamer:{owner}", "overlay") if owner else 0
        return view

    def _expire_final_scene(self, state: _Topic, view: dict[str, Any]) -> None:
        """A final scene (after a stop) lasts ``ends_in_s``: no commit marks its end, so the
        topic reads its view again then, and its streams go back to idle together."""
        if state.expiry is not None:
            state.expiry.cancel()
            state.expiry = None
        final = view.get("final")
        if isinstance(final, dict) and isinstance(final.get("ends_in_s"), int | float):
            state.expiry = asyncio.get_running_loop().call_later(
                float(final["ends_in_s"]) + 0.05, self._mark, state
            )

    async def _ensure_view(self, topic: str, state: _Topic) -> bytes:
        """The snapshot frame of the topic; the first listener's read serves the others."""
        if state.view is None:
            if state.loading is None:
                state.loading = asyncio.get_running_loop().create_future()
                try:
                    state.view = self._with_presence(topic, state, await self._loader(topic))
                    state.loading.set_result(None)
                except BaseException as exc:
                    state.loading.set_exception(exc)
                    state.loading.exception()  # retrieved: the waiting listeners get it
                    state.loading = None
                    raise
            else:
                await asyncio.shield(state.loading)
        if state.encoded is None:
            assert state.view is not None
            state.encoded = frame("snapshot", state.view)
        return state.encoded

    async def _flush(self, topic: str, state: _Topic) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await state.wake.wait()
            state.wake.clear()
            wait = state.last_push + self._coalesce_s - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)  # let a burst settle
                state.wake.clear()
            if state.view is None:
                continue  # the first listener's read is still under way
            stale, state.stale, state.recount = state.stale, False, False
            try:
                fresh = await self._loader(topic) if stale else dict(state.view)
            except Exception:
                log.exception("live.view.failed", topic=topic)
                continue
            fresh = self._with_presence(topic, state, fresh)
            delta = {k: v for k, v in fresh.items() if state.view.get(k) != v}
            delta.update({k: None for k in state.view if k not in fresh})
            if not delta:
                continue
            state.view, state.encoded = fresh, None
            state.last_push = loop.time()
            await self._push(state, frame("update", delta))

    async def _push(self, state: _Topic, update: bytes) -> None:
        """Hand ``update`` to every client, ``PUSH_SLICE`` at a time: between slices the loop
        answers webhooks and serves reads, so a fan-out to 10,000 viewers (about 0.1 s of
        writes) does not hold an acknowledgement for all of it."""
        clients = list(state.clients)
        for start in range(0, len(clients), PUSH_SLICE):
            if start:
                await asyncio.sleep(0)
            self._push_to(state, clients[start : start + PUSH_SLICE], update)

    def _push_to(self, state: _Topic, clients: list[Client], update: bytes) -> None:
        for q in clients:
            if q.full():
                # This client lags: drop what it missed and send it the current state.
                while not q.empty():
                    q.get_nowait()
                assert state.view is not None
                state.encoded = state.encoded or frame("snapshot", state.view)
                q.put_nowait(state.encoded)
            else:
                q.put_nowait(update)

    # Streams -------------------------------------------------------------------------------

    def _join(self, topic: str, kind: str, q: Client) -> _Topic:
        self._ensure_running()
        state = self._topics.get(topic)
        if state is None:
            state = self._topics[topic] = _Topic()
            state.flusher = asyncio.create_task(self._flush(topic, state), name=f"live:{topic}")
        state.clients.add(q)
        self.presence.change(topic, kind, +1)
        self._metrics.sse_clients.labels(kind).inc()
        return state

    def _leave(self, topic: str, kind: str, state: _Topic, q: Client) -> None:
        # No await here: a client that goes away cancels its task, and a cancelled await
        # would skip the rest.
        self._metrics.sse_clients.labels(kind).dec()
        state.clients.discard(q)
        self.presence.change(topic, kind, -1)
        if not state.clients and self._topics.get(topic) is state:
            del self._topics[topic]
            if state.flusher is not None:
                state.flusher.cancel()
            if state.refresh is not None:
                state.refresh.cancel()
            if state.expiry is not None:
                state.expiry.cancel()

    async def events(self, topic: str, kind: str) -> AsyncIterator[bytes]:
        """The SSE frames of one client: the snapshot, then updates until it leaves, the
        stream reaches ``max_stream_s`` or the server stops (``bye``)."""
        q: asyncio.Queue[Frame] = asyncio.Queue(maxsize=CLIENT_QUEUE)
        state = self._join(topic, kind, q)
        try:
            # Registered before the snapshot is read: no update can fall in between.
            yield await self._ensure_view(topic, state)
            while True:
                item = await q.get()
                if item is None:
                    break
                yield item
        finally:
            self._leave(topic, kind, state, q)

    async def serve(self, topic: str, kind: str, receive: Receive, send: Send) -> None:
        """One audience stream as a plain ASGI response: the frames go straight to the
        server's connection, through no middleware (with thousands of viewers, each wrapper
        around ``send`` costs once per viewer and update) and from the flusher itself
        (``_Direct``). Same frames as ``events``, a comment line as keep-alive every
        ``PING_S``; 503 when the first view cannot be read."""
        sink = _Direct(send)
        state = self._join(topic, kind, sink)
        task = asyncio.current_task()
        assert task is not None
        watcher: asyncio.Task[None] | None = None
        try:
            try:
                snapshot = await self._ensure_view(topic, state)
            except Exception:
                log.warning("live.snapshot.failed", topic=topic, exc_info=True)
                await _plain(send, 503, b"live view unavailable, retry later", RETRY_AFTER)
                return
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
            await send({"type": "http.response.body", "body": snapshot, "more_body": True})
            watcher = asyncio.create_task(_cancel_on_disconnect(receive, task))
            sink.open()
            await sink.ended.wait()
            await sink.flushed()
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if watcher is None or not watcher.done():
                raise
            task.uncancel()  # the client left: the stream simply ends
        finally:
            sink.close()
            if watcher is not None and not watcher.done():
                watcher.cancel()
            self._leave(topic, kind, state, sink)

    def _end_all(self, last: bytes | None) -> int:
        ended = 0
        dashboards = {id(q): q for queues in self._followers.values() for q in queues}
        for clients in [*(state.clients for state in self._topics.values()), dashboards.values()]:
            for q in clients:
                while not q.empty():
                    q.get_nowait()
                if last is not None:
                    q.put_nowait(last)
                q.put_nowait(None)
                ended += 1
        return ended

    async def _farewell(self) -> None:
        """The server is stopping: every stream ends with ``bye`` and a retry hint. The
        audience's plain streams do not go through sse-starlette, so the hub also watches
        the server's exit flag itself."""
        while not (self.shutdown_event.is_set() or _server_exiting()):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.25):
                    await self.shutdown_event.wait()
        ended = self._end_all(BYE)
        log.info("live.streams.ended", streams=ended, reason="shutdown")

    async def _reap(self) -> None:
        """Streams are capped at ``max_stream_s``: clients reconnect (and may land on another
        process), so connections spread again after a deployment."""
        loop = asyncio.get_running_loop()
        opened: dict[int, float] = {}
        while True:
            await asyncio.sleep(min(60.0, self.max_stream_s))
            now = loop.time()
            alive: set[int] = set()
            for state in self._topics.values():
                for q in state.clients:
                    alive.add(id(q))
                    if now - opened.setdefault(id(q), now) >= self.max_stream_s and not q.full():
                        q.put_nowait(None)
            opened = {k: v for k, v in opened.items() if k in alive}

    async def _ping(self) -> None:
        """A comment line every ``PING_S`` on every plain stream, so that proxies keep an idle
        connection open (sse-starlette pings the others)."""
        while True:
            await asyncio.sleep(PING_S)
            for state in list(self._topics.values()):
                for q in list(state.clients):
                    if isinstance(q, _Direct) and not q.full():
                        q.put_nowait(PING)

    async def close(self) -> None:
        self._end_all(BYE)
        await self.presence.close()
        for state in self._topics.values():
            if state.flusher is not None:
                state.flusher.cancel()
        for task in [self._router, *self._watchers]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


def _server_exiting() -> bool:
    """True once uvicorn was told to stop (its signal handler is a bound method of the
    server; sse-starlette's own flag covers the other servers)."""
    if AppStatus.should_exit:
        return True
    handler = signal.getsignal(signal.SIGTERM)
    server = getattr(handler, "__self__", None)
    return bool(getattr(server, "should_exit", False))


async def _cancel_on_disconnect(receive: Receive, task: asyncio.Task[Any]) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    task.cancel()


async def _plain(
    send: Send, status: int, text: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(text)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": text})
