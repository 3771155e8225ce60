"""The charts' refresh (``sessions.charts``): every finished album session that is new or
changed since it was last summed up, in batches of one transaction each; then, when anything
changed (or the snapshots are over an hour old, as rolling periods move), every chart page's
figures computed once and stored, so that a page view reads one row."""

from __future__ import annotations

import datetime as dt

from premiere_ecoute.core.kernel import Kernel
from premiere_ecoute.sessions.charts import queries
from premiere_ecoute.sessions.charts.repository import BATCH, refresh_batch, save_snapshot

SNAPSHOT_MAX_AGE = dt.timedelta(hours=1)


async def refresh_charts(kernel: Kernel, *, batch: int = BATCH) -> int:
    """Returns how many sessions were summed up."""
    done = 0
    while True:
        async with kernel.db.sessionmaker() as s, s.begin():
            count = await refresh_batch(s, kernel.clock.now(), batch)
        done += count
        if count < batch:
            break
    async with kernel.db.sessionmaker() as s, s.begin():
        now = kernel.clock.now()
        if done or await queries.snapshots_due(s, now, SNAPSHOT_MAX_AGE):
            for chosen in queries.every_filter():
                data = await queries.charts(s, now, chosen)
                await save_snapshot(s, chosen.period, chosen.family, data, now)
    return done
