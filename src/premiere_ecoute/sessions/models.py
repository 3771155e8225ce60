"""Listening sessions, votes, polls and the incrementally maintained report counters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from premiere_ecoute.core.orm import Base, Timestamped

# The chat commands the bot answers (each can be switched off per session).
CHAT_COMMANDS = ("score", "myvote", "top")


class ListeningSession(Timestamped, Base):
    __tablename__ = "listening_sessions"
    __table_args__ = (
        # The database, not only the code, keeps one active session per streamer.
        Index(
            "uq_sessions_one_active_per_user",
            "user_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_sessions_user_status", "user_id", "status"),
        Index("ix_sessions_stopped_at", "stopped_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), server_default="preparing")
    source_kind: Mapped[str] = mapped_column(String(20), server_default="album")
    album_id: Mapped[int | None] = mapped_column(ForeignKey("albums.id"))
    playlist_id: Mapped[int | None] = mapped_column(ForeignKey("playlists.id"))
    context_uri: Mapped[str] = mapped_column(String(200), server_default="")
    track_ids: Mapped[list[int]] = mapped_column(JSONB, default=list)
    # The number shown for each track, as prepared (album track numbers, or playlist
    # positions): a track's position belongs to its album or playlist entry, not to the
    # track, so preparing another session never renumbers this one. None: older sessions.
    track_numbers: Mapped[list[int] | None] = mapped_column(JSONB)
    # Viewers whose votes the streamer removed (trolls): their later votes are refused too.
    removed_voters: Mapped[list[str] | None] = mapped_column(JSONB)
    scale: Mapped[dict[str, Any]] = mapped_column(JSONB)
    vote_mode: Mapped[str] = mapped_column(String(10), server_default="chat")
    stream_delay_s: Mapped[int] = mapped_column(Integer, server_default="0")
    poll_duration_s: Mapped[int] = mapped_column(Integer, server_default="120")
    auto_advance: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # Seconds the overlay and the public page show the final scene after the stop.
    final_scene_s: Mapped[int] = mapped_column(Integer, server_default="60")
    # Language of the chat announcements: en, fr or it.
    language: Mapped[str] = mapped_column(String(5), server_default="en")
    playback: Mapped[str] = mapped_column(String(10), server_default="manual")
    current_index: Mapped[int | None] = mapped_column(Integer)
    votes_open: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    timeline: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    report: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    subscriptions: Mapped[list[str]] = mapped_column(JSONB, default=list)
    current_poll_id: Mapped[str | None] = mapped_column(String(100))
    notice: Mapped[str | None] = mapped_column(String(500))
    # The player monitor's last reading of Spotify (state, position, progress, checked_at).
    player: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # The recording of the stream (Twitch or YouTube) and where the session starts in it.
    vod_url: Mapped[str | None] = mapped_column(String(500))
    vod_offset_s: Mapped[int] = mapped_column(Integer, server_default="0")
    # How the last Twitch stream marker went ("ok", "offline", "scope", "rate_limited",
    # "error"): a refusal is told once, not at every track.
    marker_status: Mapped[str | None] = mapped_column(String(20))

    # Chat commands (!score, !myvote, !top): which ones the bot answers, and in which language.
    chat_language: Mapped[str] = mapped_column(String(5), default="en", server_default="en")
    chat_commands: Mapped[dict[str, bool]] = mapped_column(
        JSONB,
        default=lambda: dict.fromkeys(CHAT_COMMANDS, True),
        server_default=text("""'{"score": true, "myvote": true, "top": true}'::jsonb"""),
    )
    started_at: Mapped[dt.datetime | None]
    stopped_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    @property
    def current_track_id(self) -> int | None:
        if self.current_index is None or not self.track_ids:
            return None
        return self.track_ids[self.current_index]


class Vote(Base):
    __tablename__ = "votes"
    __table_args__ = (
        # One rating per (session, track, viewer); the streamer's rating has is_streamer.
        UniqueConstraint(
            "session_id", "track_id", "viewer_id", name="uq_votes_session_track_viewer"
        ),
        # The control page's feed of the latest votes reads a few rows of this index.
        Index("ix_votes_session_sent_at", "session_id", text("sent_at DESC"), text("id DESC")),
        # A viewer's own history (/me/ratings) reads their rows only.
        Index("ix_votes_viewer_id", "viewer_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("listening_sessions.id", ondelete="CASCADE"))
    track_id: Mapped[int] = mapped_column(BigInteger)
    viewer_id: Mapped[str] = mapped_column(String(40))
    is_streamer: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    value: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(10))
    sent_at: Mapped[dt.datetime]
    viewer_name: Mapped[str | None] = mapped_column(String(100))
    changes: Mapped[int] = mapped_column(Integer, server_default="0")


class EarlyVote(Base):
    """A chat vote heard before the session's start (its time, less the stream delay, is
    before the start): shown in the feed as "before the start", counted nowhere."""

    __tablename__ = "early_votes"
    __table_args__ = (Index("ix_early_votes_session_sent_at", "session_id", text("sent_at DESC")),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("listening_sessions.id", ondelete="CASCADE"))
    viewer_id: Mapped[str] = mapped_column(String(40))
    viewer_name: Mapped[str | None] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(10))
    sent_at: Mapped[dt.datetime]


class SessionVoter(Base):
    """Distinct identified viewers of a session: the insert that succeeds counts a new voter."""

    __tablename__ = "session_voters"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("listening_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    viewer_id: Mapped[str] = mapped_column(String(40), primary_key=True)


class Poll(Base):
    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("listening_sessions.id", ondelete="CASCADE"), index=True
    )
    track_id: Mapped[int] = mapped_column(BigInteger)
    twitch_poll_id: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(20), server_default="ACTIVE")
    ballots: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict)
    started_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    ended_at: Mapped[dt.datetime | None]


class ScorePrior(Base):
    """The instance's ratings of one scale family, added up (normalised to 0–1): the mean every
    Bayesian average shrinks toward. Refreshed by a job, read once per report."""

    __tablename__ = "score_priors"

    family: Mapped[str] = mapped_column(String(20), primary_key=True)
    total: Mapped[float] = mapped_column(Float)
    ratings: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
