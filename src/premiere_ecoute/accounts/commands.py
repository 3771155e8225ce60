from __future__ import annotations

import dataclasses
import datetime as dt
import re

from premiere_ecoute.accounts.models import Role
from premiere_ecoute.core.errors import ValidationFailed
from premiere_ecoute.core.messages import Command

LOGIN = re.compile(r"^[a-z0-9_]{3,25}$")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RegisterUser(Command):
    login: str
    role: str = Role.VIEWER.value
    display_name: str | None = None
    twitch_user_id: str | None = None
    broadcaster_type: str = ""

    def validate(self) -> None:
        if not LOGIN.match(self.login):
            raise ValidationFailed(
                "login must be 3-25 characters: lowercase letters, digits or underscore"
            )
        if self.role not in {r.value for r in Role}:
            raise ValidationFailed(
                f"role must be one of {', '.join(r.value for r in Role)}, not {self.role!r}"
            )


@dataclasses.dataclass(frozen=True, kw_only=True)
class CreateApiToken(Command):
    user_id: int
    name: str = "cli"


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
            raise ValidationFailed("provider must be twitch or spotify")
