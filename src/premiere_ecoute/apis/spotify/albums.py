"""Albums: ``GET /albums/{id}``, then ``GET /albums/{id}/tracks`` for the pages after the first."""

from __future__ import annotations

import httpx

from premiere_ecoute.apis.spotify import parser
from premiere_ecoute.apis.spotify.api import SpotifyApi
from premiere_ecoute.discography.models import AlbumInfo

PAGE_SIZE = 50
# A bound on pages so a misbehaving server (or mock) cannot keep us paging forever.
MAX_PAGES = 40


async def get_album(api: SpotifyApi, auth: httpx.Auth, album_id: str) -> AlbumInfo:
    response = await api.call("GET", "/albums/{id}", auth=auth, path={"id": album_id})
    raw = response.json()
    first = raw.get("tracks") or {}
    tracks, total = parser.parse_tracks_page(first)
    seen = len(first.get("items") or [])
    pages = 0
    while seen < total and pages < MAX_PAGES:
        pages += 1
        page = (
            await api.call(
                "GET",
                "/albums/{id}/tracks",
                auth=auth,
                path={"id": album_id},
                params={"limit": PAGE_SIZE, "offset": seen},
            )
        ).json()
        more, total = parser.parse_tracks_page(page)
        count = len(page.get("items") or [])
        if count == 0:
            break
        tracks.extend(more)
        seen += count
    return parser.parse_album(raw, tracks=tracks)
