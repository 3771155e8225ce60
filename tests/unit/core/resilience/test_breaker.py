from __future__ import annotations

import pytest

from premiere_ecoute.core.clock import FakeClock
from premiere_ecoute.core.errors import ServiceUnavailable
from premiere_ecoute.core.resilience.breaker import BreakerRegistry, CircuitBreaker


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make(clock: FakeClock, threshold: int = 3, recovery: float = 30.0) -> CircuitBreaker:
    return CircuitBreaker(
        "spotify", failure_threshold=threshold, recovery_s=recovery, clock=clock.monotonic
    )


def test_breaker_opens_after_threshold_consecutive_failures(clock: FakeClock) -> None:
    breaker = make(clock)
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open"


def test_success_resets_the_failure_count(clock: FakeClock) -> None:
    breaker = make(clock)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed"


def test_open_breaker_fails_fast_with_service_and_wait(clock: FakeClock) -> None:
    breaker = make(clock, threshold=1, recovery=30)
    breaker.record_failure()
    clock.advance(10)
    with pytest.raises(ServiceUnavailable) as info:
        breaker.before_call()
    assert info.value.service == "spotify"
    assert info.value.retry_after_s == pytest.approx(20)
    assert info.value.message == "spotify is unavailable right now; retrying in 20 s"


def test_breaker_half_opens_after_recovery_period(clock: FakeClock) -> None:
    breaker = make(clock, threshold=1, recovery=30)
    breaker.record_failure()
    clock.advance(29.9)
    assert breaker.state == "open"
    clock.advance(0.2)
    assert breaker.state == "half_open"


def test_half_open_lets_exactly_one_probe_through(clock: FakeClock) -> None:
    breaker = make(clock, threshold=1, recovery=5)
    breaker.record_failure()
    clock.advance(5)
    breaker.before_call()
    with pytest.raises(ServiceUnavailable):
        breaker.before_call()


def test_successful_probe_closes_the_breaker(clock: FakeClock) -> None:
    breaker = make(clock, threshold=1, recovery=5)
    breaker.record_failure()
    clock.advance(5)
    breaker.before_call()
    breaker.record_success()
    assert breaker.state == "closed"
    breaker.before_call()
    breaker.before_call()


def test_failed_probe_reopens_for_a_full_recovery_period(clock: FakeClock) -> None:
    breaker = make(clock, threshold=3, recovery=5)
    for _ in range(3):
        breaker.record_failure()
    clock.advance(5)
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state == "open"
    clock.advance(4.9)
    assert breaker.state == "open"
    clock.advance(0.1)
    assert breaker.state == "half_open"


def test_open_for_respects_retry_after(clock: FakeClock) -> None:
    breaker = make(clock, threshold=5, recovery=30)
    breaker.open_for(7)
    with pytest.raises(ServiceUnavailable) as info:
        breaker.before_call()
    assert info.value.retry_after_s == pytest.approx(7)
    clock.advance(7)
    assert breaker.state == "half_open"
    breaker.before_call()


def test_open_for_never_shortens_a_longer_opening(clock: FakeClock) -> None:
    breaker = make(clock)
    breaker.open_for(60)
    breaker.open_for(5)
    clock.advance(30)
    assert breaker.state == "open"


def test_snapshot_reports_state_and_failures(clock: FakeClock) -> None:
    breaker = make(clock, threshold=2, recovery=10)
    breaker.record_failure()
    assert breaker.snapshot() == {
        "name": "spotify",
        "state": "closed",
        "failures": 1,
        "opens_until": None,
    }
    breaker.record_failure()
    snap = breaker.snapshot()
    assert snap["state"] == "open"
    assert snap["opens_until"] == pytest.approx(clock.monotonic() + 10)


def test_registry_returns_the_same_breaker_per_name(clock: FakeClock) -> None:
    registry = BreakerRegistry(failure_threshold=1, clock=clock.monotonic)
    assert registry.get("spotify") is registry.get("spotify")
    registry.get("twitch").record_failure()
    states = {s["name"]: s["state"] for s in registry.snapshot()}
    assert states == {"spotify": "closed", "twitch": "open"}


def test_a_probe_that_never_reports_is_replaced_after_recovery(clock: FakeClock) -> None:
    breaker = make(clock, threshold=1, recovery=5)
    breaker.record_failure()
    clock.advance(5)
    breaker.before_call()  # the probe is let through...
    with pytest.raises(ServiceUnavailable):
        breaker.before_call()  # ...and only the probe
    clock.advance(5.1)
    breaker.before_call()  # it never reported: another probe may go after a recovery period
    assert breaker.state == "half_open"
