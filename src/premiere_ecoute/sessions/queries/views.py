"""What a session looks like on a page, in the API and on a live stream: detail, report,
lists, the dashboard, the vote feed, and the live view."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.core.errors import N_, NotFound, ValidationFailed, refuse
from premiere_ecoute.discography.models import Album, Playlist, Track
from premiere_ecoute.sessions.models import CHAT_COMMANDS, ListeningSession, Vote
from premiere_ecoute.sessions.queries.scores import with_figures
from premiere_ecoute.sessions.queries.show import heard, latest_votes, poll_view, spotify_problem
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
                # A playlist has no artist of its own: each track shows its own artists.
                "artist": "",
                "owner": pl.owner,
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
            "artists": list(ref.artists),
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
        "final_scene_s": row.final_scene_s,
        "language": row.language,
        "current_track": current,
        "votes_open": bool(row.votes_open and row.status == "active"),
        "chat_commands": {
            "language": row.chat_language,
            **{name: bool((row.chat_commands or {}).get(name)) for name in CHAT_COMMANDS},
        },
        "track_count": len(row.track_ids),
        "notice": row.notice,
        # The player monitor's view of Spotify: "disconnected" (reconnect it), "degraded"
        # (failing for now, retrying), or what the player does; None while unknown.
        "player_state": (row.player or {}).get("state") if row.playback == "spotify" else None,
        "spotify_problem": spotify_problem(row) if row.status == "active" else None,
        "created_at": _iso(row.created_at),
        "started_at": _iso(row.started_at),
        "stopped_at": _iso(row.stopped_at),
    }


async def session_detail(s: AsyncSession, session_id: int) -> dict[str, Any]:
    return await session_view(s, await get_session(s, session_id))


async def report(s: AsyncSession, session_id: int) -> dict[str, Any]:
    """The SPEC §5 report with its honest figures (``figures``, per track and overall)."""
    row = await get_session(s, session_id)
    return await with_figures(s, report_of(row, await track_refs(s, row)))


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
            "artist": view["source"]["artist"] or view["source"].get("owner", ""),
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


async def votes_seen(s: AsyncSession, streamer_id: int) -> bool:
    """Whether any rating ever reached a session of this streamer (the first-time checklist's
    "a test vote seen")."""
    found = await s.scalar(
        select(Vote.id)
        .join(ListeningSession, ListeningSession.id == Vote.session_id)
        .where(ListeningSession.user_id == streamer_id)
        .limit(1)
    )
    return found is not None


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


COMPACT_OMITS = ("detail", "report", "latest_votes", "poll")
# A view that must be read again at a known moment says so under this key (the live hub
# takes it out and reads the view again then): what a delayed stream's audience hears.
REFRESH_KEY = "_refresh_in_s"
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
    "poll": None,
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
        if streamer_id is not None and (final := await final_scene(s, streamer_id, now)):
            idle["final"] = final
        return idle
    # One read of the track list serves the detail and the report (each live update).
    refs = await track_refs(s, row)
    detail = await session_view(s, row, refs)
    report = report_of(row, refs)
    current = detail["current_track"]
    votes_open = detail["votes_open"]
    refresh_in_s: float | None = None
    if compact and row.stream_delay_s and current is not None:
        # The audience hears the stream late: the public page and the overlay show the track
        # they hear, and whether a vote sent now counts for it (SPEC §4.3).
        now_heard = heard(row, now)
        index = now_heard.index if now_heard.index is not None else 0
        ref = refs[index]
        current = {
            "track_id": ref.track_id,
            "track_number": ref.track_number,
            "name": ref.name,
            "artists": list(ref.artists),
            "spotify_id": ref.spotify_id,
            "position": index + 1,
        }
        votes_open = now_heard.votes_open
        refresh_in_s = now_heard.refresh_in_s
    duration = await track_duration_ms(s, current["track_id"]) if current else None
    track = None
    if current is not None:
        entry: dict[str, Any] = next(
            (t for t in report["tracks"] if t["track_id"] == current["track_id"]), {}
        )
        track = {
            "id": current["track_id"],
            "number": current["position"],
            "total": detail["track_count"],
            "name": current["name"],
            "artist": ", ".join(current["artists"]) or detail["source"]["artist"],
            "viewer_score": entry.get("viewer_score"),
            "streamer_score": entry.get("streamer_score"),
            "votes": entry.get("votes"),
            "distribution": entry.get("distribution"),
            **player_progress(row.player, current["position"], duration, now),
        }
    view: dict[str, Any] = {
        "active": row.status == "active",
        "status": row.status,
        "votes_open": votes_open,
        "scale": detail["scale"],
        "album": {
            "name": detail["source"]["name"],
            # A playlist's tracks each have their own artists: the one playing is shown.
            "artist": detail["source"]["artist"] or (track or {}).get("artist", ""),
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
        view.update(
            detail=detail,
            report=report,
            latest_votes=await latest_votes(s, row.id),
            poll=await poll_view(s, row, refs, now),
        )
    if refresh_in_s is not None:
        view[REFRESH_KEY] = refresh_in_s
    return view


async def final_scene(s: AsyncSession, streamer_id: int, now: dt.datetime) -> dict[str, Any] | None:
    """The closing scene the overlay and the public page show for ``final_scene_s`` seconds
    after a stop: the album's result, its best and worst tracks (numeric scales) and the
    cover. None once that time is over, or when the streamer's last session has none."""
    row = await s.scalar(
        select(ListeningSession)
        .where(
            ListeningSession.user_id == streamer_id,
            ListeningSession.status == "stopped",
            ListeningSession.stopped_at.is_not(None),
        )
        .order_by(ListeningSession.stopped_at.desc(), ListeningSession.id.desc())
        .limit(1)
    )
    if row is None or row.stopped_at is None or row.final_scene_s <= 0:
        return None
    remaining = (row.stopped_at + dt.timedelta(seconds=row.final_scene_s) - now).total_seconds()
    if remaining <= 0:
        return None
    refs = await track_refs(s, row)
    report = report_of(row, refs)
    source = await _source(s, row)
    top, bottom = extreme_tracks(report)
    return {
        "session_id": row.id,
        "album": {
            "name": source["name"],
            "artist": source["artist"],
            "cover_url": source["cover_url"],
        },
        "viewer_score": report["viewer_score"],
        "streamer_score": report["streamer_score"],
        "votes": report["votes"],
        "voters": report["voters"],
        "tracks_rated": report["tracks_rated"],
        "top": top,
        "bottom": bottom,
        "report_url": f"/sessions/{row.id}/report",
        "ends_in_s": round(remaining, 3),
    }


def extreme_tracks(report: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The best and the worst rated track by viewer score (numeric scales; on a tie the
    earlier track wins both). A categorical scale ranks nothing: (None, None)."""
    if report["scale"]["kind"] != "numeric":
        return None, None
    rated = [t for t in report["tracks"] if isinstance(t["viewer_score"], int | float)]
    if not rated:
        return None, None

    def brief(track: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": track["name"],
            "track_number": track["track_number"],
            "viewer_score": track["viewer_score"],
            "votes": track["votes"],
        }

    best = max(rated, key=lambda t: t["viewer_score"])  # max/min keep the first of equals
    worst = min(rated, key=lambda t: t["viewer_score"])
    return brief(best), (brief(worst) if len(rated) > 1 else None)


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
