"""What honest scores read: the instance prior of a scale family, and the sums it is made of."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.sessions.models import ListeningSession, ScorePrior, Vote
from premiere_ecoute.sessions.scores.honest import (
    Prior,
    attach_figures,
    prior_from_totals,
    scale_family,
    session_totals,
)
from premiere_ecoute.sessions.scores.report import ReportState
from premiere_ecoute.sessions.scores.scale import Scale

TOTALS_BATCH = 500


async def prior_for(s: AsyncSession, scale: Scale) -> Prior:
    """The prior a report of ``scale`` is ranked with: the last refreshed instance mean of its
    family, or the neutral default before the first refresh (and for custom word lists)."""
    family = scale_family(scale)
    row = None if family is None else await s.get(ScorePrior, family)
    if row is None:
        return prior_from_totals(scale, 0.0, 0)
    return prior_from_totals(scale, row.total, row.ratings)


async def with_figures(s: AsyncSession, report: dict[str, Any]) -> dict[str, Any]:
    """The report with its honest figures (one read of the prior)."""
    scale = Scale.from_json(report["scale"])
    return attach_figures(report, await prior_for(s, scale))


async def rating_totals(s: AsyncSession) -> dict[str, tuple[float, int]]:
    """Σ normalised rating and number of viewer ratings per scale family, over every session
    of the instance (read in batches from the stored report counters; a job's work)."""
    sums: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    result = await s.stream(
        select(ListeningSession.report)
        .where(ListeningSession.report.is_not(None))
        .execution_options(yield_per=TOTALS_BATCH)
    )
    async for (data,) in result:
        if not data or "scale" not in data:
            continue
        state = ReportState.from_json(data)
        family, total, n = session_totals(state.scale, state.session_distribution())
        if family is None or n == 0:
            continue
        sums.setdefault(family, []).append(total)
        counts[family] = counts.get(family, 0) + n
    return {family: (math.fsum(parts), counts[family]) for family, parts in sums.items()}


async def rating_of(s: AsyncSession, session_id: int, track_id: int, viewer_id: str) -> str | None:
    """A viewer's (or the streamer's) latest rating of a track of the session, or None."""
    value: str | None = await s.scalar(
        select(Vote.value).where(
            Vote.session_id == session_id, Vote.track_id == track_id, Vote.viewer_id == viewer_id
        )
    )
    return value
