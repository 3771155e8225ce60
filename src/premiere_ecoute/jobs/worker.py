"""The job worker: registers every task on the queue with its dependencies, runs them, and
beats two heartbeats that ``/ready`` reads apart: the process's loop ("loop": the process is
alive) and the periodic heartbeat job ("job": jobs do run).

The job runner is supervised: when it stops on a database error (a restart of PostgreSQL
breaks its pool and its LISTEN connection), it is opened again with backoff, so periodic jobs
run again within seconds of the database coming back."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import structlog

from premiere_ecoute.core.jobs import LOOP_SOURCE, record_heartbeat
from premiere_ecoute.jobs.deps import JobDeps
from premiere_ecoute.jobs.tasks import register_tasks

log = structlog.get_logger(__name__)
WORKER_NAME = socket.gethostname()
RESTART_DELAYS_S = (1.0, 2.0, 4.0, 8.0)  # then 8 s between attempts
HEALTHY_RUN_S = 60.0  # a runner that lasted this long starts again from the first delay


async def heartbeat_loop(deps: JobDeps) -> None:
    """The worker process says it is alive even between jobs; the periodic job proves jobs
    run (``/ready`` tells the two apart)."""
    k = deps.kernel
    while not k.stopping.is_set():
        try:
            async with k.db.sessionmaker() as s, s.begin():
                await record_heartbeat(s, WORKER_NAME, LOOP_SOURCE)
        except Exception as exc:
            log.warning("worker.heartbeat.failed", error=str(exc)[:200])
        await _pause(deps, k.settings.worker_heartbeat_s)


async def _pause(deps: JobDeps, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await deps.kernel.stopping.wait()


async def run_jobs_once(deps: JobDeps) -> None:
    """Open the job app (a fresh connection pool) and run the worker until it stops on its
    own, or until ``stopping`` is set (then it is cancelled: procrastinate lets running jobs
    finish)."""
    stopping = deps.kernel.stopping
    async with deps.jobs.open_async():
        runner = asyncio.create_task(
            deps.jobs.run_worker_async(
                install_signal_handlers=False, wait=True, listen_notify=True, name=WORKER_NAME
            ),
            name="worker.jobs",
        )
        stop = asyncio.create_task(stopping.wait(), name="worker.jobs.stop")
        try:
            await asyncio.wait({runner, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not runner.done():
                runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner
        if not stopping.is_set():
            runner.result()  # its error, if it failed


async def supervise_jobs(deps: JobDeps) -> int:
    """Run the job worker until ``stopping`` is set, starting it again whenever it stops on
    its own (procrastinate stops its worker when a side task, such as its heartbeat or its
    LISTEN connection, fails). Returns how many times it was started again."""
    stopping = deps.kernel.stopping
    restarts = 0
    attempt = 0
    while not stopping.is_set():
        started = time.monotonic()
        try:
            await run_jobs_once(deps)
            error = "the job worker stopped"
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
        if stopping.is_set():
            break
        if time.monotonic() - started >= HEALTHY_RUN_S:
            attempt = 0
        delay = RESTART_DELAYS_S[min(attempt, len(RESTART_DELAYS_S) - 1)]
        attempt += 1
        restarts += 1
        deps.kernel.metrics.worker_restarts.inc()
        log.warning("worker.jobs.restarting", error=error, in_s=delay, restarts=restarts)
        await _pause(deps, delay)
    return restarts


async def run_worker(deps: JobDeps) -> None:
    register_tasks(deps, WORKER_NAME)
    deps.kernel.spawn(heartbeat_loop(deps), "worker.heartbeat")
    await supervise_jobs(deps)
