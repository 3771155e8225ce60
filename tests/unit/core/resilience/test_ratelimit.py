from __future__ import annotations

import pytest

from premiere_ecoute.core.clock import FakeClock
from premiere_ecoute.core.resilience.ratelimit import SlidingWindowLimiter
from tests.support.clock import recorded_sleep


def test_grants_up_to_max_events_then_reports_wait() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(3, 30.0, clock.monotonic)
    assert [limiter.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    clock.advance(10.0)
    assert limiter.try_acquire() == pytest.approx(20.0)


def test_window_slides_so_old_events_free_slots() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(2, 1.0, clock.monotonic)
    limiter.try_acquire()
    clock.advance(0.5)
    limiter.try_acquire()
    clock.advance(0.5)
    assert limiter.try_acquire() == 0.0
    assert limiter.try_acquire() == pytest.approx(0.5)


async def test_acquire_waits_until_a_slot_is_free() -> None:
    clock = FakeClock()
    slept: list[float] = []
    start = clock.monotonic()
    limiter = SlidingWindowLimiter(1, 1.0, clock.monotonic, sleep=recorded_sleep(clock, slept))
    await limiter.acquire()
    await limiter.acquire()
    await limiter.acquire()
    assert clock.monotonic() - start == pytest.approx(2.0)
    assert sum(slept) == pytest.approx(2.0)
