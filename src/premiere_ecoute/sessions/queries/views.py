"""What a session looks like on a page, in the API and on a live stream: detail, report,
lists, the dashboard, the vote feed, and the live view."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.core.errors import N_, NotFound, ValidationFailed, refuse
from premiere_ecoute.discography.models import Album, Playlist, Track
from premiere_ecoute.sessions.models import ListeningSession, Vote
from premiere_ecoute.sessions.repository import get_session, scale_of, track_refs
from premiere_ecoute.sessions.scores import TrackRef
from premiere_ecoute.sessions.voting import load_report


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


async def sessions_of(
    s: AsyncSession, user_id: int, *, page: int = 1, per_page: int = 20
) -> dict[str, Any]:
    """Active, then preparing, then completed newest first; completed ones are paginated."""
    if page < 1 or not 1 <= per_page <= 100:
        raise refuse(ValidationFailed, N_("page starts at 1 and per_page is between 1 and 100"))
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
        raise refuse(NotFound, N_("session %(id)s does not exist"), id=session_id)


async def active_session_of(s: AsyncSession, user_id: int) -> ListeningSession | None:
    """The streamer's running session, if any (at most one: a unique index says so)."""
    return await s.scalar(
        select(ListeningSession).where(
            ListeningSession.user_id == user_id, ListeningSession.status == "active"
        )
    )


async def owner_of(s: AsyncSession, session_id: int) -> int | None:
    return await s.scalar(select(ListeningSession.user_id).where(ListeningSession.id == session_id))


COMPACT_OMITS = ("detail", "report", "latest_votes")
IDLE_VIEW: dict[str, Any] = {
    "active": False,
    "status": None,
    "votes_open": False,
    "session": None,
    "report": None,
    "detail": None,
    "track": None,
    "album": None,
    "latest_votes": [],
}


async def live_view(
    s: AsyncSession,
    *,
    session_id: int | None = None,
    streamer_id: int | None = None,
    now: dt.datetime,
    compact: bool = False,
) -> dict[str, Any]:
    """What a live page shows (contract at the top of static/app.js), plus the session detail,
    the report and the feed of the latest votes for the control page and API clients: of one
    session, or of a streamer's active session. ``compact`` leaves those three out (the public
    page and the overlay do not show them)."""
    if session_id is not None:
        row = await s.get(ListeningSession, session_id)
    else:
        assert streamer_id is not None
        row = await active_session_of(s, streamer_id)
    if row is None:
        idle = dict(IDLE_VIEW)
        if compact:
            for key in COMPACT_OMITS:
                idle.pop(key)
        return idle
    # One read of the track list serves the detail and the report (each live update).
    refs = await track_refs(s, row)
    detail = await session_view(s, row, refs)
    report = report_of(row, refs)
    current = detail["current_track"]
    duration = await track_duration_ms(s, current["track_id"]) if current else None
    track = None
    if current is not None:
        entry: dict[str, Any] = next(
            (t for t in report["tracks"] if t["track_id"] == current["track_id"]), {}
        )
        track = {
            "number": current["position"],
            "total": detail["track_count"],
            "name": current["name"],
            "viewer_score": entry.get("viewer_score"),
            "streamer_score": entry.get("streamer_score"),
            "votes": entry.get("votes"),
            "distribution": entry.get("distribution"),
            **player_progress(row.player, current["position"], duration, now),
        }
    view: dict[str, Any] = {
        "active": row.status == "active",
        "status": row.status,
        "votes_open": detail["votes_open"],
        "scale": detail["scale"],
        "album": {
            "name": detail["source"]["name"],
            "artist": detail["source"]["artist"],
            "cover_url": detail["source"]["cover_url"],
        },
        "track": track,
        "session": {
            "id": row.id,
            "user_id": row.user_id,
            **{
                k: report[k]
                for k in (
                    "viewer_score",
                    "streamer_score",
                    "votes",
                    "voters",
                    "poll_votes",
                    "tracks_rated",
                )
            },
        },
        "notice": detail["notice"],
    }
    if not compact:
        view.update(detail=detail, report=report, latest_votes=await latest_votes(s, row.id))
    return view


def player_progress(
    status: dict[str, Any] | None, position: int, duration_ms: int | None, now: dt.datetime
) -> dict[str, Any]:
    """``progress_ms``/``duration_ms``/``is_playing`` of the current track: from the player
    monitor's last reading (moved on by the time since, when playing) when Spotify is on that
    track, else the track's duration with progress and state unknown (None)."""
    unknown = {"progress_ms": None, "duration_ms": duration_ms or None, "is_playing": None}
    if not status or status.get("position") != position or status.get("progress_ms") is None:
        return unknown
    progress = int(status["progress_ms"])
    total = int(status.get("duration_ms") or duration_ms or 0) or None
    playing = bool(status.get("is_playing"))
    if playing and status.get("checked_at"):
        try:
            checked = dt.datetime.fromisoformat(str(status["checked_at"]))
        except ValueError:
            checked = None
        if checked is not None:
            elapsed = (now - checked).total_seconds()
            progress += int(max(0.0, elapsed) * 1000)
    if total is not None:
        progress = min(progress, total)
    return {"progress_ms": progress, "duration_ms": total, "is_playing": playing}
