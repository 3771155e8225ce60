"""Per-call metrics for external API clients (Spotify, Twitch).

The collectors are registered on a ``CollectorRegistry`` given by ``bootstrap``, never on the
global default registry at import, so tests and several app instances do not collide.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ApiCallMetrics:
    def __init__(self, registry: CollectorRegistry, *, prefix: str = "premiere_ecoute") -> None:
        self.calls = Counter(
            f"{prefix}_external_api_calls",
            "Calls to external APIs by provider, endpoint template and status.",
            ["provider", "endpoint", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            f"{prefix}_external_api_call_seconds",
            "Latency of calls to external APIs.",
            ["provider", "endpoint"],
            buckets=_BUCKETS,
            registry=registry,
        )

    def observe(self, provider: str, endpoint: str, status: int | str, seconds: float) -> None:
        """Record one call. ``endpoint`` is a template ("GET /albums/{id}"), never a raw path,
        to keep label cardinality bounded. ``status`` may be a word ("timeout", "open")."""
        self.calls.labels(provider=provider, endpoint=endpoint, status=str(status)).inc()
        self.latency.labels(provider=provider, endpoint=endpoint).observe(seconds)
