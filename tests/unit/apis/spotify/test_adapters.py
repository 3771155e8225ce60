from __future__ import annotations

import pytest

from premiere_ecoute.apis.spotify import (
    SpotifyCatalog,
    SpotifyClient,
    SpotifyCredentials,
    SpotifyPlayback,
)
from premiere_ecoute.apis.spotify.fake import FakeSpotify
from premiere_ecoute.apis.spotify.fake.player import FakeDevice
from premiere_ecoute.core.errors import ExternalServiceError


@pytest.fixture
def playback(client: SpotifyClient, creds: SpotifyCredentials) -> SpotifyPlayback:
    async def load(user_id: int) -> SpotifyCredentials:
        assert user_id == creds.user_id
        return creds

    return SpotifyPlayback(client, load)


async def test_ensure_device_returns_the_active_device(
    playback: SpotifyPlayback, fake: FakeSpotify, creds: SpotifyCredentials
) -> None:
    active = fake.player_for(creds.access_token).devices[0]
    assert await playback.ensure_device(creds.user_id) == active.id


async def test_ensure_device_transfers_to_the_requested_device(
    playback: SpotifyPlayback, fake: FakeSpotify, creds: SpotifyCredentials
) -> None:
    player = fake.player_for(creds.access_token)
    player.devices[0].is_active = False
    player.devices.append(FakeDevice("phone-1", "Phone", "Smartphone"))
    assert await playback.ensure_device(creds.user_id, "phone-1") == "phone-1"
    assert player.active_device is not None and player.active_device.id == "phone-1"


async def test_ensure_device_falls_back_to_the_first_device(
    playback: SpotifyPlayback, fake: FakeSpotify, creds: SpotifyCredentials
) -> None:
    player = fake.player_for(creds.access_token)
    player.devices[0].is_active = False
    first = player.devices[0].id
    assert await playback.ensure_device(creds.user_id) == first
    assert player.devices[0].is_active


async def test_ensure_device_without_devices_asks_to_open_spotify(
    playback: SpotifyPlayback, fake: FakeSpotify, creds: SpotifyCredentials
) -> None:
    fake.player_for(creds.access_token).devices.clear()
    with pytest.raises(ExternalServiceError, match=r"^Open Spotify on a device first$"):
        await playback.ensure_device(creds.user_id)


async def test_prepare_then_play_context_then_pause(
    playback: SpotifyPlayback, fake: FakeSpotify, creds: SpotifyCredentials
) -> None:
    album = next(iter(fake.catalogue.albums.values()))
    player = fake.player_for(creds.access_token)
    player.shuffle, player.repeat = True, "track"
    device = await playback.ensure_device(creds.user_id)
    await playback.prepare(creds.user_id, device)
    await playback.play_context(creds.user_id, album.uri, 0, device)
    state = await playback.state(creds.user_id)
    assert state is not None
    assert (state.shuffle, state.repeat, state.is_playing) == (False, "off", True)
    assert (state.context_uri, state.track_spotify_id) == (album.uri, album.tracks[0].id)
    await playback.pause(creds.user_id)
    paused = await playback.state(creds.user_id)
    assert paused is not None and not paused.is_playing


async def test_catalog_adapter_reads_albums_with_the_app_token_and_playlists_as_the_streamer(
    client: SpotifyClient, fake: FakeSpotify, creds: SpotifyCredentials
) -> None:
    async def load(user_id: int) -> SpotifyCredentials:
        assert user_id == creds.user_id
        return creds

    catalog = SpotifyCatalog(client, load)
    found = await catalog.search_albums("harbour")
    album = await catalog.get_album(found[0].spotify_id)
    playlist_id = next(iter(fake.catalogue.playlists))
    playlist = await catalog.get_playlist(playlist_id, user_id=creds.user_id)
    assert album.name == "Harbour Lights at Dusk" and len(album.tracks) == 9
    assert len(playlist.tracks) == 6
    # Spotify serves a playlist's items to its owner or collaborators, not to an app.
    with pytest.raises(ExternalServiceError):
        await SpotifyCatalog(client).get_playlist(playlist_id)
