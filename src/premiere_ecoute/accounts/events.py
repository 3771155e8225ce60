"""Account events (stream ``user-<id>``)."""

from __future__ import annotations

import dataclasses

from premiere_ecoute.core.messages import Event


@dataclasses.dataclass(frozen=True, kw_only=True)
class AccountEvent(Event):
    user_id: int

    @property
    def stream(self) -> str:
        return f"user-{self.user_id}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class UserRegistered(AccountEvent):
    login: str
    role: str
    twitch_user_id: str | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RoleChanged(AccountEvent):
    role: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ApiTokenCreated(AccountEvent):
    token_id: int
    name: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ApiTokenRevoked(AccountEvent):
    token_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConnectionLinked(AccountEvent):
    provider: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class AccountDeleted(AccountEvent):
    """The login is not kept: the log must not name a deleted person."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class SpotifyAppConfigured(AccountEvent):
    client_id: str | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class StreamerFollowed(AccountEvent):
    streamer_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class StreamerUnfollowed(AccountEvent):
    streamer_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImpersonationStarted(AccountEvent):
    admin_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class RatingsVisibilityChanged(AccountEvent):
    """The viewer showed (or hid) their ratings at ``/u/{login}``."""

    public: bool
