"""The job worker comes back by itself when its database connections are lost (a PostgreSQL
restart), and ``/ready`` says the worker is fine only when jobs run, whatever its loop says."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from sqlalchemy import text

from premiere_ecoute.core.health import readiness
from premiere_ecoute.core.jobs import JOB_SOURCE, LOOP_SOURCE, record_heartbeat
from premiere_ecoute.jobs.worker import run_worker
from tests.conftest import _with_database


@pytest.fixture
def settings(clean_db: str) -> Any:
    from tests.conftest import make_settings

    return make_settings(database_url=clean_db, worker_heartbeat_s=1)


async def _job_beat(c: Any) -> float | None:
    """Epoch of the newest heartbeat written by the periodic job, or None."""
    async with c.db.session() as s:
        at = await s.scalar(
            text(
                "SELECT extract(epoch FROM max(beat_at)) FROM worker_heartbeats WHERE source = :s"
            ),
            {"s": JOB_SOURCE},
        )
    return None if at is None else float(at)


async def _wait_job_beat_after(c: Any, after: float, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # the pool may hold a cut connection once
            beat = await _job_beat(c)
            if beat is not None and beat > after:
                return beat
        await asyncio.sleep(0.3)
    raise AssertionError(f"no job heartbeat after {after} within {timeout} s")


async def _database_away(url: str, seconds: float) -> int:
    """What a PostgreSQL restart does to a client: every connection is closed and new ones
    are refused for a while. Returns how many connections were cut."""
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        try:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            ).fetchall()
            await asyncio.sleep(seconds)
        finally:
            conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
    return len(rows)


async def test_the_job_worker_runs_jobs_again_after_its_connections_are_cut(
    container: Any,
) -> None:
    c = container
    worker = asyncio.create_task(run_worker(c.job_deps()))
    try:
        first = await _wait_job_beat_after(c, 0.0, 30)
        cut_at = time.time()
        assert await _database_away(c.database_url, 4) > 0
        again = await _wait_job_beat_after(c, max(first, cut_at), 45)
        assert again > cut_at
        assert not worker.done(), worker
    finally:
        c.stopping.set()
        await asyncio.wait_for(asyncio.gather(worker, return_exceptions=True), 20)
    restarts = c.metrics.worker_restarts._value.get()
    assert restarts >= 1


async def test_ready_reports_the_jobs_apart_from_the_loop(container: Any) -> None:
    c = container
    async with c.db.sessionmaker() as s, s.begin():
        await record_heartbeat(s, "host-a", JOB_SOURCE)
        await record_heartbeat(s, "host-a", LOOP_SOURCE)
    report = await readiness(c.db, 1)
    assert report["checks"]["worker"] == "ok" and report["checks"]["worker_loop"] == "ok"
    assert report["ready"] is True

    # The loop goes on beating, the jobs stopped a minute ago: not ready.
    async with c.db.sessionmaker() as s, s.begin():
        await s.execute(
            text(
                "UPDATE worker_heartbeats SET beat_at = now() - interval '60 seconds' "
                "WHERE source = :s"
            ),
            {"s": JOB_SOURCE},
        )
        await record_heartbeat(s, "host-a", LOOP_SOURCE)
    report = await readiness(c.db, 1)
    assert report["checks"]["worker"] == "job heartbeat 60s old", report
    assert report["checks"]["worker_loop"] == "ok"
    assert report["ready"] is False
