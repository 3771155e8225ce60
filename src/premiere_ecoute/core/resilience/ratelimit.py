"""A sliding-window rate limiter: at most ``max_events`` in any ``per_s`` seconds.

Used by the Twitch chat queue (1 message/s per channel, 20 per 30 s overall). A sliding log is
exact for these small limits, where a token bucket would allow a burst at the window edge.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]


class SlidingWindowLimiter:
    def __init__(
        self,
        max_events: int,
        per_s: float,
        clock: Clock = time.monotonic,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if max_events < 1 or per_s <= 0:
            raise ValueError("max_events must be >= 1 and per_s > 0")
        self.max_events = max_events
        self.per_s = per_s
        self._clock = clock
        self._sleep = sleep
        self._events: deque[float] = deque()
        self._lock = asyncio.Lock()

    def _prune(self, now: float) -> None:
        horizon = now - self.per_s
        while self._events and self._events[0] <= horizon:
            self._events.popleft()

    def try_acquire(self) -> float:
        """Take a slot now and return 0.0, or return how many seconds until one frees up."""
        now = self._clock()
        self._prune(now)
        if len(self._events) < self.max_events:
            self._events.append(now)
            return 0.0
        return max(self._events[0] + self.per_s - now, 1e-6)

    async def acquire(self) -> None:
        """Wait until a slot is free, then take it. Waiters are served in arrival order."""
        async with self._lock:
            while True:
                wait = self.try_acquire()
                if wait == 0.0:
                    return
                await self._sleep(wait)
