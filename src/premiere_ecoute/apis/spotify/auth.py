"""Bearer auth for Spotify calls: a cached app token, and user tokens refreshed on 401.

Both are ``httpx.Auth`` flows so the refresh-once-and-retry-once rule lives in one place,
whatever the endpoint.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncGenerator, Generator
from typing import Protocol

import httpx

from premiere_ecoute.accounts.models import SpotifyCredentials
from premiere_ecoute.apis.spotify import oauth
from premiere_ecoute.apis.spotify.models import TokenSet
from premiere_ecoute.core.errors import N_

# App tokens are renewed this long before Spotify says they expire (SPEC §1).
APP_TOKEN_MARGIN = dt.timedelta(seconds=60)
# User tokens that expire sooner than this are refreshed before the call, saving a 401.
USER_TOKEN_MARGIN = dt.timedelta(seconds=30)


class SpotifyTokenStore(Protocol):
    async def save(
        self,
        user_id: int,
        access_token: str,
        refresh_token: str | None,
        expires_at: dt.datetime | None,
    ) -> None: ...

    async def needs_reconnect(self, user_id: int, refresh_token: str | None = None) -> None:
        """Spotify refused ``refresh_token`` for good: mark the connection (no retry loop),
        unless another process has meanwhile stored a newer one."""
        ...


class InMemoryTokenStore:
    """Keeps refreshed tokens in a dict; for tests and the CLI."""

    def __init__(self) -> None:
        self.saved: dict[int, tuple[str, str | None, dt.datetime | None]] = {}
        self.refused: set[int] = set()

    async def save(
        self,
        user_id: int,
        access_token: str,
        refresh_token: str | None,
        expires_at: dt.datetime | None,
    ) -> None:
        self.saved[user_id] = (access_token, refresh_token, expires_at)

    async def needs_reconnect(self, user_id: int, refresh_token: str | None = None) -> None:
        self.refused.add(user_id)


class _AsyncOnlyAuth(httpx.Auth):
    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("Spotify auth flows are async only")
        yield request  # pragma: no cover - makes this a generator


class AppTokenProvider:
    """The instance app's client-credentials token, cached until 60 s before expiry."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        accounts_url: str,
        client_id: str,
        client_secret: str,
        now: oauth.Now = oauth.utcnow,
    ) -> None:
        self._http = http
        self._accounts_url = accounts_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._now = now
        self._token: TokenSet | None = None
        self._lock = asyncio.Lock()

    async def token(self, *, stale: str | None = None) -> str:
        """Return a valid app token; ``stale`` names one that was just refused."""
        async with self._lock:
            current = self._token
            fresh = current is not None and current.expires_at - APP_TOKEN_MARGIN > self._now()
            if current is not None and fresh and current.access_token != stale:
                return current.access_token
            self._token = await oauth.client_credentials(
                self._http,
                self._accounts_url,
                client_id=self._client_id,
                client_secret=self._client_secret,
                now=self._now,
            )
            return self._token.access_token

    def auth(self) -> httpx.Auth:
        return _AppAuth(self)


class _AppAuth(_AsyncOnlyAuth):
    def __init__(self, provider: AppTokenProvider) -> None:
        self._provider = provider

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._provider.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            token = await self._provider.token(stale=token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request


class UserTokenRefresher:
    """Refreshes user tokens, at most once at a time per user, and saves them in the store.

    Remembers the latest tokens per user so that concurrent calls holding the same stale
    token share one refresh (Spotify may rotate refresh tokens: a second refresh would fail).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        accounts_url: str,
        client_id: str,
        client_secret: str,
        store: SpotifyTokenStore,
        now: oauth.Now = oauth.utcnow,
    ) -> None:
        self._http = http
        self._accounts_url = accounts_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._store = store
        self.now = now
        self._latest: dict[int, TokenSet] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def _newer(self, creds: SpotifyCredentials) -> TokenSet | None:
        """The tokens this process refreshed last, when newer than the stored ``creds`` (a
        refresh by another process, saved in the database, wins over this cache)."""
        latest = self._latest.get(creds.user_id)
        if latest is not None and (
            creds.expires_at is None or latest.expires_at > creds.expires_at
        ):
            return latest
        return None

    def current(self, creds: SpotifyCredentials) -> tuple[str, dt.datetime | None]:
        latest = self._newer(creds)
        if latest is not None:
            return latest.access_token, latest.expires_at
        return creds.access_token, creds.expires_at

    async def refresh(self, creds: SpotifyCredentials, stale_token: str) -> str:
        lock = self._locks.setdefault(creds.user_id, asyncio.Lock())
        async with lock:
            latest = self._newer(creds)
            if latest is not None and latest.access_token != stale_token:
                return latest.access_token
            refresh_token = (latest.refresh_token if latest else None) or creds.refresh_token
            if not refresh_token:
                raise oauth.SpotifyReconnectRequired(
                    N_("Spotify access expired; please reconnect Spotify on your account page"),
                    service="spotify",
                )
            try:
                token = await oauth.refresh(
                    self._http,
                    self._accounts_url,
                    client_id=creds.client_id or self._client_id,
                    client_secret=creds.client_secret or self._client_secret,
                    refresh_token=refresh_token,
                    now=self.now,
                )
            except oauth.SpotifyReconnectRequired:
                await self._store.needs_reconnect(creds.user_id, refresh_token)
                raise
            self._latest[creds.user_id] = token
            await self._store.save(
                creds.user_id, token.access_token, token.refresh_token, token.expires_at
            )
            return token.access_token

    def auth(self, creds: SpotifyCredentials) -> httpx.Auth:
        return _UserAuth(self, creds)


class _UserAuth(_AsyncOnlyAuth):
    def __init__(self, refresher: UserTokenRefresher, creds: SpotifyCredentials) -> None:
        self._refresher = refresher
        self._creds = creds

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token, expires_at = self._refresher.current(self._creds)
        if expires_at is not None and expires_at - USER_TOKEN_MARGIN <= self._refresher.now():
            token = await self._refresher.refresh(self._creds, token)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            token = await self._refresher.refresh(self._creds, token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request
