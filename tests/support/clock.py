"""The one fake clock of the tests is ``premiere_ecoute.core.clock.FakeClock``. Components that
take a plain function instead of a ``Clock`` get one of its readings: ``clock.monotonic`` where
they default to ``time.monotonic``, ``epoch_seconds(clock)`` where they default to
``time.time``; and ``recorded_sleep(clock)`` where they take an ``asyncio.sleep``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from premiere_ecoute.core.clock import FakeClock

Sleep = Callable[[float], Awaitable[None]]


def clock_at_epoch(seconds: float) -> FakeClock:
    """A fake clock whose ``now()`` is ``seconds`` after the Unix epoch."""
    return FakeClock(dt.datetime.fromtimestamp(seconds, dt.UTC))


def epoch_seconds(clock: FakeClock) -> Callable[[], float]:
    """``clock``'s time as ``time.time`` gives it: seconds since the Unix epoch."""
    return lambda: clock.now().timestamp()


def recorded_sleep(clock: FakeClock, sleeps: list[float] | None = None) -> Sleep:
    """A sleep that returns at once and moves ``clock`` on by the delay instead (never back),
    noting each delay asked for in ``sleeps``."""

    async def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)
        clock.advance(max(0.0, seconds))

    return sleep
