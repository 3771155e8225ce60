"""SQL of the player monitor: which sessions to follow, what they play, their notice, and the
advisory locks that keep one monitor per session across processes."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import AsyncConnection
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.discography.models import Track
from premiere_ecoute.sessions.models import ListeningSession

# First half of the two-key advisory lock; the session id is the second ("PE" in ASCII).
MONITOR_LOCK_CLASS = 0x5045


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
                ListeningSession.status, ListeningSession.current_index, ListeningSession.notice
            ).where(ListeningSession.id == session_id)
        )
    ).first()
    if row is None:
        return None
    return Progress(status=row[0], current_index=row[1], notice=row[2])


async def set_notice(s: AsyncSession, session_id: int, notice: str) -> bool:
    result = await s.execute(
        update(ListeningSession)
        .where(ListeningSession.id == session_id, ListeningSession.status == "active")
        .values(notice=notice[:500])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def clear_notice(s: AsyncSession, session_id: int, ours: str) -> bool:
    """Clear the notice only if it is still the one the monitor wrote."""
    result = await s.execute(
        update(ListeningSession)
        .where(ListeningSession.id == session_id, ListeningSession.notice == ours[:500])
        .values(notice=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _lock_key(session_id: int) -> int:
    return session_id % 2**31


async def try_lock(conn: AsyncConnection[tuple[bool]], session_id: int) -> bool:
    cur = await conn.execute(
        "SELECT pg_try_advisory_lock(%s, %s)", (MONITOR_LOCK_CLASS, _lock_key(session_id))
    )
    row = await cur.fetchone()
    return bool(row and row[0])


async def unlock(conn: AsyncConnection[tuple[bool]], session_id: int) -> None:
    await conn.execute(
        "SELECT pg_advisory_unlock(%s, %s)", (MONITOR_LOCK_CLASS, _lock_key(session_id))
    )


async def unlock_all(conn: AsyncConnection[tuple[bool]]) -> None:
    await conn.execute("SELECT pg_advisory_unlock_all()")


async def ping(conn: AsyncConnection[tuple[bool]]) -> None:
    await conn.execute("SELECT true")
