"""Readiness and gauges, shared by /ready, /metrics and the admin page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from premiere_ecoute.core import migrations
from premiere_ecoute.core.db import Database
from premiere_ecoute.core.jobs import JOB_SOURCES, LOOP_SOURCE, latest_heartbeat_age_s
from premiere_ecoute.core.resilience.breaker import BreakerRegistry
from premiere_ecoute.telemetry.metrics import Metrics

# What readiness needs; ``worker_loop`` is shown, not required: a live worker process whose
# jobs do not run is what ``worker`` reports, and jobs cannot run without a live process.
REQUIRED = ("database", "migrations", "worker")


def _age_check(age: float | None, limit: float, what: str) -> str:
    if age is None:
        return f"no {what} yet"
    if age > limit:
        return f"{what} {age:.0f}s old"
    return "ok"


async def readiness(db: Database, heartbeat_s: int) -> dict[str, Any]:
    """``worker`` is "ok" only when the periodic heartbeat job ran lately (jobs do run);
    ``worker_loop`` tells whether a worker process is alive at all."""
    checks: dict[str, Any] = {}
    db_ok = await db.ping()
    checks["database"] = "ok" if db_ok else "unreachable"
    job_age = loop_age = None
    if db_ok:
        async with db.session() as s:
            rev = await s.scalar(text("SELECT version_num FROM alembic_version LIMIT 1"))
            checks["migrations"] = "ok" if rev == migrations.head_revision() else f"at {rev}"
            job_age = await latest_heartbeat_age_s(s, JOB_SOURCES)
            loop_age = await latest_heartbeat_age_s(s, (LOOP_SOURCE,))
    limit = 3 * heartbeat_s + 5
    checks["worker"] = _age_check(job_age, limit, "job heartbeat")
    checks["worker_loop"] = _age_check(loop_age, limit, "loop heartbeat")
    ready = all(checks.get(name) == "ok" for name in REQUIRED)
    return {"ready": ready, "checks": checks}


def refresh_gauges(metrics: Metrics, breakers: BreakerRegistry) -> None:
    for snap in breakers.snapshot():
        metrics.breaker_state.labels(snap["name"]).set(1 if snap["state"] == "open" else 0)
