"""Chart aggregates: one row per finished album session and one per rated track of it.

Values are normalised to 0..1 whatever the scale (``rules.normaliser``): ``total`` is the sum
of the normalised viewer ratings, ``sumsq`` the sum of their squares, so means, Bayesian
averages and standard deviations over any set of rows are sums of these columns. Rows of a
categorical custom scale have ``total``/``sumsq`` NULL: they count as ratings but are not
ranked."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from premiere_ecoute.core.orm import Base


class ChartSession(Base):
    __tablename__ = "chart_sessions"
    __table_args__ = (
        Index("ix_chart_sessions_stopped_at", "stopped_at"),
        Index("ix_chart_sessions_album_id", "album_id"),
    )

    session_id: Mapped[int] = mapped_column(
        ForeignKey("listening_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger)
    album_id: Mapped[int] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"))
    family: Mapped[str] = mapped_column(String(20))
    stopped_at: Mapped[dt.datetime]
    # listening_sessions.updated_at when this row was computed: a later one makes it stale.
    source_updated_at: Mapped[dt.datetime]
    ratings: Mapped[int] = mapped_column(Integer)
    voters: Mapped[int] = mapped_column(Integer)
    total: Mapped[float | None] = mapped_column(Float)
    sumsq: Mapped[float | None] = mapped_column(Float)
    extremes: Mapped[int] = mapped_column(Integer)
    # The report's own session score (SPEC §5), in the scale's units, or its modal option.
    viewer_score: Mapped[float | None] = mapped_column(Float)
    viewer_mode: Mapped[str | None] = mapped_column(String(60))


class ChartTrack(Base):
    __tablename__ = "chart_tracks"
    __table_args__ = (
        Index("ix_chart_tracks_stopped_at", "stopped_at"),
        Index("ix_chart_tracks_album_id", "album_id"),
        Index("ix_chart_tracks_track_id", "track_id"),
    )

    session_id: Mapped[int] = mapped_column(
        ForeignKey("listening_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    track_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    album_id: Mapped[int] = mapped_column(BigInteger)
    family: Mapped[str] = mapped_column(String(20))
    stopped_at: Mapped[dt.datetime]
    ratings: Mapped[int] = mapped_column(Integer)
    total: Mapped[float | None] = mapped_column(Float)
    sumsq: Mapped[float | None] = mapped_column(Float)
    extremes: Mapped[int] = mapped_column(Integer)
    streamer: Mapped[float | None] = mapped_column(Float)  # the streamer's rating, normalised


class ChartSnapshot(Base):
    """A chart page's figures for one period and scale family, computed by the refresh job so
    that a page view reads one row whatever the size of the history."""

    __tablename__ = "chart_snapshots"

    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    family: Mapped[str] = mapped_column(String(20), primary_key=True)
    computed_at: Mapped[dt.datetime]
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
