"""Failed jobs of the queue: list, retry (procrastinate's job manager), discard."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import structlog
from procrastinate import App, exceptions
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.jobs.queue import list_failed_jobs

log = structlog.get_logger(__name__)


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
