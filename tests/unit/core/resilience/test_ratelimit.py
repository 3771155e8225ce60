from __future__ import annotations

import pytest

from premiere_ecoute.core.resilience.ratelimit import SlidingWindowLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_grants_up_to_max_events_then_reports_wait() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(3, 30.0, clock)
    assert [limiter.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    clock.now = 10.0
    assert limiter.try_acquire() == pytest.approx(20.0)


def test_window_slides_so_old_events_free_slots() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(2, 1.0, clock)
    limiter.try_acquire()
    clock.now = 0.5
    limiter.try_acquire()
    clock.now = 1.0
    assert limiter.try_acquire() == 0.0
    assert limiter.try_acquire() == pytest.approx(0.5)


async def test_acquire_waits_until_a_slot_is_free() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 1.0, clock, sleep=clock.sleep)
    await limiter.acquire()
    await limiter.acquire()
    await limiter.acquire()
    assert clock.now == pytest.approx(2.0)
    assert sum(clock.slept) == pytest.approx(2.0)
