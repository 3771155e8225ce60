"""Prometheus metrics. One registry per container (no global default registry), so tests
and several apps in one process don't collide."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            "http_requests_total", "HTTP requests", ["method", "route", "status"], registry=r
        )
        self.http_latency = Histogram(
            "http_request_duration_seconds",
            "HTTP latency",
            ["method", "route"],
            registry=r,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.votes = Counter("votes_total", "Votes by outcome", ["source", "outcome"], registry=r)
        self.webhooks = Counter(
            "twitch_webhooks_total", "EventSub webhook requests", ["outcome"], registry=r
        )
        self.inbox_batch = Histogram(
            "inbox_batch_size",
            "Inbox messages per ingest batch",
            registry=r,
            buckets=(1, 5, 10, 50, 100, 500, 1000),
        )
        self.commands = Counter(
            "commands_total", "Commands by outcome", ["command", "outcome"], registry=r
        )
        self.sse_clients = Gauge("sse_clients", "Open SSE streams", ["kind"], registry=r)
        self.broadcasts = Counter("session_broadcasts_total", "Live updates published", registry=r)
        self.breaker_state = Gauge(
            "circuit_breaker_open", "1 when a circuit is open", ["name"], registry=r
        )
        self.worker_restarts = Counter(
            "worker_job_runner_restarts_total",
            "Times the job runner stopped (e.g. database lost) and was started again",
            registry=r,
        )
        self.db_unavailable = Counter(
            "http_database_unavailable_total",
            "Requests answered 503 because the database was unreachable",
            registry=r,
        )
