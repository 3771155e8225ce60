"""A streamer's sessions over time: the retrospective by month or year, and the running
average of a session."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.core.errors import N_, ValidationFailed, refuse
from premiere_ecoute.sessions.models import ListeningSession, Vote
from premiere_ecoute.sessions.queries.views import _iso, _source
from premiere_ecoute.sessions.repository import get_session, scale_of
from premiere_ecoute.sessions.voting import load_report


def month_bounds(year: int, month: int | None) -> tuple[dt.datetime, dt.datetime]:
    if month is None:
        return (dt.datetime(year, 1, 1, tzinfo=dt.UTC), dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC))
    start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=dt.UTC)
    return start, end


def neighbours(year: int, month: int | None) -> dict[str, tuple[int, int | None]]:
    """Previous/next period, crossing year boundaries (Dec 2025 <- Jan 2026 -> Feb 2026)."""
    if month is None:
        return {"previous": (year - 1, None), "next": (year + 1, None)}
    prev = (year - 1, 12) if month == 1 else (year, month - 1)
    nxt = (year + 1, 1) if month == 12 else (year, month + 1)
    return {"previous": prev, "next": nxt}


async def retrospective(
    s: AsyncSession, user_id: int, year: int, month: int | None
) -> dict[str, Any]:
    if not 1970 <= year <= 9998 or (month is not None and not 1 <= month <= 12):
        raise refuse(ValidationFailed, N_("give a year from 1970 and a month from 1 to 12"))
    start, end = month_bounds(year, month)
    rows = await s.scalars(
        select(ListeningSession)
        .where(
            ListeningSession.user_id == user_id,
            ListeningSession.status == "stopped",
            ListeningSession.stopped_at >= start,
            ListeningSession.stopped_at < end,
        )
        .order_by(ListeningSession.stopped_at.desc(), ListeningSession.id.desc())
    )
    items = []
    for row in rows:
        summary = load_report(row).session_summary()
        items.append(
            {
                "session_id": row.id,
                "source": await _source(s, row),
                "stopped_at": _iso(row.stopped_at),
                "viewer_score": summary["viewer_score"],
                "streamer_score": summary["streamer_score"],
                "votes": summary["votes"],
            }
        )
    return {"year": year, "month": month, "sessions": items, **neighbours(year, month)}


async def running_average(
    s: AsyncSession, session_id: int, *, per: str = "vote"
) -> list[dict[str, Any]]:
    """The session's running average of viewer ratings over time (numeric scales), from the
    latest rating of each viewer per track, in the order they were sent."""
    row = await get_session(s, session_id)
    scale = scale_of(row)
    if scale.kind != "numeric":
        return []
    votes = await s.execute(
        select(Vote.sent_at, Vote.value)
        .where(Vote.session_id == session_id, Vote.is_streamer.is_(False))
        .order_by(Vote.sent_at)
    )
    series: list[dict[str, Any]] = []
    total = count = 0
    for sent_at, value in votes.all():
        total += int(value)
        count += 1
        point = {"at": sent_at.isoformat(), "average": total / count, "votes": count}
        if per == "minute":
            minute = sent_at.replace(second=0, microsecond=0).isoformat()
            point["at"] = minute
            if series and series[-1]["at"] == minute:
                series[-1] = point
                continue
        series.append(point)
    return series


async def sessions_to_replay(s: AsyncSession, session_id: int | None) -> list[ListeningSession]:
    """Every session, or only ``session_id``, in id order."""
    q = select(ListeningSession).order_by(ListeningSession.id)
    if session_id is not None:
        q = q.where(ListeningSession.id == session_id)
    return list(await s.scalars(q))
