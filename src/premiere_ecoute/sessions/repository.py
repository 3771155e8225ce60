"""Session writes: loading with locks, importing the discography, persisting state."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.accounts.models import User
from premiere_ecoute.core.errors import Forbidden, NotFound
from premiere_ecoute.discography.domain import AlbumInfo, PlaylistInfo, TrackInfo
from premiere_ecoute.discography.models import Album, Playlist, Track
from premiere_ecoute.sessions.models import ListeningSession
from premiere_ecoute.sessions.scores import Scale, Timeline, TrackRef

MAX_ID = 2**63 - 1


async def get_session(s: AsyncSession, session_id: int, *, lock: bool = False) -> ListeningSession:
    """``lock``: take the row lock and reload the row. Handlers read the row, call Spotify or
    Twitch, then lock it; without the reload the identity map would hand back the row as it
    was before the external calls and silently overwrite what others committed meanwhile."""
    if not 0 < session_id <= MAX_ID:  # beyond BIGINT PostgreSQL would fail, not miss
        raise NotFound(f"session {session_id} does not exist")
    q = select(ListeningSession).where(ListeningSession.id == session_id)
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    row = await s.scalar(q)
    if row is None:
        raise NotFound(f"session {session_id} does not exist")
    return row


async def authorize(s: AsyncSession, row: ListeningSession, actor_id: int) -> User:
    """Only the owner (or an admin) may command a session. Returns the actor."""
    actor = await s.get(User, actor_id)
    if actor is None:
        raise NotFound("unknown user")
    if row.user_id != actor_id and not actor.is_admin:
        raise Forbidden("only the streamer who owns this session can do that")
    return actor


async def _upsert_tracks(
    s: AsyncSession, tracks: Sequence[TrackInfo], album_id: int | None
) -> list[int]:
    if not tracks:
        return []
    rows = [
        {
            "spotify_id": t.spotify_id,
            "name": t.name,
            "track_number": t.track_number,
            "disc_number": t.disc_number,
            "duration_ms": t.duration_ms,
            "artists": list(t.artists),
            "album_id": album_id,
        }
        for t in tracks
    ]
    stmt = insert(Track).values(rows)
    update_cols = {
        c: stmt.excluded[c]
        for c in ("name", "track_number", "disc_number", "duration_ms", "artists")
    }
    if album_id is not None:
        update_cols["album_id"] = stmt.excluded.album_id
    stmt = stmt.on_conflict_do_update(constraint="uq_tracks_spotify_id", set_=update_cols)
    result = await s.execute(stmt.returning(Track.spotify_id, Track.id))
    ids: dict[str, int] = {spotify_id: track_id for spotify_id, track_id in result.all()}
    return [ids[t.spotify_id] for t in tracks]


async def import_album(s: AsyncSession, info: AlbumInfo) -> tuple[Album, list[int]]:
    values = {
        "spotify_id": info.spotify_id,
        "name": info.name,
        "artists": list(info.artists),
        "release_date": info.release_date,
        "cover_url": info.cover_url,
        "total_tracks": info.total_tracks or len(info.tracks),
    }
    stmt = insert(Album).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["spotify_id"], set_={k: v for k, v in values.items() if k != "spotify_id"}
    )
    album_id = (await s.execute(stmt.returning(Album.id))).scalar_one()
    ordered = sorted(info.tracks, key=lambda t: (t.disc_number, t.track_number))
    track_ids = await _upsert_tracks(s, ordered, album_id)
    album = await s.get(Album, album_id)
    assert album is not None
    return album, track_ids


async def import_playlist(s: AsyncSession, info: PlaylistInfo) -> tuple[Playlist, list[int]]:
    track_ids = await _upsert_tracks(s, info.tracks, None)
    values = {
        "spotify_id": info.spotify_id,
        "name": info.name,
        "owner": info.owner,
        "cover_url": info.cover_url,
        "track_ids": track_ids,
    }
    stmt = insert(Playlist).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["spotify_id"], set_={k: v for k, v in values.items() if k != "spotify_id"}
    )
    playlist_id = (await s.execute(stmt.returning(Playlist.id))).scalar_one()
    playlist = await s.get(Playlist, playlist_id)
    assert playlist is not None
    return playlist, track_ids


async def track_refs(s: AsyncSession, row: ListeningSession) -> list[TrackRef]:
    """The session's tracks in album (or playlist) order, numbered from 1 for playlists."""
    tracks = {t.id: t for t in await s.scalars(select(Track).where(Track.id.in_(row.track_ids)))}
    refs = []
    for position, track_id in enumerate(row.track_ids, start=1):
        t = tracks[track_id]
        number = t.track_number if row.source_kind == "album" else position
        refs.append(
            TrackRef(track_id=t.id, spotify_id=t.spotify_id, track_number=number, name=t.name)
        )
    return refs


def scale_of(row: ListeningSession) -> Scale:
    return Scale.from_json(row.scale)


def timeline_of(row: ListeningSession) -> Timeline | None:
    return Timeline.from_json(row.timeline) if row.timeline else None
