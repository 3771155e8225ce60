"""Album search: Spotify answers at most 10 results per request, so we page for more."""

from __future__ import annotations

import httpx

from premiere_ecoute.apis.spotify import parser
from premiere_ecoute.apis.spotify.api import SpotifyApi
from premiere_ecoute.discography.models import AlbumInfo

SEARCH_PAGE_MAX = 10
SEARCH_OFFSET_MAX = 1000


async def search_albums(
    api: SpotifyApi, auth: httpx.Auth, query: str, limit: int = 10
) -> list[AlbumInfo]:
    """Albums matching ``query`` (without tracks), at most ``limit`` of them."""
    query = query.strip()
    if not query or limit < 1:
        return []
    albums: list[AlbumInfo] = []
    seen_ids: set[str] = set()
    offset = 0
    while len(albums) < limit and offset <= SEARCH_OFFSET_MAX:
        page_size = min(SEARCH_PAGE_MAX, limit - len(albums))
        response = await api.call(
            "GET",
            "/search",
            auth=auth,
            params={"q": query, "type": "album", "limit": page_size, "offset": offset},
        )
        found, total = parser.parse_album_search(response.json())
        for album in found:
            if album.spotify_id not in seen_ids:
                seen_ids.add(album.spotify_id)
                albums.append(album)
        offset += page_size
        if not found or offset >= total:
            break
    return albums[:limit]
