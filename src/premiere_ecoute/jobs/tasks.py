"""Job definitions, bound to a container when the worker (or the web app) starts."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import structlog

from premiere_ecoute.jobs.queue import record_heartbeat

if TYPE_CHECKING:
    from premiere_ecoute.bootstrap import Container

log = structlog.get_logger(__name__)
WORKER_NAME = f"{socket.gethostname()}"


def register_tasks(c: Container) -> None:
    app = c.jobs
    if getattr(app, "_pe_registered", False):
        return
    app._pe_registered = True
    every = max(1, min(59, c.settings.worker_heartbeat_s))

    @app.periodic(cron=f"* * * * * */{every}", periodic_id="heartbeat")
    @app.task(name="heartbeat", queueing_lock="heartbeat", pass_context=False)
    async def heartbeat(timestamp: int) -> None:
        async with c.db.sessionmaker() as s, s.begin():
            await record_heartbeat(s, WORKER_NAME, "job")
        log.debug("jobs.heartbeat", timestamp=timestamp)

    from premiere_ecoute.jobs.follows import register_follow_jobs
    from premiere_ecoute.jobs.maintenance import register_maintenance
    from premiere_ecoute.jobs.tokens import register_token_jobs

    register_maintenance(c)
    register_token_jobs(c)
    register_follow_jobs(c)
