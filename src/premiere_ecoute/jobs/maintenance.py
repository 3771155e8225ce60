"""Housekeeping jobs: pruning processed inbox rows, restoring lost EventSub subscriptions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from premiere_ecoute.bootstrap import Container


def register_maintenance(c: Container) -> None:
    app = c.jobs

    @app.periodic(cron="17 * * * *", periodic_id="prune-inbox")
    @app.task(name="prune_inbox", queueing_lock="prune_inbox", pass_context=False)
    async def prune_inbox(timestamp: int) -> None:
        # Processed messages are kept a week: long enough to recognise any redelivery.
        async with c.db.sessionmaker() as s, s.begin():
            await s.execute(
                text("DELETE FROM inbox WHERE processed_at < now() - interval '7 days'")
            )

    @app.periodic(cron="* * * * *", periodic_id="restore-eventsub")
    @app.task(name="restore_eventsub", queueing_lock="restore_eventsub", pass_context=False)
    async def restore_eventsub(timestamp: int) -> None:
        from premiere_ecoute.apis.twitch.eventsub_runtime import restore_lost_subscriptions

        await restore_lost_subscriptions(c)
