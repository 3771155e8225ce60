"""Account use cases shared by the CLI, the demo seed and the OAuth callbacks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from premiere_ecoute.accounts.commands import CreateApiToken, LinkConnection, RegisterUser
from premiere_ecoute.accounts.models import Role, User

if TYPE_CHECKING:
    from premiere_ecoute.bootstrap import Container


def role_for(c: Container, login: str, requested: str) -> str:
    """ADMIN_LOGINS and BOT_LOGIN decide their logins' roles (SPEC §1)."""
    if login in c.settings.admin_login_set:
        return Role.ADMIN.value
    if c.settings.bot_login and login == c.settings.bot_login.lower():
        return Role.BOT.value
    return requested


async def create_user(c: Container, login: str, role: str, *, actor: str = "cli") -> User:
    """Register a user. With the fakes on, also link the fake Twitch identity and the fake
    Spotify (one active device), so a streamer can start a session at once."""
    login = login.strip().lower()
    twitch_id = None
    if c.settings.use_fakes:
        from premiere_ecoute.apis.twitch.fake.identity import fake_user_id

        twitch_id = fake_user_id(login)
    user: User = await c.bus.execute(
        RegisterUser(login=login, role=role_for(c, login, role), twitch_user_id=twitch_id),
        actor=actor,
    )
    if c.settings.use_fakes:
        from premiere_ecoute.apis.twitch.fake.identity import user_token

        await c.bus.execute(
            LinkConnection(
                user_id=user.id,
                provider="twitch",
                external_id=twitch_id,
                access_token=user_token(login),
                refresh_token=f"fake-refresh-{login}",
                expires_at=None,
            ),
            actor=actor,
        )
        token = f"fake-spotify-{login}"
        await c.bus.execute(
            LinkConnection(
                user_id=user.id,
                provider="spotify",
                external_id=login,
                access_token=token,
                refresh_token=token,
                expires_at=None,
            ),
            actor=actor,
        )
    return user


async def create_token(c: Container, user_id: int, name: str = "cli") -> str:
    token: str = await c.bus.execute(CreateApiToken(user_id=user_id, name=name))
    return token
