"""The chart aggregates' refresh (``sessions.charts.repository``): every finished album
session that is new or changed since it was last summed up, in batches of one transaction
each, until none is left."""

from __future__ import annotations

from premiere_ecoute.core.kernel import Kernel
from premiere_ecoute.sessions.charts.repository import BATCH, refresh_batch


async def refresh_charts(kernel: Kernel, *, batch: int = BATCH) -> int:
    """Returns how many sessions were summed up."""
    done = 0
    while True:
        async with kernel.db.sessionmaker() as s, s.begin():
            count = await refresh_batch(s, kernel.clock.now(), batch)
        done += count
        if count < batch:
            return done
