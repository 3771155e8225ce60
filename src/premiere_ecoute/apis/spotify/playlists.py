"""Playlists: ``GET /playlists/{id}`` for the header, ``GET /playlists/{id}/items`` (paged)
for the tracks; the older ``/tracks`` path is deprecated (SPEC §7)."""

from __future__ import annotations

import httpx

from premiere_ecoute.apis.spotify import parser
from premiere_ecoute.apis.spotify.api import SpotifyApi
from premiere_ecoute.discography.models import PlaylistInfo, TrackInfo

PAGE_SIZE = 50
MAX_PAGES = 40


async def get_playlist(api: SpotifyApi, auth: httpx.Auth, playlist_id: str) -> PlaylistInfo:
    header = await api.call(
        "GET", "/playlists/{playlist_id}", auth=auth, path={"playlist_id": playlist_id}
    )
    tracks: list[TrackInfo] = []
    offset = 0
    for _ in range(MAX_PAGES):
        page = (
            await api.call(
                "GET",
                "/playlists/{playlist_id}/items",
                auth=auth,
                path={"playlist_id": playlist_id},
                params={"limit": PAGE_SIZE, "offset": offset},
            )
        ).json()
        more, count, total = parser.parse_playlist_items(page, start_position=len(tracks))
        tracks.extend(more)
        offset += count
        if count == 0 or offset >= total:
            break
    return parser.parse_playlist(header.json(), tracks)
