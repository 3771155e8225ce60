"""Read models of the account pages: connections, tokens, follows, streamers live now, and the
personal data export."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.accounts.models import ApiToken, Follow, OAuthCredential, Role, User
from premiere_ecoute.core.event_store import EventStore
from premiere_ecoute.discography.models import Album, Playlist, Track
from premiere_ecoute.sessions.models import ListeningSession, Vote

STREAMING_ROLES = (Role.STREAMER.value, Role.ADMIN.value)


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


async def connections(s: AsyncSession, user_id: int) -> dict[str, dict[str, Any]]:
    """``{"twitch": {...}, "spotify": {...}}`` for linked providers (no secrets)."""
    rows = await s.scalars(select(OAuthCredential).where(OAuthCredential.user_id == user_id))
    return {
        r.provider: {
            "provider": r.provider,
            "status": r.status,
            "external_id": r.external_id,
            "scopes": r.scopes,
            "expires_at": r.expires_at,
            "linked_at": r.created_at,
        }
        for r in rows
    }


async def api_tokens(s: AsyncSession, user_id: int) -> list[ApiToken]:
    rows = await s.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
    )
    return list(rows)


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


async def streamers_to_follow(
    s: AsyncSession, user_id: int, query: str = "", limit: int = 50
) -> list[User]:
    """Registered streamers the user does not follow yet, optionally filtered by login."""
    followed = select(Follow.streamer_id).where(Follow.follower_id == user_id)
    q = select(User).where(
        User.role.in_(STREAMING_ROLES), User.id != user_id, User.id.not_in(followed)
    )
    needle = query.strip().lower()
    if needle:
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        q = q.where(User.login.like(f"%{escaped}%", escape="\\"))
    return list(await s.scalars(q.order_by(User.login).limit(limit)))


async def _votes(s: AsyncSession, user: User) -> list[dict[str, Any]]:
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


async def _sessions(s: AsyncSession, user_id: int) -> list[dict[str, Any]]:
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


async def export(s: AsyncSession, store: EventStore, user_id: int) -> dict[str, Any] | None:
    """Everything stored about ``user_id`` (no secrets: tokens appear by prefix only)."""
    user = await s.get(User, user_id)
    if user is None:
        return None
    follows = await s.execute(
        select(User.login, Follow.source, Follow.created_at)
        .join(Follow, Follow.streamer_id == User.id)
        .where(Follow.follower_id == user_id)
        .order_by(User.login)
    )
    return {
        "exported_at": _iso(dt.datetime.now(dt.UTC)),
        "profile": {
            "id": user.id,
            "login": user.login,
            "display_name": user.display_name,
            "role": user.role,
            "twitch_user_id": user.twitch_user_id,
            "broadcaster_type": user.broadcaster_type,
            "spotify_client_id": user.spotify_client_id,
            "created_at": _iso(user.created_at),
        },
        "connections": [
            {k: _iso(v) if isinstance(v, dt.datetime) else v for k, v in c.items()}
            for c in (await connections(s, user_id)).values()
        ],
        "api_tokens": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "created_at": _iso(t.created_at),
                "last_used_at": _iso(t.last_used_at),
                "revoked_at": _iso(t.revoked_at),
            }
            for t in await api_tokens(s, user_id)
        ],
        "follows": [
            {"login": login, "source": source, "since": _iso(since)}
            for login, source, since in follows
        ],
        "votes": await _votes(s, user),
        "sessions": await _sessions(s, user_id),
        "events": [
            {
                "position": e.position,
                "type": e.type,
                "payload": e.payload,
                "occurred_at": _iso(e.occurred_at),
            }
            for e in await store.read_stream(s, f"user-{user_id}")
        ],
    }
