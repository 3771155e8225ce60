"""The current user's profile (``GET /me``): who linked Spotify, and whether they have Premium."""

from __future__ import annotations

import httpx

from premiere_ecoute.apis.spotify import parser
from premiere_ecoute.apis.spotify.api import SpotifyApi
from premiere_ecoute.apis.spotify.models import SpotifyUser


async def current_user(api: SpotifyApi, auth: httpx.Auth) -> SpotifyUser:
    response = await api.call("GET", "/me", auth=auth)
    return parser.parse_user(response.json())
