"""The job worker: registers every task on the queue with its dependencies, runs them, and
beats a heartbeat that ``/ready`` reads."""

from __future__ import annotations

import asyncio
import socket

import structlog

from premiere_ecoute.core.jobs import record_heartbeat
from premiere_ecoute.jobs.deps import JobDeps
from premiere_ecoute.jobs.tasks import register_tasks

log = structlog.get_logger(__name__)
WORKER_NAME = socket.gethostname()


async def heartbeat_loop(deps: JobDeps) -> None:
    """The worker says it is alive even between jobs; the periodic job proves jobs run."""
    k = deps.kernel
    while not k.stopping.is_set():
        try:
            async with k.db.sessionmaker() as s, s.begin():
                await record_heartbeat(s, WORKER_NAME, "worker")
        except Exception:
            log.exception("worker.heartbeat.failed")
        await asyncio.sleep(k.settings.worker_heartbeat_s)


async def run_worker(deps: JobDeps) -> None:
    register_tasks(deps, WORKER_NAME)
    async with deps.jobs.open_async():
        deps.kernel.spawn(heartbeat_loop(deps), "worker.heartbeat")
        await deps.jobs.run_worker_async(
            install_signal_handlers=False, wait=True, listen_notify=True, name=WORKER_NAME
        )
