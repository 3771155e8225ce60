from __future__ import annotations

from prometheus_client import CollectorRegistry

from premiere_ecoute.core.resilience.metrics import ApiCallMetrics


def test_observe_counts_calls_per_provider_endpoint_and_status() -> None:
    registry = CollectorRegistry()
    metrics = ApiCallMetrics(registry)
    metrics.observe("spotify", "GET /albums/{id}", 200, 0.12)
    metrics.observe("spotify", "GET /albums/{id}", 200, 0.08)
    metrics.observe("spotify", "GET /albums/{id}", 429, 0.01)
    labels = {"provider": "spotify", "endpoint": "GET /albums/{id}"}
    ok = registry.get_sample_value(
        "premiere_ecoute_external_api_calls_total", {**labels, "status": "200"}
    )
    limited = registry.get_sample_value(
        "premiere_ecoute_external_api_calls_total", {**labels, "status": "429"}
    )
    assert (ok, limited) == (2.0, 1.0)
    assert (
        registry.get_sample_value("premiere_ecoute_external_api_call_seconds_count", labels) == 3.0
    )


def test_two_registries_do_not_collide() -> None:
    first, second = CollectorRegistry(), CollectorRegistry()
    ApiCallMetrics(first).observe("spotify", "GET /albums/{id}", 200, 0.1)
    ApiCallMetrics(second)  # a second set of the same metrics is no duplicate
    name = "premiere_ecoute_external_api_call_seconds_count"
    labels = {"provider": "spotify", "endpoint": "GET /albums/{id}"}
    assert first.get_sample_value(name, labels) == 1.0
    assert second.get_sample_value(name, labels) is None
