"""Long-running loops of a process: vote ingest, chat queue, job worker, EventSub WebSocket.

``serve`` runs the ingest loop (and in development the worker) next to the web app; ``worker``
runs the job worker and the ingest loop. Every loop survives errors and stops on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import structlog

from premiere_ecoute.jobs.queue import record_heartbeat
from premiere_ecoute.jobs.tasks import WORKER_NAME, register_tasks

if TYPE_CHECKING:
    from premiere_ecoute.bootstrap import Container

log = structlog.get_logger(__name__)


async def ingest_once(c: Container, limit: int = 500) -> Any:
    from premiere_ecoute.web.live import publish_session

    ingestor = c.services["ingestor"]
    async with c.db.sessionmaker() as s, s.begin():
        res = await ingestor.process_batch(s, limit)
    if res.processed:
        c.metrics.inbox_batch.observe(res.processed)
        c.metrics.votes.labels("chat", "accepted").inc(res.accepted)
        c.metrics.votes.labels("chat", "rejected").inc(res.rejected)
        c.metrics.votes.labels("chat", "ignored").inc(res.ignored)
    for session_id, user_id in res.sessions.items():
        await publish_session(c, session_id, user_id)
    return res


async def ingest_loop(c: Container) -> None:
    wake = c.broker.subscribe("inbox")
    try:
        while not c.stopping.is_set():
            try:
                res = await ingest_once(c)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("ingest.batch.failed")
                await asyncio.sleep(1)
                continue
            if res.processed == 0:
                with contextlib.suppress(TimeoutError):
                    await wake.get(timeout=1.0)
                while not wake.queue.empty():
                    wake.queue.get_nowait()
    finally:
        wake.close()


async def heartbeat_loop(c: Container) -> None:
    """The worker says it is alive even between jobs; the periodic job proves jobs run."""
    while not c.stopping.is_set():
        try:
            async with c.db.sessionmaker() as s, s.begin():
                await record_heartbeat(s, WORKER_NAME, "worker")
        except Exception:
            log.exception("worker.heartbeat.failed")
        await asyncio.sleep(c.settings.worker_heartbeat_s)


async def run_worker(c: Container) -> None:
    register_tasks(c)
    async with c.jobs.open_async():
        c.spawn(heartbeat_loop(c), "worker.heartbeat")
        await c.jobs.run_worker_async(
            install_signal_handlers=False, wait=True, listen_notify=True, name=WORKER_NAME
        )


async def start_chat_queue(c: Container) -> None:
    queue = c.services.get("chat_queue")
    if queue is not None:
        c.spawn(queue.run(c.stopping), "chat.queue")


async def start_web_background(c: Container, *, with_worker: bool | None = None) -> None:
    if with_worker is None:
        with_worker = c.settings.environment == "development"
    # Say alive before answering /ready, so a fresh start is ready at once.
    async with c.db.sessionmaker() as s, s.begin():
        if with_worker:
            await record_heartbeat(s, WORKER_NAME, "startup")
    if with_worker:
        c.spawn(run_worker(c), "worker")
    c.spawn(ingest_loop(c), "ingest")
    await start_chat_queue(c)
    from premiere_ecoute.sessions.monitor import start_monitors

    await start_monitors(c)
    if c.settings.twitch_eventsub_transport == "websocket":
        # Subscriptions carry this process's WebSocket session id: the process that runs
        # session commands must hold the connection.
        from premiere_ecoute.apis.twitch.eventsub_runtime import start_eventsub_websocket

        await start_eventsub_websocket(c)
