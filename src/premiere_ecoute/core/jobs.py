"""The job queue: procrastinate on the application's PostgreSQL, the worker heartbeats that
``/ready`` reads, and the operator's view of failed jobs (list, retry, discard).

Tasks are registered on the App built by ``build_job_app`` when a worker starts
(``jobs.worker``); their dependencies come typed from ``jobs.deps`` (no globals at import)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import structlog
from procrastinate import App, PsycopgConnector, exceptions
from sqlalchemy import String, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from premiere_ecoute.core.orm import Base

log = structlog.get_logger(__name__)


# Sources of a heartbeat: the worker process's loop (alive), the periodic job (jobs run),
# and a web process that runs the worker in development, at start (ready at once).
LOOP_SOURCE = "loop"
JOB_SOURCE = "job"
STARTUP_SOURCE = "startup"
JOB_SOURCES = (JOB_SOURCE, STARTUP_SOURCE)


class WorkerHeartbeat(Base):
    """One row per worker and source: the loop's beats never hide that jobs stopped."""

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    beat_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    source: Mapped[str] = mapped_column(String(20), primary_key=True, server_default="worker")


async def record_heartbeat(session: AsyncSession, worker: str, source: str) -> None:
    stmt = insert(WorkerHeartbeat).values(worker=worker, source=source, beat_at=func.now())
    stmt = stmt.on_conflict_do_update(
        index_elements=["worker", "source"], set_={"beat_at": func.now()}
    )
    await session.execute(stmt)


async def latest_heartbeat_age_s(
    session: AsyncSession, sources: tuple[str, ...] = JOB_SOURCES
) -> float | None:
    """Seconds since the newest heartbeat of ``sources`` (of any worker), None if none."""
    age = await session.scalar(
        select(func.extract("epoch", func.now() - func.max(WorkerHeartbeat.beat_at))).where(
            WorkerHeartbeat.source.in_(sources)
        )
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


@contextlib.asynccontextmanager
async def opened(app: App) -> AsyncIterator[App]:
    """The job app with its pool open: a web process only opens it for the call (the worker
    of the same process, when there is one, keeps its own open pool)."""
    try:
        app.connector.pool  # type: ignore[attr-defined]  # noqa: B018
    except exceptions.AppNotOpen:
        async with app.open_async():
            yield app
        return
    yield app


async def failed_jobs(app: App, limit: int = 100) -> list[dict[str, Any]]:
    async with opened(app):
        return await list_failed_jobs(app, limit)


async def retry_failed_job(app: App, session: AsyncSession, job_id: int, now: dt.datetime) -> bool:
    """Put a failed job back in the queue now. False when no failed job has that id."""
    if not await _is_failed(session, job_id):
        return False
    async with opened(app):
        await app.job_manager.retry_job_by_id_async(job_id, retry_at=now)
    log.info("admin.jobs.retried", job_id=job_id)
    return True


async def discard_failed_job(session: AsyncSession, job_id: int) -> bool:
    """Delete a failed job (its events go with it). False when no failed job has that id."""
    await session.execute(
        text("UPDATE procrastinate_periodic_defers SET job_id = NULL WHERE job_id = :id"),
        {"id": job_id},
    )
    deleted = await session.scalar(
        text("DELETE FROM procrastinate_jobs WHERE id = :id AND status = 'failed' RETURNING id"),
        {"id": job_id},
    )
    if deleted is None:
        return False
    log.info("admin.jobs.discarded", job_id=job_id)
    return True


async def _is_failed(session: AsyncSession, job_id: int) -> bool:
    found = await session.scalar(
        text("SELECT 1 FROM procrastinate_jobs WHERE id = :id AND status = 'failed'"),
        {"id": job_id},
    )
    return found is not None
