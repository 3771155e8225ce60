"""Database-backed credentials for the API clients: loaders (decrypt on read) and stores
(encrypt refreshed tokens). Read on every call so a refresh by another process is seen."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from premiere_ecoute.accounts.models import OAuthCredential, User
from premiere_ecoute.apis.spotify.models import SpotifyCredentials
from premiere_ecoute.apis.twitch.models import TokenSet, UserToken
from premiere_ecoute.core.crypto import Encryptor
from premiere_ecoute.core.errors import InvalidState
from premiere_ecoute.sessions.models import ListeningSession


@dataclass(frozen=True, slots=True)
class Expiring:
    user_id: int
    provider: str
    twitch_user_id: str | None


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
            raise InvalidState(f"Connect your {what} account first")
        if row.status == "needs_reconnect":
            raise InvalidState(f"Your {provider.title()} connection expired: reconnect it")
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

    async def save_spotify(
        self,
        user_id: int,
        access_token: str,
        refresh_token: str | None,
        expires_at: dt.datetime | None,
    ) -> None:
        await self._save(user_id, "spotify", access_token, refresh_token, expires_at)

    async def save_twitch(
        self,
        user_id: int,
        access_token: str,
        refresh_token: str | None,
        expires_at: dt.datetime | None,
    ) -> None:
        await self._save(user_id, "twitch", access_token, refresh_token, expires_at)

    async def _save(
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

    async def delete(self, user_id: int, provider: str) -> bool:
        async with self._sm() as s, s.begin():
            result = await s.execute(
                delete(OAuthCredential).where(
                    OAuthCredential.user_id == user_id, OAuthCredential.provider == provider
                )
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def expiring(self, before: dt.datetime, bot_login: str) -> list[Expiring]:
        """Refreshable, healthy connections that expire before ``before`` and are needed:
        the bot's, and those of users with a preparing or active session."""
        busy = select(ListeningSession.id).where(
            ListeningSession.user_id == User.id,
            ListeningSession.status.in_(("preparing", "active")),
        )
        needed = or_(User.role == "bot", busy.exists())
        if bot_login:
            needed = or_(needed, User.login == bot_login.lower())
        async with self._sm() as s:
            rows = await s.execute(
                select(OAuthCredential.user_id, OAuthCredential.provider, User.twitch_user_id)
                .join(User, User.id == OAuthCredential.user_id)
                .where(
                    OAuthCredential.status == "ok",
                    OAuthCredential.refresh_token_enc.is_not(None),
                    OAuthCredential.expires_at.is_not(None),
                    OAuthCredential.expires_at < before,
                    needed,
                )
                .order_by(OAuthCredential.expires_at)
            )
            return [Expiring(int(uid), str(provider), tid) for uid, provider, tid in rows.all()]

    async def _user_id_for_twitch(self, s: AsyncSession, twitch_user_id: str) -> int:
        uid = await s.scalar(select(User.id).where(User.twitch_user_id == twitch_user_id))
        if uid is None:
            raise InvalidState(f"no user with Twitch id {twitch_user_id}")
        return int(uid)

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


class SpotifyStore:
    """``SpotifyTokenStore`` over the repository."""

    def __init__(self, repo: CredentialRepository) -> None:
        self._repo = repo

    async def needs_reconnect(self, user_id: int, refresh_token: str | None = None) -> None:
        await self._repo.mark_needs_reconnect(user_id, "spotify", refresh_token)

    async def save(
        self,
        user_id: int,
        access_token: str,
        refresh_token: str | None,
        expires_at: dt.datetime | None,
    ) -> None:
        await self._repo.save_spotify(user_id, access_token, refresh_token, expires_at)


class TwitchStore:
    """``TwitchTokenStore`` over the repository."""

    def __init__(self, repo: CredentialRepository, sm: async_sessionmaker[AsyncSession]):
        self._repo = repo
        self._sm = sm

    async def save(self, user_id: str, tokens: TokenSet) -> None:
        async with self._sm() as s:
            uid = await self._repo._user_id_for_twitch(s, user_id)
        await self._repo._save(
            uid, "twitch", tokens.access_token, tokens.refresh_token, tokens.expires_at
        )

    async def needs_reconnect(
        self, user_id: str, reason: str, refresh_token: str | None = None
    ) -> None:
        async with self._sm() as s:
            uid = await self._repo._user_id_for_twitch(s, user_id)
        await self._repo.mark_needs_reconnect(uid, "twitch", refresh_token)
