"""A small circuit breaker with half-open probing, one per external API.

Why our own: pybreaker's async mode is broken, and we need ``open_for`` so that a 429 with
``Retry-After`` keeps us quiet for exactly as long as the provider asked.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

from premiere_ecoute.core.errors import N_, ServiceUnavailable, refuse

BreakerState = Literal["closed", "open", "half_open"]

Clock = Callable[[], float]


class CircuitBreaker:
    """Fails fast while an API is known to be down.

    ``closed``: calls go through; ``failure_threshold`` consecutive failures open the circuit.
    ``open``: ``before_call`` raises ``ServiceUnavailable`` until ``recovery_s`` has passed.
    ``half_open``: exactly one probe at a time is let through; its success closes the circuit,
    its failure opens it again.
    """

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        recovery_s: float = 30.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.name = name
        self.failure_threshold = failure_threshold
        self.recovery_s = recovery_s
        self._clock = clock
        self._state: BreakerState = "closed"
        self._failures = 0
        self._opens_until: float | None = None
        self._probe_in_flight = False
        self._probe_started = 0.0
        # Breakers are shared by the event loop and, occasionally, worker threads (metrics).
        self._lock = threading.Lock()

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._current_state()

    @property
    def failures(self) -> int:
        return self._failures

    def _current_state(self) -> BreakerState:
        if (
            self._state == "open"
            and self._opens_until is not None
            and self._clock() >= self._opens_until
        ):
            self._state = "half_open"
            self._probe_in_flight = False
        return self._state

    def before_call(self) -> None:
        """Raise ``ServiceUnavailable`` unless a call may go out now."""
        with self._lock:
            state = self._current_state()
            if state == "closed":
                return
            # A probe that never reported (its task was cancelled) must not wedge the breaker.
            stuck = self._clock() - self._probe_started > self.recovery_s
            if state == "half_open" and (not self._probe_in_flight or stuck):
                self._probe_in_flight = True
                self._probe_started = self._clock()
                return
            wait = self._remaining()
        raise refuse(
            ServiceUnavailable,
            N_("%(service)s is unavailable right now; retrying in %(seconds)s s"),
            extra={"service": self.name, "retry_after_s": wait},
            service=self.name,
            seconds=math.ceil(wait),
        )

    def _remaining(self) -> float:
        if self._state == "open" and self._opens_until is not None:
            return max(0.0, self._opens_until - self._clock())
        # Half-open with a probe already out: the caller should wait about one probe's time.
        return 1.0

    def record_success(self) -> None:
        with self._lock:
            self._state = "closed"
            self._failures = 0
            self._opens_until = None
            self._probe_in_flight = False

    def record_failure(self) -> None:
        with self._lock:
            state = self._current_state()
            self._failures += 1
            if state == "half_open" or self._failures >= self.failure_threshold:
                self._open(self.recovery_s)

    def open_for(self, seconds: float) -> None:
        """Open the circuit for ``seconds`` (e.g. a 429's ``Retry-After``), never shortening
        an opening that already lasts longer."""
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            if self._state == "open" and self._opens_until is not None:
                until = max(until, self._opens_until)
            self._state = "open"
            self._opens_until = until
            self._probe_in_flight = False

    def _open(self, seconds: float) -> None:
        self._state = "open"
        self._opens_until = self._clock() + seconds
        self._probe_in_flight = False

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            state = self._current_state()
            return {
                "name": self.name,
                "state": state,
                "failures": self._failures,
                "opens_until": self._opens_until if state == "open" else None,
            }


class BreakerRegistry:
    """Breakers by name, created on first use with the registry's defaults.

    Built in ``bootstrap`` (never at import) and shared by the API clients, the metrics
    collector and the admin page.
    """

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        recovery_s: float = 30.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self._defaults: dict[str, Any] = {
            "failure_threshold": failure_threshold,
            "recovery_s": recovery_s,
            "clock": clock,
        }
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> CircuitBreaker:
        with self._lock:
            breaker = self._breakers.get(name)
            if breaker is None:
                breaker = CircuitBreaker(name, **self._defaults)
                self._breakers[name] = breaker
            return breaker

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            breakers = [self._breakers[n] for n in sorted(self._breakers)]
        return [b.snapshot() for b in breakers]
