"""Albums, tracks and playlists imported from Spotify (refreshed on every prepare), and the
value objects the catalogue and the player return (provider JSON stops in ``apis/*/parser.py``;
everything past it speaks these types)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from premiere_ecoute.core.orm import Base, Timestamped


class Album(Timestamped, Base):
    __tablename__ = "albums"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    spotify_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    artists: Mapped[list[str]] = mapped_column(JSONB, default=list)
    release_date: Mapped[dt.date | None]
    cover_url: Mapped[str | None] = mapped_column(String(500))
    total_tracks: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def artist(self) -> str:
        return self.artists[0] if self.artists else ""


class Track(Timestamped, Base):
    __tablename__ = "tracks"
    __table_args__ = (UniqueConstraint("spotify_id", name="uq_tracks_spotify_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    spotify_id: Mapped[str] = mapped_column(String(64))
    album_id: Mapped[int | None] = mapped_column(
        ForeignKey("albums.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(300))
    track_number: Mapped[int] = mapped_column(Integer, default=1)
    disc_number: Mapped[int] = mapped_column(Integer, default=1)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    artists: Mapped[list[str]] = mapped_column(JSONB, default=list)


class Playlist(Timestamped, Base):
    __tablename__ = "playlists"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    spotify_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str] = mapped_column(String(200), default="")
    cover_url: Mapped[str | None] = mapped_column(String(500))
    track_ids: Mapped[list[int]] = mapped_column(JSONB, default=list)


# Value objects ------------------------------------------------------------------------


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
