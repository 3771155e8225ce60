"""What background work reads: sessions to keep subscribed, tokens to refresh, sessions
whose player to follow."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.accounts.models import OAuthCredential, User
from premiere_ecoute.discography.models import Track
from premiere_ecoute.sessions.models import ListeningSession
from premiere_ecoute.sessions.ports import needed_types


@dataclass(frozen=True, slots=True)
class ActiveTwitchSession:
    session_id: int
    broadcaster_id: str
    subscriptions: list[str]
    types: tuple[str, ...]


async def active_twitch_sessions(s: AsyncSession) -> list[ActiveTwitchSession]:
    """Every active session of a Twitch streamer, with what its subscriptions need."""
    rows = await s.execute(
        select(ListeningSession, User.twitch_user_id)
        .join(User, User.id == ListeningSession.user_id)
        .where(ListeningSession.status == "active", User.twitch_user_id.is_not(None))
        .order_by(ListeningSession.id)
    )
    return [
        ActiveTwitchSession(
            row.id, str(tid), list(row.subscriptions or []), needed_types(row.vote_mode)
        )
        for row, tid in rows
    ]


async def active_session_needing(s: AsyncSession, broadcaster_id: str, type_: str) -> int | None:
    """The broadcaster's active session when it needs subscriptions of ``type_``."""
    row = await s.scalar(
        select(ListeningSession)
        .join(User, User.id == ListeningSession.user_id)
        .where(User.twitch_user_id == broadcaster_id, ListeningSession.status == "active")
    )
    if row is None or type_ not in needed_types(row.vote_mode):
        return None
    return row.id


@dataclass(frozen=True, slots=True)
class Expiring:
    user_id: int
    provider: str
    twitch_user_id: str | None


async def credentials_to_refresh(
    s: AsyncSession, before: dt.datetime, bot_login: str
) -> list[Expiring]:
    """Refreshable, healthy connections that expire before ``before`` and are needed: the
    bot's, and those of users with a preparing or active session."""
    busy = select(ListeningSession.id).where(
        ListeningSession.user_id == User.id,
        ListeningSession.status.in_(("preparing", "active")),
    )
    needed = or_(User.role == "bot", busy.exists())
    if bot_login:
        needed = or_(needed, User.login == bot_login.lower())
    rows = await s.execute(
        select(OAuthCredential.user_id, OAuthCredential.provider, User.twitch_user_id)
        .join(User, User.id == OAuthCredential.user_id)
        .where(
            OAuthCredential.status == "ok",
            OAuthCredential.refresh_token_enc.is_not(None),
            OAuthCredential.expires_at.is_not(None),
            OAuthCredential.expires_at < before,
            needed,
        )
        .order_by(OAuthCredential.expires_at)
    )
    return [Expiring(int(uid), str(provider), tid) for uid, provider, tid in rows.all()]


@dataclass(frozen=True, slots=True)
class Followed:
    """What a monitor needs once: whose player, which context, which tracks in which order."""

    session_id: int
    user_id: int
    context_uri: str
    track_spotify_ids: tuple[str, ...]
    auto_advance: bool = True


@dataclass(frozen=True, slots=True)
class Progress:
    """What changes while a session runs."""

    status: str
    current_index: int | None
    notice: str | None
    playback: str = "spotify"


async def active_spotify_sessions(s: AsyncSession) -> dict[int, int]:
    """``{session id: owner id}`` of the active sessions that Spotify plays."""
    rows = await s.execute(
        select(ListeningSession.id, ListeningSession.user_id).where(
            ListeningSession.status == "active", ListeningSession.playback == "spotify"
        )
    )
    return {int(sid): int(uid) for sid, uid in rows.all()}


async def followed(s: AsyncSession, session_id: int) -> Followed | None:
    row = await s.get(ListeningSession, session_id)
    if row is None:
        return None
    rows = await s.execute(select(Track.id, Track.spotify_id).where(Track.id.in_(row.track_ids)))
    by_id = {int(track_id): str(spotify_id) for track_id, spotify_id in rows.all()}
    return Followed(
        session_id=row.id,
        user_id=row.user_id,
        context_uri=row.context_uri,
        track_spotify_ids=tuple(by_id.get(t, "") for t in row.track_ids),
        auto_advance=row.auto_advance,
    )


async def progress(s: AsyncSession, session_id: int) -> Progress | None:
    row = (
        await s.execute(
            select(
                ListeningSession.status,
                ListeningSession.current_index,
                ListeningSession.notice,
                ListeningSession.playback,
            ).where(ListeningSession.id == session_id)
        )
    ).first()
    if row is None:
        return None
    return Progress(status=row[0], current_index=row[1], notice=row[2], playback=row[3])
