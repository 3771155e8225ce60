"""Discography value objects: what the catalogue (Spotify or its fake) returns.

Provider JSON stops in ``apis/*/parser.py``; everything past it speaks these types.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class TrackInfo:
    spotify_id: str
    name: str
    track_number: int
    disc_number: int = 1
    duration_ms: int = 0
    artists: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AlbumInfo:
    spotify_id: str
    name: str
    artists: tuple[str, ...]
    release_date: dt.date | None
    cover_url: str | None
    total_tracks: int
    tracks: tuple[TrackInfo, ...] = field(default=())

    @property
    def artist(self) -> str:
        """The primary artist, as shown to people."""
        return self.artists[0] if self.artists else ""

    @property
    def uri(self) -> str:
        return f"spotify:album:{self.spotify_id}"


@dataclass(frozen=True, slots=True)
class PlaylistInfo:
    spotify_id: str
    name: str
    owner: str
    cover_url: str | None
    tracks: tuple[TrackInfo, ...] = field(default=())

    @property
    def uri(self) -> str:
        return f"spotify:playlist:{self.spotify_id}"


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    name: str
    type: str
    is_active: bool
    volume_percent: int | None = None


@dataclass(frozen=True, slots=True)
class PlaybackState:
    """What Spotify's player is doing (``GET /me/player``); ``None`` is used for 204."""

    is_playing: bool
    device: Device | None
    context_uri: str | None
    track_spotify_id: str | None
    progress_ms: int
    duration_ms: int
    shuffle: bool = False
    repeat: str = "off"
