"""Account command handlers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from premiere_ecoute.accounts import events
from premiere_ecoute.accounts.commands import CreateApiToken, LinkConnection, RegisterUser
from premiere_ecoute.accounts.models import ApiToken, OAuthCredential, User
from premiere_ecoute.core.crypto import Encryptor, hash_token, new_api_token
from premiere_ecoute.core.errors import Conflict, NotFound
from premiere_ecoute.core.unit_of_work import UnitOfWork


async def register_user(cmd: RegisterUser, uow: UnitOfWork) -> User:
    s = uow.session
    if await s.scalar(select(User.id).where(User.login == cmd.login)):
        raise Conflict(f"a user with login {cmd.login!r} already exists")
    if cmd.twitch_user_id and await s.scalar(
        select(User.id).where(User.twitch_user_id == cmd.twitch_user_id)
    ):
        raise Conflict("this Twitch account is already registered")
    user = User(
        login=cmd.login,
        display_name=cmd.display_name or cmd.login,
        role=cmd.role,
        twitch_user_id=cmd.twitch_user_id,
        broadcaster_type=cmd.broadcaster_type,
    )
    s.add(user)
    await s.flush()
    uow.record(
        events.UserRegistered(
            user_id=user.id, login=user.login, role=user.role, twitch_user_id=user.twitch_user_id
        ),
        expected_version=0,
    )
    return user


async def create_api_token(cmd: CreateApiToken, uow: UnitOfWork) -> str:
    if not await uow.session.get(User, cmd.user_id):
        raise NotFound("no such user")
    token = new_api_token()
    row = ApiToken(
        user_id=cmd.user_id, name=cmd.name, token_hash=hash_token(token), prefix=token[:10]
    )
    uow.session.add(row)
    await uow.session.flush()
    uow.record(events.ApiTokenCreated(user_id=cmd.user_id, token_id=row.id, name=cmd.name))
    return token


def make_link_connection(encryptor: Encryptor):  # type: ignore[no-untyped-def]
    async def link_connection(cmd: LinkConnection, uow: UnitOfWork) -> None:
        values = {
            "user_id": cmd.user_id,
            "provider": cmd.provider,
            "external_id": cmd.external_id,
            "access_token_enc": encryptor.encrypt(cmd.access_token),
            "refresh_token_enc": encryptor.encrypt(cmd.refresh_token)
            if cmd.refresh_token
            else None,
            "expires_at": cmd.expires_at,
            "scopes": cmd.scopes,
            "status": "ok",
        }
        stmt = insert(OAuthCredential).values(**values)
        stmt = stmt.on_conflict_do_update(
            constraint="uq_oauth_user_provider",
            set_={k: v for k, v in values.items() if k not in ("user_id", "provider")},
        )
        await uow.session.execute(stmt)
        uow.record(events.ConnectionLinked(user_id=cmd.user_id, provider=cmd.provider))

    return link_connection
