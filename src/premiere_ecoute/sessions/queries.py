"""Session read models: lists, detail, report, retrospective and chart series."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.core.errors import NotFound, ValidationFailed
from premiere_ecoute.discography.models import Album, Playlist, Track
from premiere_ecoute.sessions.models import ListeningSession, Vote
from premiere_ecoute.sessions.repository import get_session, scale_of, track_refs
from premiere_ecoute.sessions.scores import (
    PollBallots,
    StreamerVote,
    TrackRef,
    ViewerVote,
    recompute_report,
)
from premiere_ecoute.sessions.voting import load_report, stored_facts


async def _source(s: AsyncSession, row: ListeningSession) -> dict[str, Any]:
    if row.album_id:
        album = await s.get(Album, row.album_id)
        if album:
            return {
                "kind": "album",
                "spotify_id": album.spotify_id,
                "name": album.name,
                "artist": album.artist,
                "cover_url": album.cover_url,
                "release_date": album.release_date.isoformat() if album.release_date else None,
            }
    if row.playlist_id:
        pl = await s.get(Playlist, row.playlist_id)
        if pl:
            return {
                "kind": "playlist",
                "spotify_id": pl.spotify_id,
                "name": pl.name,
                "artist": pl.owner,
                "cover_url": pl.cover_url,
                "release_date": None,
            }
    return {
        "kind": row.source_kind,
        "spotify_id": None,
        "name": "",
        "artist": "",
        "cover_url": None,
        "release_date": None,
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


async def session_view(
    s: AsyncSession, row: ListeningSession, refs: list[TrackRef] | None = None
) -> dict[str, Any]:
    refs = refs if refs is not None else await track_refs(s, row)
    current = None
    if row.current_index is not None and row.status == "active":
        ref = refs[row.current_index]
        current = {
            "track_id": ref.track_id,
            "track_number": ref.track_number,
            "name": ref.name,
            "spotify_id": ref.spotify_id,
            "position": row.current_index + 1,
        }
    return {
        "id": row.id,
        "user_id": row.user_id,
        "status": row.status,
        "source": await _source(s, row),
        "scale": scale_of(row).to_json(),
        "vote_mode": row.vote_mode,
        "stream_delay_s": row.stream_delay_s,
        "poll_duration_s": row.poll_duration_s,
        "auto_advance": row.auto_advance,
        "playback": row.playback,
        "current_track": current,
        "votes_open": bool(row.votes_open and row.status == "active"),
        "track_count": len(row.track_ids),
        "notice": row.notice,
        "created_at": _iso(row.created_at),
        "started_at": _iso(row.started_at),
        "stopped_at": _iso(row.stopped_at),
    }


async def session_detail(s: AsyncSession, session_id: int) -> dict[str, Any]:
    return await session_view(s, await get_session(s, session_id))


async def report(s: AsyncSession, session_id: int) -> dict[str, Any]:
    row = await get_session(s, session_id)
    return report_of(row, await track_refs(s, row))


def report_of(row: ListeningSession, refs: list[TrackRef]) -> dict[str, Any]:
    """The report of a row already loaded, with its track references."""
    return load_report(row).to_report(row.id, row.status, refs)


async def recomputed_report(s: AsyncSession, session_id: int) -> dict[str, Any]:
    """The report counted from scratch from the ``votes`` and ``polls`` tables by the pure
    ``recompute_report`` (an implementation independent of the incremental counters, to check
    them; it scans the session's votes, so not for live pages)."""
    row = await get_session(s, session_id)
    facts = await stored_facts(s, session_id)
    return recompute_report(
        session_id=row.id,
        status=row.status,
        scale=scale_of(row),
        tracks=await track_refs(s, row),
        viewer_votes=[
            ViewerVote(track_id, viewer_id, option, order)
            for order, ((track_id, viewer_id), option) in enumerate(facts.viewers.items())
        ],
        streamer_votes=[
            StreamerVote(track_id=track_id, option=option, order=0)
            for track_id, option in facts.streamer.items()
        ],
        poll_ballots=[
            PollBallots(track_id, poll_id, counts, 0)
            for (track_id, poll_id), counts in facts.polls.items()
        ],
    )


async def sessions_of(
    s: AsyncSession, user_id: int, *, page: int = 1, per_page: int = 20
) -> dict[str, Any]:
    """Active, then preparing, then completed newest first; completed ones are paginated."""
    if page < 1 or not 1 <= per_page <= 100:
        raise ValidationFailed("page starts at 1 and per_page is between 1 and 100")
    base = select(ListeningSession).where(ListeningSession.user_id == user_id)
    active = list(await s.scalars(base.where(ListeningSession.status == "active")))
    preparing = list(
        await s.scalars(
            base.where(ListeningSession.status == "preparing").order_by(
                ListeningSession.created_at.desc(), ListeningSession.id.desc()
            )
        )
    )
    total = (
        await s.scalar(
            select(func.count())
            .select_from(ListeningSession)
            .where(ListeningSession.user_id == user_id, ListeningSession.status == "stopped")
        )
        or 0
    )
    stopped = list(
        await s.scalars(
            base.where(ListeningSession.status == "stopped")
            .order_by(ListeningSession.stopped_at.desc(), ListeningSession.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return {
        "active": [await session_view(s, r) for r in active],
        "preparing": [await session_view(s, r) for r in preparing],
        "completed": [await session_view(s, r) for r in stopped],
        "page": page,
        "per_page": per_page,
        "completed_total": int(total),
        "pages": max(1, -(-int(total) // per_page)),
    }


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
        raise ValidationFailed("give a year from 1970 and a month from 1 to 12")
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


async def dashboard(s: AsyncSession, user_id: int) -> dict[str, Any]:
    """The logged-in home page: the user's running session and latest sessions."""

    def card(view: dict[str, Any], summary: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "id": view["id"],
            "status": view["status"],
            "album_name": view["source"]["name"],
            "artist": view["source"]["artist"],
            "cover_url": view["source"]["cover_url"],
            "viewer_score": (summary or {}).get("viewer_score"),
            "started_at": dt.datetime.fromisoformat(view["started_at"])
            if view["started_at"]
            else None,
        }

    mine = await sessions_of(s, user_id, page=1, per_page=5)
    running = mine["active"] or mine["preparing"]
    recent = []
    for view in mine["completed"]:
        row = await get_session(s, view["id"])
        recent.append(card(view, load_report(row).session_summary()))
    return {"active_session": card(running[0]) if running else None, "recent_sessions": recent}


def masked_id(viewer_id: str) -> str:
    """Enough of a viewer id to tell voters apart in a live feed, not to identify them."""
    return f"…{viewer_id[-4:]}"


async def latest_votes(s: AsyncSession, session_id: int, limit: int = 15) -> list[dict[str, Any]]:
    """The session's latest chat/web/API ratings, newest first (a changed rating counts as
    new). Viewer ids are masked; the streamer's own ratings are flagged ``is_streamer``."""
    row = await get_session(s, session_id)
    positions = {track_id: index + 1 for index, track_id in enumerate(row.track_ids)}
    result = await s.execute(
        select(
            Vote.id,
            Vote.viewer_id,
            Vote.is_streamer,
            Vote.value,
            Vote.source,
            Vote.sent_at,
            Vote.track_id,
            Track.track_number,
            Track.name,
        )
        .join(Track, Track.id == Vote.track_id, isouter=True)
        .where(Vote.session_id == session_id)
        .order_by(Vote.sent_at.desc(), Vote.id.desc())
        .limit(max(1, min(limit, 100)))
    )
    feed = []
    for vote_id, viewer_id, is_streamer, value, source, sent_at, track_id, album_no, name in result:
        number = album_no if row.source_kind == "album" and album_no else positions.get(track_id)
        feed.append(
            {
                "id": vote_id,
                "viewer": "streamer" if is_streamer else f"viewer {masked_id(viewer_id)}",
                "masked_id": None if is_streamer else masked_id(viewer_id),
                "is_streamer": bool(is_streamer),
                "value": value,
                "track_number": number,
                "track_name": name or "",
                "source": source,
                "sent_at": _iso(sent_at),
            }
        )
    return feed


async def track_duration_ms(s: AsyncSession, track_id: int) -> int | None:
    return await s.scalar(select(Track.duration_ms).where(Track.id == track_id))


async def check_readable(s: AsyncSession, session_id: int, user_id: int, is_admin: bool) -> None:
    """Started sessions are public (their live page and report are); a session still being
    prepared is its streamer's (and the admins') only. Others are told it does not exist."""
    row = await get_session(s, session_id)
    if row.status == "preparing" and row.user_id != user_id and not is_admin:
        raise NotFound(f"session {session_id} does not exist")


async def active_session_of(s: AsyncSession, user_id: int) -> ListeningSession | None:
    """The streamer's running session, if any (at most one: a unique index says so)."""
    return await s.scalar(
        select(ListeningSession).where(
            ListeningSession.user_id == user_id, ListeningSession.status == "active"
        )
    )
