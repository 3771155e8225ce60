"""Account read models."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.accounts.models import ApiToken, OAuthCredential, User
from premiere_ecoute.core.crypto import TOKEN_PREFIX, Encryptor, hash_token


async def user_by_login(s: AsyncSession, login: str) -> User | None:
    login = login.strip().lower()
    if not login or len(login) > 50 or not login.isprintable():
        return None  # cannot be a login: no need to ask the database
    return await s.scalar(select(User).where(User.login == login))


async def user_by_twitch_id(s: AsyncSession, twitch_user_id: str) -> User | None:
    return await s.scalar(select(User).where(User.twitch_user_id == twitch_user_id))


async def user_by_api_token(s: AsyncSession, token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = await s.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None:
        return None
    await s.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=func.now()))
    return await s.get(User, row.user_id)


async def credentials(
    s: AsyncSession, encryptor: Encryptor, user_id: int, provider: str
) -> tuple[str, str | None, dt.datetime | None] | None:
    row = await s.scalar(
        select(OAuthCredential).where(
            OAuthCredential.user_id == user_id, OAuthCredential.provider == provider
        )
    )
    if row is None:
        return None
    refresh = encryptor.decrypt(row.refresh_token_enc) if row.refresh_token_enc else None
    return encryptor.decrypt(row.access_token_enc), refresh, row.expires_at
