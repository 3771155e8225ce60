"""The chat queue: announcements leave at Twitch's pace and never block a command.

Twitch limits a sender to about 20 messages per 30 s overall and drops bursts in one channel, so
the queue sends at most one message per second per channel and ``global_limit`` per window.
Messages of one channel keep their order: a failing message stays at the head of its channel
until it is sent or dropped after ``max_attempts``.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from premiere_ecoute.core.resilience.ratelimit import SlidingWindowLimiter

log = structlog.get_logger(__name__)

Sender = Callable[[str, str], Awaitable[None]]


@dataclass(slots=True)
class _Message:
    seq: int
    broadcaster_id: str
    text: str
    attempts: int = 0
    not_before: float = 0.0


class ChatQueue:
    def __init__(
        self,
        sender: Sender,
        *,
        per_channel_interval_s: float = 1.0,
        global_limit: int = 20,
        global_window_s: float = 30.0,
        max_attempts: int = 4,
        backoff_s: float = 1.0,
        max_pending: int = 1000,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._sender = sender
        self._interval = per_channel_interval_s
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff_s
        self._max_pending = max_pending
        self._clock = clock
        self._sleep = sleep
        self._global = SlidingWindowLimiter(global_limit, global_window_s, clock)
        self._channels: dict[str, deque[_Message]] = {}
        self._last_sent: dict[str, float] = {}
        self._seq = itertools.count()
        self._pending = 0
        self._wake = asyncio.Event()

    def pending(self) -> int:
        return self._pending

    def enqueue(self, broadcaster_id: str, text: str) -> None:
        """Queue a message; returns at once and never raises."""
        try:
            if self._pending >= self._max_pending:
                log.warning(
                    "twitch.chat.dropped", broadcaster_id=broadcaster_id, reason="queue_full"
                )
                return
            message = _Message(next(self._seq), broadcaster_id, text)
            self._channels.setdefault(broadcaster_id, deque()).append(message)
            self._pending += 1
            self._wake.set()
        except Exception:  # an announcement must never break the command that made it
            log.exception("twitch.chat.enqueue_failed", broadcaster_id=broadcaster_id)

    async def run(self, stop: asyncio.Event) -> None:
        """Send queued messages until ``stop`` is set."""
        while not stop.is_set():
            self._wake.clear()
            message, wait = self._next_ready(self._clock())
            if message is None:
                await self._wait(wait, stop)
                continue
            global_wait = self._global.try_acquire()
            if global_wait > 0:
                await self._wait(global_wait, stop)
                continue
            await self._attempt(message)

    def _next_ready(self, now: float) -> tuple[_Message | None, float | None]:
        """The oldest message whose channel may speak now, else how long until one may."""
        best: _Message | None = None
        soonest: float | None = None
        for channel, queue in self._channels.items():
            if not queue:
                continue
            head = queue[0]
            ready_at = max(head.not_before, self._last_sent.get(channel, -1e18) + self._interval)
            if ready_at <= now:
                if best is None or head.seq < best.seq:
                    best = head
            else:
                delay = ready_at - now
                soonest = delay if soonest is None else min(soonest, delay)
        return best, soonest

    async def _attempt(self, message: _Message) -> None:
        channel = message.broadcaster_id
        message.attempts += 1
        self._last_sent[channel] = self._clock()
        try:
            await self._sender(channel, message.text)
        except Exception as exc:
            if message.attempts >= self._max_attempts:
                log.warning(
                    "twitch.chat.dropped",
                    broadcaster_id=channel,
                    attempts=message.attempts,
                    reason=str(exc) or type(exc).__name__,
                )
                self._pop(channel)
                return
            delay = self._backoff * 2 ** (message.attempts - 1)
            message.not_before = self._clock() + delay
            log.info(
                "twitch.chat.retry",
                broadcaster_id=channel,
                attempts=message.attempts,
                retry_in_s=delay,
                reason=str(exc) or type(exc).__name__,
            )
            return
        self._pop(channel)

    def _pop(self, channel: str) -> None:
        queue = self._channels[channel]
        queue.popleft()
        self._pending -= 1
        if not queue:
            del self._channels[channel]

    async def _wait(self, delay: float | None, stop: asyncio.Event) -> None:
        """Sleep until ``delay`` passes, a message is queued, or ``stop`` is set."""
        waiters: list[asyncio.Future[object]] = [
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(stop.wait()),
        ]
        if delay is not None:
            waiters.append(asyncio.ensure_future(self._sleep(delay)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
