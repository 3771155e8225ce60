"""Sessions as people see them: the streamers a viewer follows with their live session, and
the sessions part of a user's data export."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.accounts.models import Follow, User
from premiere_ecoute.discography.models import Album, Playlist, Track
from premiere_ecoute.sessions.models import ListeningSession, Vote
from premiere_ecoute.sessions.queries.views import _iso


def _live_source() -> Any:
    """Active sessions with the name, artist and cover of what they play."""
    return (
        select(
            ListeningSession.id.label("session_id"),
            ListeningSession.user_id,
            func.coalesce(Album.name, Playlist.name, "").label("album_name"),
            func.coalesce(Album.artists[0].astext, Playlist.owner, "").label("artist"),
            func.coalesce(Album.cover_url, Playlist.cover_url).label("cover_url"),
        )
        .outerjoin(Album, Album.id == ListeningSession.album_id)
        .outerjoin(Playlist, Playlist.id == ListeningSession.playlist_id)
        .where(ListeningSession.status == "active")
        .subquery()
    )


async def followed_streamers(s: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """Streamers ``user_id`` follows, live ones first, each with its live session if any."""
    live = _live_source()
    rows = await s.execute(
        select(
            User.id,
            User.login,
            User.display_name,
            Follow.source,
            Follow.created_at,
            live.c.session_id,
            live.c.album_name,
            live.c.artist,
            live.c.cover_url,
        )
        .join(Follow, Follow.streamer_id == User.id)
        .outerjoin(live, live.c.user_id == User.id)
        .where(Follow.follower_id == user_id)
        .order_by(live.c.session_id.is_(None), User.login)
    )
    return [
        {
            "id": r.id,
            "login": r.login,
            "display_name": r.display_name,
            "source": r.source,
            "since": r.created_at,
            "live": r.session_id is not None,
            "session_id": r.session_id,
            "album_name": r.album_name,
            "artist": r.artist,
            "cover_url": r.cover_url,
        }
        for r in rows
    ]


async def live_followed(s: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """Followed streamers that are live in a session now (the dashboard's "Live now")."""
    return [f for f in await followed_streamers(s, user_id) if f["live"]]


async def _votes_of(s: AsyncSession, user: User) -> list[dict[str, Any]]:
    viewer_ids = [f"user:{user.id}", *([user.twitch_user_id] if user.twitch_user_id else [])]
    streamer = User.__table__.alias("streamer")
    rows = await s.execute(
        select(Vote, streamer.c.login, Track.name)
        .join(ListeningSession, ListeningSession.id == Vote.session_id)
        .join(streamer, streamer.c.id == ListeningSession.user_id)
        .outerjoin(Track, Track.id == Vote.track_id)
        .where(Vote.viewer_id.in_(viewer_ids))
        .order_by(Vote.sent_at, Vote.id)
    )
    return [
        {
            "session_id": v.session_id,
            "streamer": login,
            "track_id": v.track_id,
            "track": track,
            "value": v.value,
            "as_streamer": v.is_streamer,
            "source": v.source,
            "sent_at": _iso(v.sent_at),
            "changes": v.changes,
        }
        for v, login, track in rows
    ]


async def _sessions_of(s: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    rows = await s.execute(
        select(ListeningSession, Album.name, Playlist.name)
        .outerjoin(Album, Album.id == ListeningSession.album_id)
        .outerjoin(Playlist, Playlist.id == ListeningSession.playlist_id)
        .where(ListeningSession.user_id == user_id)
        .order_by(ListeningSession.id)
    )
    return [
        {
            "id": row.id,
            "status": row.status,
            "source": album or playlist,
            "scale": row.scale,
            "vote_mode": row.vote_mode,
            "created_at": _iso(row.created_at),
            "started_at": _iso(row.started_at),
            "stopped_at": _iso(row.stopped_at),
            "report": row.report,
        }
        for row, album, playlist in rows
    ]


async def export_of(s: AsyncSession, user: User) -> dict[str, Any]:
    """The sessions part of a user's data export: their votes and their sessions."""
    return {"votes": await _votes_of(s, user), "sessions": await _sessions_of(s, user.id)}
