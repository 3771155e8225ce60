"""Account writes: users, connections (tokens encrypted at rest), API tokens, follows, and
what an account deletion erases of its own stream.

``CredentialRepository`` is what the provider clients use: it decrypts on every read, so a
token refreshed by another process is seen, and encrypts what a refresh brings."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from premiere_ecoute.accounts.models import (
    WEB_SESSION_IDLE,
    WEB_SESSION_MAX_AGE,
    ApiToken,
    Follow,
    OAuthCredential,
    SpotifyCredentials,
    User,
    UserToken,
    WebSession,
)
from premiere_ecoute.core.crypto import TOKEN_PREFIX, Encryptor, hash_token
from premiere_ecoute.core.errors import N_, AccountNotConnected, InvalidState, refuse

ERASED = "erased"
# Only the fields that name the person; the rest (ids, roles, times) stays for the audit trail.
_OWN_STREAM = text(
    "UPDATE events SET payload = payload"
    " || CASE WHEN payload ? 'login' THEN jsonb_build_object('login', CAST(:erased AS text))"
    "    ELSE '{}'::jsonb END"
    " || CASE WHEN payload ? 'twitch_user_id' THEN jsonb_build_object('twitch_user_id', null)"
    "    ELSE '{}'::jsonb END"
    " || CASE WHEN payload ? 'name' THEN jsonb_build_object('name', CAST(:erased AS text))"
    "    ELSE '{}'::jsonb END"
    " WHERE stream = :stream"
)


async def locked_user(s: AsyncSession, user_id: int) -> User | None:
    return await s.get(User, user_id, with_for_update=True)


async def add_user(s: AsyncSession, user: User) -> User:
    s.add(user)
    await s.flush()
    return user


async def upsert_connection(s: AsyncSession, values: dict[str, Any]) -> None:
    stmt = insert(OAuthCredential).values(**values)
    stmt = stmt.on_conflict_do_update(
        constraint="uq_oauth_user_provider",
        set_={k: v for k, v in values.items() if k not in ("user_id", "provider")},
    )
    await s.execute(stmt)


async def add_api_token(s: AsyncSession, user_id: int, name: str, token: str) -> ApiToken:
    row = ApiToken(user_id=user_id, name=name, token_hash=hash_token(token), prefix=token[:10])
    s.add(row)
    await s.flush()
    return row


async def locked_api_token(s: AsyncSession, token_id: int) -> ApiToken | None:
    return await s.get(ApiToken, token_id, with_for_update=True)


async def authenticate_api_token(s: AsyncSession, token: str) -> User | None:
    """The owner of a live API token (its last use is recorded), else None."""
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


async def reencrypt_secrets(s: AsyncSession, encryptor: Encryptor) -> int:
    """Encrypt every stored secret (OAuth tokens, streamers' Spotify app secrets) with the
    current key; returns how many values were rewritten. Raises ValueError when one cannot
    be decrypted with the current or a previous key."""
    count = 0
    for cred in await s.scalars(select(OAuthCredential).with_for_update()):
        cred.access_token_enc = encryptor.rotate(cred.access_token_enc)
        count += 1
        if cred.refresh_token_enc:
            cred.refresh_token_enc = encryptor.rotate(cred.refresh_token_enc)
            count += 1
    users = await s.scalars(
        select(User).where(User.spotify_client_secret_enc.is_not(None)).with_for_update()
    )
    for user in users:
        if user.spotify_client_secret_enc:
            user.spotify_client_secret_enc = encryptor.rotate(user.spotify_client_secret_enc)
            count += 1
    await s.flush()
    return count


async def open_web_session(s: AsyncSession, user_id: int) -> str:
    """A new browser session of ``user_id``; returns the id for the cookie (only its hash is
    stored)."""
    session_id = secrets.token_urlsafe(32)
    s.add(WebSession(id_hash=hash_token(session_id), user_id=user_id))
    await s.flush()
    return session_id


async def renew_web_session(s: AsyncSession, id_hash: str) -> None:
    await s.execute(
        update(WebSession).where(WebSession.id_hash == id_hash).values(last_seen_at=func.now())
    )


async def end_web_session(s: AsyncSession, session_id: str) -> None:
    await s.execute(delete(WebSession).where(WebSession.id_hash == hash_token(session_id)))


async def prune_web_sessions(s: AsyncSession) -> int:
    """Delete the browser sessions that can no longer be used (idle or too old)."""
    result = await s.execute(
        delete(WebSession).where(
            (WebSession.last_seen_at < func.now() - WEB_SESSION_IDLE)
            | (WebSession.created_at < func.now() - WEB_SESSION_MAX_AGE)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def end_web_sessions(s: AsyncSession, user_id: int, *, keep: str | None = None) -> int:
    """End every browser session of ``user_id`` but the one whose id is ``keep``; returns
    how many were ended."""
    stmt = delete(WebSession).where(WebSession.user_id == user_id)
    if keep:
        stmt = stmt.where(WebSession.id_hash != hash_token(keep))
    result = await s.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


async def follow(s: AsyncSession, follower_id: int, streamer_id: int, source: str) -> bool:
    """False when already followed."""
    if await s.get(Follow, (follower_id, streamer_id)) is not None:
        return False
    s.add(Follow(follower_id=follower_id, streamer_id=streamer_id, source=source))
    return True


async def unfollow(s: AsyncSession, follower_id: int, streamer_id: int) -> bool:
    row = await s.get(Follow, (follower_id, streamer_id))
    if row is None:
        return False
    await s.delete(row)
    return True


async def store_twitch_follows(s: AsyncSession, follower_id: int, streamer_ids: set[int]) -> None:
    """The follows imported from Twitch become ``streamer_ids``: new ones are added, ended
    ones dropped; follows made in the app are never touched."""
    stale = delete(Follow).where(Follow.follower_id == follower_id, Follow.source == "twitch")
    if streamer_ids:
        stale = stale.where(Follow.streamer_id.not_in(sorted(streamer_ids)))
    await s.execute(stale)
    if streamer_ids:
        await s.execute(
            insert(Follow)
            .values(
                [
                    {"follower_id": follower_id, "streamer_id": sid, "source": "twitch"}
                    for sid in sorted(streamer_ids)
                ]
            )
            .on_conflict_do_nothing()
        )


async def delete_user(s: AsyncSession, user: User) -> None:
    """The user and what is only theirs; what other domains hold of them is erased first
    (``accounts.ports.UserActivity``). The user's own event stream keeps ids, roles and times
    but loses their login, Twitch id and token names."""
    await s.execute(_OWN_STREAM, {"erased": ERASED, "stream": f"user-{user.id}"})
    await s.delete(user)  # tokens, connections and follows go with it (ON DELETE CASCADE)


class CredentialRepository:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], encryptor: Encryptor):
        self._sm = sessionmaker
        self._enc = encryptor

    async def _row(self, s: AsyncSession, user_id: int, provider: str) -> OAuthCredential:
        row = await s.scalar(
            select(OAuthCredential).where(
                OAuthCredential.user_id == user_id, OAuthCredential.provider == provider
            )
        )
        if row is None:
            what = "Spotify" if provider == "spotify" else "Twitch"
            raise refuse(
                AccountNotConnected, N_("Connect your %(service)s account first"), service=what
            )
        if row.status == "needs_reconnect":
            raise refuse(
                AccountNotConnected,
                N_("Your %(service)s connection expired: reconnect it"),
                service=provider.title(),
            )
        return row

    async def spotify(self, user_id: int) -> SpotifyCredentials:
        async with self._sm() as s:
            row = await self._row(s, user_id, "spotify")
            user = await s.get(User, user_id)
            secret = (
                self._enc.decrypt(user.spotify_client_secret_enc)
                if user and user.spotify_client_secret_enc
                else None
            )
            return SpotifyCredentials(
                user_id=user_id,
                access_token=self._enc.decrypt(row.access_token_enc),
                refresh_token=self._enc.decrypt(row.refresh_token_enc)
                if row.refresh_token_enc
                else None,
                expires_at=row.expires_at,
                client_id=user.spotify_client_id if user and secret else None,
                client_secret=secret,
            )

    async def twitch(self, twitch_user_id: str) -> UserToken:
        async with self._sm() as s:
            user_id = await self._user_id_for_twitch(s, twitch_user_id)
            row = await self._row(s, user_id, "twitch")
            return UserToken(
                user_id=twitch_user_id,
                access_token=self._enc.decrypt(row.access_token_enc),
                refresh_token=self._enc.decrypt(row.refresh_token_enc)
                if row.refresh_token_enc
                else None,
                expires_at=row.expires_at,
            )

    async def bot_twitch_id(self, bot_login: str) -> str | None:
        if not bot_login:
            return None
        async with self._sm() as s:
            return await s.scalar(
                select(User.twitch_user_id).where(User.login == bot_login.lower())
            )

    async def save(
        self,
        user_id: int,
        provider: str,
        access: str,
        refresh: str | None,
        expires_at: dt.datetime | None,
    ) -> None:
        values: dict[str, object] = {
            "access_token_enc": self._enc.encrypt(access),
            "expires_at": expires_at,
            "status": "ok",
        }
        if refresh:
            values["refresh_token_enc"] = self._enc.encrypt(refresh)
        async with self._sm() as s, s.begin():
            await s.execute(
                update(OAuthCredential)
                .where(OAuthCredential.user_id == user_id, OAuthCredential.provider == provider)
                .values(**values)
            )

    async def save_twitch(
        self,
        twitch_user_id: str,
        access: str,
        refresh: str | None,
        expires_at: dt.datetime | None,
    ) -> None:
        async with self._sm() as s:
            user_id = await self._user_id_for_twitch(s, twitch_user_id)
        await self.save(user_id, "twitch", access, refresh, expires_at)

    async def mark_needs_reconnect(
        self, user_id: int, provider: str, tried: str | None = None
    ) -> bool:
        """A refresh was refused for good: loaders refuse the connection until relinked.

        With ``tried`` (the refresh token that was refused), nothing is marked when the stored
        one differs: another process refreshed in the meantime (the provider rotated the token,
        so the loser's attempt was bound to fail) and the connection works."""
        async with self._sm() as s, s.begin():
            row = await s.scalar(
                select(OAuthCredential)
                .where(OAuthCredential.user_id == user_id, OAuthCredential.provider == provider)
                .with_for_update()
            )
            if row is None:
                return False
            stored = self._enc.decrypt(row.refresh_token_enc) if row.refresh_token_enc else None
            if tried is not None and stored is not None and stored != tried:
                return False
            row.status = "needs_reconnect"
            return True

    async def mark_twitch_needs_reconnect(self, twitch_user_id: str, tried: str | None) -> bool:
        async with self._sm() as s:
            user_id = await self._user_id_for_twitch(s, twitch_user_id)
        return await self.mark_needs_reconnect(user_id, "twitch", tried)

    async def delete(self, user_id: int, provider: str) -> bool:
        async with self._sm() as s, s.begin():
            result = await s.execute(
                delete(OAuthCredential).where(
                    OAuthCredential.user_id == user_id, OAuthCredential.provider == provider
                )
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _user_id_for_twitch(self, s: AsyncSession, twitch_user_id: str) -> int:
        uid = await s.scalar(select(User.id).where(User.twitch_user_id == twitch_user_id))
        if uid is None:
            raise refuse(InvalidState, N_("no user with Twitch id %(id)s"), id=twitch_user_id)
        return int(uid)
