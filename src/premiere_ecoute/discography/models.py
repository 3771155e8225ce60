"""Albums, tracks and playlists imported from Spotify (refreshed on every prepare)."""

from __future__ import annotations

import datetime as dt

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
