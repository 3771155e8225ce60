"""The catalogue that albums and playlists are imported from (Spotify, or its fake)."""

from __future__ import annotations

from typing import Protocol

from premiere_ecoute.discography.models import AlbumInfo, PlaylistInfo


class Catalog(Protocol):
    """Spotify's catalogue with the app token."""

    async def get_album(self, album_id: str) -> AlbumInfo: ...

    async def get_playlist(self, playlist_id: str, user_id: int | None = None) -> PlaylistInfo:
        """With ``user_id``, read as that streamer: Spotify serves a playlist's items only
        to its owner and collaborators."""
        ...

    async def search_albums(self, query: str, limit: int = 10) -> list[AlbumInfo]: ...
