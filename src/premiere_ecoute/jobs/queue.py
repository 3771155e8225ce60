"""The job queue: procrastinate on the application's PostgreSQL.

Tasks are registered on an App built by ``build_job_app``; their dependencies come from the
container bound at worker start (no globals at import)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import structlog
from procrastinate import App, PsycopgConnector
from sqlalchemy import String, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from premiere_ecoute.core.orm import Base

log = structlog.get_logger(__name__)


class WorkerHeartbeat(Base):
    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    beat_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    source: Mapped[str] = mapped_column(String(20), server_default="worker")


async def record_heartbeat(session: AsyncSession, worker: str, source: str) -> None:
    stmt = insert(WorkerHeartbeat).values(worker=worker, source=source, beat_at=func.now())
    stmt = stmt.on_conflict_do_update(
        index_elements=["worker"], set_={"beat_at": func.now(), "source": source}
    )
    await session.execute(stmt)


async def latest_heartbeat_age_s(session: AsyncSession) -> float | None:
    age = await session.scalar(
        select(func.extract("epoch", func.now() - func.max(WorkerHeartbeat.beat_at)))
    )
    return None if age is None else float(age)


def build_job_app(conninfo: str) -> App:
    return App(
        connector=PsycopgConnector(conninfo=conninfo, min_size=1, max_size=4), import_paths=[]
    )


async def list_failed_jobs(app: App, limit: int = 100) -> list[dict[str, Any]]:
    async with app.connector.pool.connection() as conn, conn.cursor() as cur:  # type: ignore[attr-defined]
        await cur.execute(
            "SELECT id, task_name, args, attempts, scheduled_at, queue_name "
            "FROM procrastinate_jobs WHERE status = 'failed' ORDER BY id DESC LIMIT %s",
            (limit,),
        )
        rows = await cur.fetchall()
    return [{"id": r[0], "task": r[1], "args": r[2], "attempts": r[3], "queue": r[5]} for r in rows]


async def failed_job_count(session: AsyncSession) -> int:
    n = await session.scalar(
        text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'")
    )
    return int(n or 0)
