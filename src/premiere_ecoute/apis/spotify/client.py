"""``SpotifyClient``: the one facade over the Spotify Web API (SPEC §7).

Catalogue calls use the instance app token (client credentials) unless user credentials are
given; player and profile calls use the user's tokens, refreshed once on 401 and saved through
the ``SpotifyTokenStore``.
"""

from __future__ import annotations

import httpx

from premiere_ecoute.accounts.models import SpotifyCredentials
from premiere_ecoute.apis.spotify import albums, me, oauth, player, playlists, search
from premiere_ecoute.apis.spotify.api import PROVIDER, SpotifyApi
from premiere_ecoute.apis.spotify.auth import (
    AppTokenProvider,
    SpotifyTokenStore,
    UserTokenRefresher,
)
from premiere_ecoute.apis.spotify.models import SpotifyUser, TokenSet
from premiere_ecoute.apis.spotify.player import RepeatState
from premiere_ecoute.core.resilience.breaker import BreakerRegistry
from premiere_ecoute.core.resilience.metrics import ApiCallMetrics
from premiere_ecoute.discography.models import AlbumInfo, Device, PlaybackState, PlaylistInfo

SpotifyMetrics = ApiCallMetrics


class SpotifyClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_url: str,
        accounts_url: str,
        client_id: str,
        client_secret: str,
        token_store: SpotifyTokenStore,
        breakers: BreakerRegistry,
        metrics: SpotifyMetrics | None = None,
        now: oauth.Now = oauth.utcnow,
    ) -> None:
        self._http = http
        self.accounts_url = accounts_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self._now = now
        self._api = SpotifyApi(http, api_url, breakers.get(PROVIDER), metrics)
        self._app = AppTokenProvider(http, accounts_url, client_id, client_secret, now)
        self._users = UserTokenRefresher(
            http, accounts_url, client_id, client_secret, token_store, now
        )

    def _auth(self, creds: SpotifyCredentials | None) -> httpx.Auth:
        return self._users.auth(creds) if creds is not None else self._app.auth()

    # Accounts ----------------------------------------------------------------------

    async def exchange_code(
        self,
        code: str,
        *,
        redirect_uri: str,
        code_verifier: str,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> TokenSet:
        """Finish an authorization (PKCE) with the instance's app, or the streamer's own
        app when ``client_id`` is given (SPEC §7)."""
        return await oauth.exchange_code(
            self._http,
            self.accounts_url,
            client_id=client_id or self.client_id,
            client_secret=client_secret if client_id else self._client_secret,
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
            now=self._now,
        )

    async def refresh_user_token(self, creds: SpotifyCredentials) -> str:
        """Refresh ``creds`` now (the background job does it before they expire); the new
        tokens are saved through the token store. Returns the new access token."""
        return await self._users.refresh(creds, creds.access_token)

    # Catalogue -------------------------------------------------------------------------

    async def get_album(
        self, album_id: str, credentials: SpotifyCredentials | None = None
    ) -> AlbumInfo:
        return await albums.get_album(self._api, self._auth(credentials), album_id)

    async def search_albums(
        self, query: str, limit: int = 10, credentials: SpotifyCredentials | None = None
    ) -> list[AlbumInfo]:
        return await search.search_albums(self._api, self._auth(credentials), query, limit)

    async def get_playlist(
        self, playlist_id: str, credentials: SpotifyCredentials | None = None
    ) -> PlaylistInfo:
        """Spotify serves playlist items only to their owner or collaborators: pass the
        user's credentials for private playlists."""
        return await playlists.get_playlist(self._api, self._auth(credentials), playlist_id)

    # User ------------------------------------------------------------------------------

    async def current_user(self, credentials: SpotifyCredentials) -> SpotifyUser:
        return await me.current_user(self._api, self._users.auth(credentials))

    async def playback_state(self, credentials: SpotifyCredentials) -> PlaybackState | None:
        return await player.playback_state(self._api, self._users.auth(credentials))

    async def devices(self, credentials: SpotifyCredentials) -> list[Device]:
        return await player.devices(self._api, self._users.auth(credentials))

    async def transfer_playback(
        self, credentials: SpotifyCredentials, device_id: str, play: bool = False
    ) -> None:
        await player.transfer(self._api, self._users.auth(credentials), device_id, play)

    async def play(
        self,
        credentials: SpotifyCredentials,
        *,
        context_uri: str | None = None,
        position: int | None = None,
        uris: list[str] | None = None,
        device_id: str | None = None,
        position_ms: int | None = None,
    ) -> None:
        await player.play(
            self._api,
            self._users.auth(credentials),
            context_uri=context_uri,
            position=position,
            uris=uris,
            device_id=device_id,
            position_ms=position_ms,
        )

    async def pause(self, credentials: SpotifyCredentials, device_id: str | None = None) -> None:
        await player.pause(self._api, self._users.auth(credentials), device_id)

    async def next_track(
        self, credentials: SpotifyCredentials, device_id: str | None = None
    ) -> None:
        await player.next_track(self._api, self._users.auth(credentials), device_id)

    async def previous_track(
        self, credentials: SpotifyCredentials, device_id: str | None = None
    ) -> None:
        await player.previous_track(self._api, self._users.auth(credentials), device_id)

    async def set_shuffle(
        self, credentials: SpotifyCredentials, state: bool, device_id: str | None = None
    ) -> None:
        await player.set_shuffle(self._api, self._users.auth(credentials), state, device_id)

    async def set_repeat(
        self, credentials: SpotifyCredentials, state: RepeatState, device_id: str | None = None
    ) -> None:
        await player.set_repeat(self._api, self._users.auth(credentials), state, device_id)
