"""EventSub over WebSocket, for instances without a public HTTPS URL (SPEC §6).

One reader task per connection feeds a single queue, so during a ``session_reconnect``
handover the old connection keeps being read while the new one waits for its welcome; the
old one is closed only once the new one is welcomed, and its remaining frames still drain.
Messages delivered on both connections are passed on once (recent ids are remembered).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
import websockets
from websockets.exceptions import ConnectionClosed, WebSocketException

from premiere_ecoute.apis.twitch.eventsub.messages import (
    NOTIFICATION,
    REVOCATION,
    MalformedMessage,
    ParsedMessage,
)
from premiere_ecoute.apis.twitch.eventsub.parser import decode_json, parse_payload
from premiere_ecoute.apis.twitch.eventsub.signing import parse_twitch_timestamp

log = structlog.get_logger(__name__)

_CONNECT_ERRORS = (OSError, TimeoutError, WebSocketException)


class WebSocketConnection(Protocol):
    async def recv(self) -> str | bytes: ...
    async def close(self) -> None: ...


# Called once per notification or revocation (the message id and its meaning); a frame that
# arrives on both connections of a handover is passed on once.
OnMessage = Callable[[str, ParsedMessage], Awaitable[None]]
OnWelcome = Callable[[str], Awaitable[None]]
Connect = Callable[[str], Awaitable[Any]]


@dataclass(eq=False)
class _Link:
    """One open connection and the task that reads it into the shared queue."""

    ws: WebSocketConnection
    reader: asyncio.Task[None] | None = None


class EventSubWebSocketClient:
    def __init__(
        self,
        url: str,
        *,
        on_message: OnMessage,
        on_welcome: OnWelcome,
        connect: Connect = websockets.connect,
        keepalive_margin_s: float = 3.0,
        welcome_timeout_s: float = 10.0,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 60.0,
        remembered_ids: int = 2048,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._url = url
        self._on_message = on_message
        self._on_welcome = on_welcome
        self._connect = connect
        self._margin = keepalive_margin_s
        self._welcome_timeout = welcome_timeout_s
        self._backoff_initial = backoff_initial_s
        self._backoff_max = backoff_max_s
        self._jitter = jitter
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._seen_max = remembered_ids
        self._closers: set[asyncio.Task[None]] = set()
        self.session_id: str | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Stay connected until ``stop`` is set, reconnecting with backoff."""
        failures = 0
        try:
            while not stop.is_set():
                welcomed = await self._run_session(stop)
                if stop.is_set():
                    break
                if welcomed:
                    failures = 0
                    continue
                delay = min(self._backoff_max, self._backoff_initial * 2**failures)
                failures += 1
                delay *= 0.5 + self._jitter() / 2  # spread reconnects of many processes
                log.warning("twitch.eventsub.ws.backoff", delay_s=round(delay, 3))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await stop.wait()
        finally:
            if self._closers:
                await asyncio.gather(*self._closers, return_exceptions=True)

    async def _run_session(self, stop: asyncio.Event) -> bool:
        """Run one session from the original URL; True if it was welcomed."""
        queue: asyncio.Queue[tuple[_Link, str | bytes | None]] = asyncio.Queue()
        links: list[_Link] = []
        stop_task = asyncio.ensure_future(stop.wait())
        try:
            current = await self._open(self._url, queue, stop_task)
            if current is None:
                return False
            links.append(current)
            return await self._pump(current, queue, links, stop_task)
        finally:
            stop_task.cancel()
            for link in links:
                self._close_later(link)

    async def _pump(
        self,
        current: _Link,
        queue: asyncio.Queue[tuple[_Link, str | bytes | None]],
        links: list[_Link],
        stop_task: asyncio.Future[Any],
    ) -> bool:
        loop = asyncio.get_running_loop()
        welcomed = False
        pending: _Link | None = None
        silence_limit = self._welcome_timeout
        deadline = loop.time() + silence_limit
        while True:
            get_task = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait(
                {get_task, stop_task},
                timeout=max(0.0, deadline - loop.time()),
                return_when=asyncio.FIRST_COMPLETED,
            )
            if get_task not in done:
                get_task.cancel()
                if stop_task not in done:
                    log.warning("twitch.eventsub.ws.silent", limit_s=silence_limit)
                return welcomed
            link, raw = get_task.result()
            if raw is None:
                if link is pending:
                    log.warning("twitch.eventsub.ws.reconnect_failed", reason="closed")
                    return welcomed
                if link is current and pending is None:
                    log.info("twitch.eventsub.ws.closed")
                    return welcomed
                continue
            frame = _decode(raw)
            if frame is None:
                log.warning("twitch.eventsub.ws.bad_frame")
                continue
            metadata, payload = frame
            deadline = loop.time() + silence_limit
            message_type = metadata.get("message_type")
            if message_type == "session_welcome":
                session = _session(payload)
                silence_limit = _keepalive_seconds(session) + self._margin
                deadline = loop.time() + silence_limit
                if link is pending:
                    # Subscriptions carried over: no on_welcome, just retire the old link.
                    self._close_later(current)
                    current, pending = link, None
                    self.session_id = str(session.get("id") or "")
                    log.info("twitch.eventsub.ws.reconnected", session_id=self.session_id)
                elif link is current and not welcomed:
                    self.session_id = str(session.get("id") or "")
                    log.info("twitch.eventsub.ws.welcome", session_id=self.session_id)
                    try:
                        await self._on_welcome(self.session_id)
                    except Exception:
                        log.exception("twitch.eventsub.ws.on_welcome_failed")
                        return False
                    welcomed = True
            elif message_type == "session_reconnect" and pending is None:
                url = _session(payload).get("reconnect_url")
                if not isinstance(url, str) or not url:
                    log.warning("twitch.eventsub.ws.reconnect_without_url")
                    continue
                pending = await self._open(url, queue, stop_task)
                if pending is None:
                    return welcomed
                links.append(pending)
            elif message_type in (NOTIFICATION, REVOCATION):
                await self._deliver(str(message_type), metadata, payload)

    async def _deliver(self, message_type: str, metadata: dict[str, Any], payload: Any) -> None:
        message_id = metadata.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            log.warning("twitch.eventsub.ws.message_without_id")
            return
        if message_id in self._seen:
            self._seen.move_to_end(message_id)
            return
        try:
            timestamp = parse_twitch_timestamp(str(metadata.get("message_timestamp", "")))
            subscription_type = str(metadata.get("subscription_type") or "")
            parsed = parse_payload(message_type, subscription_type, payload, timestamp)
        except (ValueError, MalformedMessage) as error:
            log.warning("twitch.eventsub.ws.malformed", message_id=message_id, error=str(error))
            self._remember(message_id)
            return
        try:
            await self._on_message(message_id, parsed)
        except Exception:
            # Not remembered: the same message arriving on the other link gets another chance.
            log.exception("twitch.eventsub.ws.handler_failed", message_id=message_id)
            return
        self._remember(message_id)

    def _remember(self, message_id: str) -> None:
        self._seen[message_id] = None
        while len(self._seen) > self._seen_max:
            self._seen.popitem(last=False)

    async def _open(
        self,
        url: str,
        queue: asyncio.Queue[tuple[_Link, str | bytes | None]],
        stop_task: asyncio.Future[Any],
    ) -> _Link | None:
        connecting = asyncio.ensure_future(self._connect(url))
        await asyncio.wait({connecting, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        if not connecting.done():
            connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError, *_CONNECT_ERRORS):
                await connecting
            return None
        try:
            ws = connecting.result()
        except _CONNECT_ERRORS as error:
            log.warning("twitch.eventsub.ws.connect_failed", url=url, error=repr(error))
            return None
        link = _Link(ws=ws)
        link.reader = asyncio.create_task(_read_into(link, queue))
        return link

    def _close_later(self, link: _Link) -> None:
        # Closing waits for the closing handshake; the reader keeps draining meanwhile.
        task = asyncio.create_task(_close(link))
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)


async def _read_into(link: _Link, queue: asyncio.Queue[tuple[_Link, str | bytes | None]]) -> None:
    try:
        while True:
            await queue.put((link, await link.ws.recv()))
    except ConnectionClosed:
        pass
    except Exception as error:  # a broken socket must end this link, not the client
        log.warning("twitch.eventsub.ws.read_failed", error=repr(error))
    finally:
        queue.put_nowait((link, None))


async def _close(link: _Link) -> None:
    try:
        # Bounded: a peer that never answers the close must not hold up a shutdown.
        await asyncio.wait_for(link.ws.close(), timeout=2.0)
    except Exception as error:
        log.warning("twitch.eventsub.ws.close_failed", error=repr(error))
    if link.reader is not None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(link.reader), timeout=1.0)
        link.reader.cancel()


def _decode(raw: str | bytes) -> tuple[dict[str, Any], Any] | None:
    try:
        frame = decode_json(raw)
    except MalformedMessage:
        return None
    if not isinstance(frame, dict) or not isinstance(frame.get("metadata"), dict):
        return None
    return frame["metadata"], frame.get("payload")


def _session(payload: Any) -> dict[str, Any]:
    session = payload.get("session") if isinstance(payload, dict) else None
    return session if isinstance(session, dict) else {}


def _keepalive_seconds(session: dict[str, Any]) -> float:
    value = session.get("keepalive_timeout_seconds")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return 10.0  # Twitch's default when the welcome does not say
