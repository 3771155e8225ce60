"""Every job the worker runs, each bound to typed dependencies when the worker starts:
the heartbeat, token refresh, follows sync, inbox pruning, EventSub restore and the charts
refresh."""

from __future__ import annotations

import structlog

from premiere_ecoute.accounts.repository import prune_web_sessions
from premiere_ecoute.core.jobs import JOB_SOURCE, record_heartbeat
from premiere_ecoute.jobs.charts import refresh_charts
from premiere_ecoute.jobs.deps import JobDeps
from premiere_ecoute.jobs.follows import sync_all_follows
from premiere_ecoute.jobs.scores import refresh_priors
from premiere_ecoute.jobs.tokens import refresh_expiring

log = structlog.get_logger(__name__)


def register_tasks(deps: JobDeps, worker_name: str) -> None:
    app = deps.jobs
    if getattr(app, "_pe_registered", False):
        return
    app._pe_registered = True  # type: ignore[attr-defined]
    k = deps.kernel
    every = max(1, min(59, k.settings.worker_heartbeat_s))

    @app.periodic(cron=f"* * * * * */{every}", periodic_id="heartbeat")
    @app.task(name="heartbeat", queueing_lock="heartbeat", pass_context=False)
    async def heartbeat(timestamp: int) -> None:
        async with k.db.sessionmaker() as s, s.begin():
            await record_heartbeat(s, worker_name, JOB_SOURCE)
        log.debug("jobs.heartbeat", timestamp=timestamp)

    @app.periodic(cron="* * * * *", periodic_id="refresh-tokens")
    @app.task(name="refresh_tokens", queueing_lock="refresh_tokens", pass_context=False)
    async def refresh_tokens(timestamp: int) -> None:
        counts = await refresh_expiring(deps)
        if counts["due"]:
            log.info("jobs.tokens.refreshed", **counts)

    @app.periodic(cron="41 * * * *", periodic_id="sync-follows")
    @app.task(name="sync_follows", queueing_lock="sync_follows", pass_context=False)
    async def sync_follows_job(timestamp: int) -> None:
        synced, failed = await sync_all_follows(deps)
        log.info("jobs.follows.done", synced=synced, failed=failed, timestamp=timestamp)

    @app.periodic(cron="17 * * * *", periodic_id="prune-inbox")
    @app.task(name="prune_inbox", queueing_lock="prune_inbox", pass_context=False)
    async def prune_inbox_job(timestamp: int) -> None:
        async with k.db.sessionmaker() as s, s.begin():
            pruned = await k.inbox.prune(s)
            ended = await prune_web_sessions(s)
        log.info("jobs.inbox.pruned", rows=pruned, web_sessions=ended)

    @app.periodic(cron="*/10 * * * *", periodic_id="refresh-score-priors")
    @app.task(name="refresh_score_priors", queueing_lock="refresh_score_priors", pass_context=False)
    async def refresh_score_priors(timestamp: int) -> None:
        totals = await refresh_priors(deps)
        log.info("jobs.scores.priors", families=len(totals))

    @app.periodic(cron="* * * * *", periodic_id="restore-eventsub")
    @app.task(name="restore_eventsub", queueing_lock="restore_eventsub", pass_context=False)
    async def restore_eventsub(timestamp: int) -> None:
        await deps.subscriptions.restore_lost()

    @app.periodic(cron="* * * * *", periodic_id="refresh-charts")
    @app.task(name="refresh_charts", queueing_lock="refresh_charts", pass_context=False)
    async def refresh_charts_job(timestamp: int) -> None:
        summed = await refresh_charts(k)
        if summed:
            log.info("jobs.charts.refreshed", sessions=summed)
