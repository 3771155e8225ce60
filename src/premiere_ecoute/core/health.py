"""Readiness and gauges, shared by /ready, /metrics and the admin page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from premiere_ecoute.core import migrations
from premiere_ecoute.core.db import Database
from premiere_ecoute.core.jobs import latest_heartbeat_age_s
from premiere_ecoute.core.resilience.breaker import BreakerRegistry
from premiere_ecoute.telemetry.metrics import Metrics


async def readiness(db: Database, heartbeat_s: int) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    db_ok = await db.ping()
    checks["database"] = "ok" if db_ok else "unreachable"
    heartbeat_age = None
    if db_ok:
        async with db.session() as s:
            rev = await s.scalar(text("SELECT version_num FROM alembic_version LIMIT 1"))
            checks["migrations"] = "ok" if rev == migrations.head_revision() else f"at {rev}"
            heartbeat_age = await latest_heartbeat_age_s(s)
    limit = 3 * heartbeat_s + 5
    if heartbeat_age is None:
        checks["worker"] = "no heartbeat yet"
    elif heartbeat_age > limit:
        checks["worker"] = f"heartbeat {heartbeat_age:.0f}s old"
    else:
        checks["worker"] = "ok"
    ready = all(v == "ok" for v in checks.values())
    return {"ready": ready, "checks": checks}


def refresh_gauges(metrics: Metrics, breakers: BreakerRegistry) -> None:
    for snap in breakers.snapshot():
        metrics.breaker_state.labels(snap["name"]).set(1 if snap["state"] == "open" else 0)
