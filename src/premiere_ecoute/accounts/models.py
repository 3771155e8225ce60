"""Accounts: users, OAuth connections (encrypted), personal API tokens, follows; the role
policy and the decrypted credentials the provider clients use."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from premiere_ecoute.core.orm import Base, Timestamped


class Role(enum.StrEnum):
    VIEWER = "viewer"
    STREAMER = "streamer"
    ADMIN = "admin"
    BOT = "bot"


class User(Timestamped, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20), server_default=Role.VIEWER.value)
    twitch_user_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    broadcaster_type: Mapped[str] = mapped_column(String(20), server_default="")
    spotify_client_id: Mapped[str | None] = mapped_column(String(100))
    spotify_client_secret_enc: Mapped[str | None] = mapped_column(String(500))
    # The viewer's ratings at /u/{login}: off until they turn it on.
    ratings_public: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value


class OAuthCredential(Timestamped, Base):
    __tablename__ = "oauth_credentials"
    __table_args__ = (UniqueConstraint("user_id", "provider", name="uq_oauth_user_provider"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str | None] = mapped_column(String(100))
    access_token_enc: Mapped[str] = mapped_column(String(4000))
    refresh_token_enc: Mapped[str | None] = mapped_column(String(4000))
    expires_at: Mapped[dt.datetime | None]
    scopes: Mapped[str] = mapped_column(String(1000), server_default="")
    status: Mapped[str] = mapped_column(String(30), server_default="ok")


class ApiToken(Timestamped, Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


# Browser sessions (SPEC §1): ended after 7 idle days, renewed by use (last_seen_at moves at
# most once a day), and never older than 30 days.
WEB_SESSION_IDLE = dt.timedelta(days=7)
WEB_SESSION_RENEW_AFTER = dt.timedelta(days=1)
WEB_SESSION_MAX_AGE = dt.timedelta(days=30)


class WebSession(Timestamped, Base):
    """A browser's login, on the server so it can be ended (SPEC §1): the cookie holds a
    random id, this row its SHA-256. Deleting the row logs that browser out."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    last_seen_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class Follow(Timestamped, Base):
    __tablename__ = "follows"
    __table_args__ = (Index("ix_follows_streamer", "streamer_id"),)

    follower_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    streamer_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(20), server_default=text("'app'"))


@dataclass(frozen=True, slots=True)
class RolePolicy:
    """``ADMIN_LOGINS`` and ``BOT_LOGIN`` decide their logins' roles (SPEC §1)."""

    admins: frozenset[str] = frozenset()
    bot: str = ""

    def role_for(self, login: str, requested: str) -> str:
        if login in self.admins:
            return Role.ADMIN.value
        if self.bot and login == self.bot:
            return Role.BOT.value
        return requested


# Credentials as the provider clients need them (decrypted by the repository on each read).


@dataclass(frozen=True, slots=True)
class SpotifyCredentials:
    """A streamer's Spotify tokens. ``client_id``/``client_secret`` are the streamer's own
    Spotify app when they brought one (SPEC §7); ``None`` means the instance's app."""

    user_id: int
    access_token: str
    refresh_token: str | None
    expires_at: dt.datetime | None
    client_id: str | None = None
    client_secret: str | None = None


@dataclass(frozen=True, slots=True)
class UserToken:
    """A Twitch user's credentials as the client needs them to call and, on a 401, refresh
    once. ``user_id`` is the Twitch user id."""

    user_id: str
    access_token: str
    refresh_token: str | None = None
    expires_at: dt.datetime | None = None
