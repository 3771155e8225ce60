"""Spotify-specific value objects that are not part of the discography domain."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TokenSet:
    """What the accounts service answers on ``/api/token``."""

    access_token: str
    refresh_token: str | None
    expires_at: dt.datetime
    scope: str = ""


@dataclass(frozen=True, slots=True)
class SpotifyUser:
    id: str
    display_name: str
    email: str | None
    product: str | None
    country: str | None
