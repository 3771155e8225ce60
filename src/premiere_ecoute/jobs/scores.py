"""Refreshing the instance means that honest scores shrink toward (one pass over the stored
report counters, so that reading a report costs one row)."""

from __future__ import annotations

from premiere_ecoute.jobs.deps import JobDeps
from premiere_ecoute.sessions import queries
from premiere_ecoute.sessions import repository as repo


async def refresh_priors(deps: JobDeps) -> dict[str, tuple[float, int]]:
    k = deps.kernel
    async with k.db.sessionmaker() as s, s.begin():
        totals = await queries.rating_totals(s)
        await repo.store_priors(s, totals, k.clock.now())
    return totals
