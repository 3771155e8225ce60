"""Account commands (SPEC §1). Validation here is about shape; state rules live in handlers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from premiere_ecoute.accounts.models import Role
from premiere_ecoute.core.errors import N_, ValidationFailed, refuse
from premiere_ecoute.core.messages import Command

LOGIN = re.compile(r"^[a-z0-9_]{3,25}$")
SELF_SERVICE_ROLES = (Role.VIEWER.value, Role.STREAMER.value)
SPOTIFY_CREDENTIAL = re.compile(r"^[A-Za-z0-9]{16,64}$")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RegisterUser(Command):
    """A new user (the CLI, the demo). ``ADMIN_LOGINS``/``BOT_LOGIN`` override the role."""

    login: str
    role: str = Role.VIEWER.value
    display_name: str | None = None
    twitch_user_id: str | None = None
    broadcaster_type: str = ""

    def validate(self) -> None:
        if not LOGIN.match(self.login):
            raise refuse(
                ValidationFailed,
                N_("login must be 3-25 characters: lowercase letters, digits or underscore"),
            )
        if self.role not in {r.value for r in Role}:
            raise refuse(
                ValidationFailed,
                N_("role must be one of %(roles)s, not '%(role)s'"),
                roles=", ".join(r.value for r in Role),
                role=self.role,
            )


@dataclasses.dataclass(frozen=True, kw_only=True)
class SignInWithTwitch(Command):
    """A Twitch login: the user of that Twitch account, created at the first login
    (affiliates and partners as streamers), else brought up to date."""

    twitch_user_id: str
    login: str
    display_name: str
    broadcaster_type: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class CreateApiToken(Command):
    user_id: int
    name: str = "cli"


@dataclasses.dataclass(frozen=True, kw_only=True)
class RevokeApiToken(Command):
    user_id: int
    token_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class LinkConnection(Command):
    user_id: int
    provider: str
    external_id: str | None
    access_token: str
    refresh_token: str | None
    expires_at: dt.datetime | None
    scopes: str = ""

    def validate(self) -> None:
        if self.provider not in ("twitch", "spotify"):
            raise refuse(ValidationFailed, N_("provider must be twitch or spotify"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class SwitchRole(Command):
    """A user switches themselves between viewer and streamer. Their other browser sessions
    end; ``keep_session`` (the browser that asked) stays."""

    user_id: int
    role: str
    keep_session: str | None = None

    def validate(self) -> None:
        if self.role not in SELF_SERVICE_ROLES:
            raise refuse(ValidationFailed, N_("You can only switch between viewer and streamer."))


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChangeRole(Command):
    """An admin sets anyone's role."""

    actor_id: int
    user_id: int
    role: str

    def validate(self) -> None:
        if self.role not in {r.value for r in Role}:
            raise refuse(ValidationFailed, N_("Unknown role: %(role)s"), role=self.role)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SetSpotifyApp(Command):
    """Bring your own Spotify app; an empty client id removes it."""

    user_id: int
    client_id: str
    client_secret: str

    def validate(self) -> None:
        if not self.client_id:
            return
        if not SPOTIFY_CREDENTIAL.match(self.client_id):
            raise refuse(
                ValidationFailed,
                N_("The Spotify client ID should be 16 to 64 letters and digits."),
            )
        if not SPOTIFY_CREDENTIAL.match(self.client_secret):
            raise refuse(
                ValidationFailed,
                N_("The Spotify client secret should be 16 to 64 letters and digits."),
            )


@dataclasses.dataclass(frozen=True, kw_only=True)
class FollowStreamer(Command):
    user_id: int
    streamer_login: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class UnfollowStreamer(Command):
    user_id: int
    streamer_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class StartImpersonation(Command):
    admin_id: int
    user_id: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class DeleteAccount(Command):
    """Deletes ``user_id``; ``confirm_login`` must be that user's login, typed by hand."""

    actor_id: int
    user_id: int
    confirm_login: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class SetRatingsVisibility(Command):
    """A viewer shows their ratings on a public profile, or hides them again."""

    user_id: int
    public: bool
