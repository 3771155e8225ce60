"""Discography writes: albums, tracks and playlists imported from the catalogue (SPEC §2),
refreshed on every prepare."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.discography.models import (
    Album,
    AlbumInfo,
    Playlist,
    PlaylistInfo,
    Track,
    TrackInfo,
)


async def _upsert_tracks(
    s: AsyncSession, tracks: Sequence[TrackInfo], album_id: int | None
) -> list[int]:
    """Insert or refresh ``tracks``. Only an album import sets a track's album, disc and
    track number: a playlist's numbers are positions of its entries, not the track's, and
    must not renumber the album (a session keeps the numbers it was prepared with anyway)."""
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
    update_cols = {c: stmt.excluded[c] for c in ("name", "duration_ms", "artists")}
    if album_id is not None:
        for c in ("album_id", "track_number", "disc_number"):
            update_cols[c] = stmt.excluded[c]
    stmt = stmt.on_conflict_do_update(constraint="uq_tracks_spotify_id", set_=update_cols)
    result = await s.execute(stmt.returning(Track.spotify_id, Track.id))
    ids: dict[str, int] = {spotify_id: track_id for spotify_id, track_id in result.all()}
    return [ids[t.spotify_id] for t in tracks]


def album_order(info: AlbumInfo) -> list[TrackInfo]:
    """An album's tracks in play order: by disc, then track number."""
    return sorted(info.tracks, key=lambda t: (t.disc_number, t.track_number))


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
    ordered = album_order(info)
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
