"""Writes of the chart aggregates: the periodic refresh sums up each finished album session
that is new or changed since its row was written (late votes within the stream delay, a
viewer's erasure rebuilding a report), and deleted sessions leave with their rows (cascade).

A session is summed up once its last vote can have arrived (``stopped_at + stream_delay_s``);
it is summed again only when ``listening_sessions.updated_at`` moves past the row's
``source_updated_at``. The cost of a refresh is the number of such sessions, never the
history's size."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.sessions.charts.models import ChartSession, ChartSnapshot, ChartTrack
from premiere_ecoute.sessions.charts.summary import summarise
from premiere_ecoute.sessions.models import ListeningSession
from premiere_ecoute.sessions.voting import load_report

BATCH = 500


async def stale_session_ids(s: AsyncSession, now: dt.datetime, limit: int = BATCH) -> list[int]:
    ls, cs = ListeningSession, ChartSession
    settled = ls.stopped_at + func.make_interval(0, 0, 0, 0, 0, 0, ls.stream_delay_s) <= now
    rows = await s.scalars(
        select(ls.id)
        .outerjoin(cs, cs.session_id == ls.id)
        .where(
            ls.status == "stopped",
            ls.source_kind == "album",
            ls.album_id.is_not(None),
            ls.stopped_at.is_not(None),
            settled,
            (cs.session_id.is_(None)) | (cs.source_updated_at < ls.updated_at),
        )
        .order_by(ls.id)
        .limit(limit)
    )
    return list(rows)


async def summarise_sessions(s: AsyncSession, session_ids: list[int]) -> int:
    """(Re)write the chart rows of these sessions from their reports."""
    if not session_ids:
        return 0
    rows = list(
        await s.scalars(select(ListeningSession).where(ListeningSession.id.in_(session_ids)))
    )
    await s.execute(delete(ChartTrack).where(ChartTrack.session_id.in_(session_ids)))
    await s.execute(delete(ChartSession).where(ChartSession.session_id.in_(session_ids)))
    sessions: list[dict[str, object]] = []
    tracks: list[dict[str, object]] = []
    for row in rows:
        if row.stopped_at is None or row.album_id is None:
            continue
        summary = summarise(load_report(row), list(row.track_ids or []))
        m = summary.moments
        sessions.append(
            {
                "session_id": row.id,
                "user_id": row.user_id,
                "album_id": row.album_id,
                "family": summary.family,
                "stopped_at": row.stopped_at,
                "source_updated_at": row.updated_at,
                "ratings": m.ratings,
                "voters": summary.voters,
                "total": m.total,
                "sumsq": m.sumsq,
                "extremes": m.extremes,
                "viewer_score": summary.viewer_score,
                "viewer_mode": summary.viewer_mode,
            }
        )
        for t in summary.tracks:
            tracks.append(
                {
                    "session_id": row.id,
                    "track_id": t.track_id,
                    "album_id": row.album_id,
                    "family": summary.family,
                    "stopped_at": row.stopped_at,
                    "ratings": t.moments.ratings,
                    "total": t.moments.total,
                    "sumsq": t.moments.sumsq,
                    "extremes": t.moments.extremes,
                    "streamer": t.streamer,
                }
            )
    if sessions:
        await s.execute(insert(ChartSession), sessions)
    if tracks:
        await s.execute(insert(ChartTrack), tracks)
    return len(sessions)


async def refresh_batch(s: AsyncSession, now: dt.datetime, limit: int = BATCH) -> int:
    """One batch of stale sessions summed up; the caller commits and calls again while > 0."""
    return await summarise_sessions(s, await stale_session_ids(s, now, limit))


async def save_snapshot(
    s: AsyncSession, period: str, family: str, data: dict[str, Any], now: dt.datetime
) -> None:
    values = {"period": period, "family": family, "computed_at": now, "data": data}
    await s.execute(
        upsert(ChartSnapshot)
        .values(values)
        .on_conflict_do_update(
            index_elements=["period", "family"], set_={"computed_at": now, "data": data}
        )
    )
