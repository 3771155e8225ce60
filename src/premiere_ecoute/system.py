"""Readiness and gauges, shared by /ready, /metrics and the admin page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from premiere_ecoute.core import migrations
from premiere_ecoute.jobs.queue import latest_heartbeat_age_s

if TYPE_CHECKING:
    from premiere_ecoute.bootstrap import Container


async def readiness(c: Container) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    db_ok = await c.db.ping()
    checks["database"] = "ok" if db_ok else "unreachable"
    heartbeat_age = None
    if db_ok:
        from sqlalchemy import text

        async with c.db.session() as s:
            rev = await s.scalar(text("SELECT version_num FROM alembic_version LIMIT 1"))
            checks["migrations"] = "ok" if rev == migrations.head_revision() else f"at {rev}"
            heartbeat_age = await latest_heartbeat_age_s(s)
    limit = 3 * c.settings.worker_heartbeat_s + 5
    if heartbeat_age is None:
        checks["worker"] = "no heartbeat yet"
    elif heartbeat_age > limit:
        checks["worker"] = f"heartbeat {heartbeat_age:.0f}s old"
    else:
        checks["worker"] = "ok"
    ready = all(v == "ok" for v in checks.values())
    return {"ready": ready, "checks": checks}


async def refresh_gauges(c: Container) -> None:
    breakers = c.services.get("breakers")
    if breakers is not None:
        for snap in breakers.snapshot():
            c.metrics.breaker_state.labels(snap["name"]).set(1 if snap["state"] == "open" else 0)
