"""Session ports (``Catalog``, ``Playback``) implemented over ``SpotifyClient``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from premiere_ecoute.accounts.models import SpotifyCredentials
from premiere_ecoute.accounts.repository import CredentialRepository
from premiere_ecoute.apis.spotify.api import NO_DEVICE_MESSAGE, PROVIDER
from premiere_ecoute.apis.spotify.client import SpotifyClient
from premiere_ecoute.core.errors import DomainError, ExternalServiceError
from premiere_ecoute.discography.models import AlbumInfo, Device, PlaybackState, PlaylistInfo

CredentialsLoader = Callable[[int], Awaitable[SpotifyCredentials]]


class SpotifyCatalog:
    """``Catalog`` with the instance app token; playlists with the streamer's own token when
    they linked Spotify (current Spotify serves playlist items only to owners and
    collaborators)."""

    def __init__(
        self, client: SpotifyClient, credentials_loader: CredentialsLoader | None = None
    ) -> None:
        self._client = client
        self._load = credentials_loader

    async def get_album(self, album_id: str) -> AlbumInfo:
        return await self._client.get_album(album_id)

    async def get_playlist(self, playlist_id: str, user_id: int | None = None) -> PlaylistInfo:
        credentials = None
        if user_id is not None and self._load is not None:
            try:
                credentials = await self._load(user_id)
            except DomainError:
                credentials = None  # not linked: the app token may still see a public list
        return await self._client.get_playlist(playlist_id, credentials)

    async def search_albums(self, query: str, limit: int = 10) -> list[AlbumInfo]:
        return await self._client.search_albums(query, limit)


class SpotifyPlayback:
    """``Playback`` for one streamer at a time; credentials are loaded per call so refreshed
    tokens saved by another process are picked up."""

    def __init__(self, client: SpotifyClient, credentials_loader: CredentialsLoader) -> None:
        self._client = client
        self._load = credentials_loader

    async def ensure_device(self, user_id: int, device_id: str | None = None) -> str:
        creds = await self._load(user_id)
        devices = await self._client.devices(creds)
        active = next((d for d in devices if d.is_active), None)
        if active is not None and (device_id is None or active.id == device_id):
            return active.id
        target = next((d for d in devices if d.id == device_id), None) if device_id else None
        target = target or active or (devices[0] if devices else None)
        if target is None:
            raise ExternalServiceError(NO_DEVICE_MESSAGE, service=PROVIDER)
        if not target.is_active:
            await self._client.transfer_playback(creds, target.id, play=False)
        return target.id

    async def prepare(self, user_id: int, device_id: str) -> None:
        creds = await self._load(user_id)
        await self._client.set_shuffle(creds, False, device_id)
        await self._client.set_repeat(creds, "off", device_id)

    async def play_context(
        self, user_id: int, context_uri: str, position: int, device_id: str | None = None
    ) -> None:
        creds = await self._load(user_id)
        await self._client.play(
            creds, context_uri=context_uri, position=position, device_id=device_id
        )

    async def pause(self, user_id: int) -> None:
        await self._client.pause(await self._load(user_id))

    async def state(self, user_id: int) -> PlaybackState | None:
        return await self._client.playback_state(await self._load(user_id))

    async def list_devices(self, user_id: int) -> list[Device]:
        return await self._client.devices(await self._load(user_id))

    async def transfer(self, user_id: int, device_id: str) -> None:
        # play=False keeps the current state: a paused player stays paused on the new device.
        await self._client.transfer_playback(await self._load(user_id), device_id, play=False)

    async def resume(self, user_id: int) -> None:
        await self._client.play(await self._load(user_id))


class SpotifyStore:
    """``SpotifyTokenStore`` over the accounts repository: refreshed tokens are saved
    encrypted, a refused refresh marks the connection."""

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
        await self._repo.save(user_id, "spotify", access_token, refresh_token, expires_at)
