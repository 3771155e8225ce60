"""Resilience kit for external APIs: circuit breakers, rate limiting, call metrics."""

from premiere_ecoute.core.resilience.breaker import BreakerRegistry, BreakerState, CircuitBreaker
from premiere_ecoute.core.resilience.metrics import ApiCallMetrics
from premiere_ecoute.core.resilience.ratelimit import SlidingWindowLimiter

__all__ = [
    "ApiCallMetrics",
    "BreakerRegistry",
    "BreakerState",
    "CircuitBreaker",
    "SlidingWindowLimiter",
]
