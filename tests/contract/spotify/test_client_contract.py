"""One suite, two backends: what the client parses from the fake and from the contract mock
must have the same types and fields, so code tested against the fake holds against Spotify."""

from __future__ import annotations

import datetime as dt

import pytest

from premiere_ecoute.discography.models import AlbumInfo, Device, PlaybackState, TrackInfo

from .conftest import Backend

pytestmark = pytest.mark.contract


def _check_track(track: TrackInfo) -> None:
    assert isinstance(track.spotify_id, str) and track.spotify_id
    assert isinstance(track.name, str)
    assert isinstance(track.track_number, int) and track.track_number >= 0
    assert isinstance(track.disc_number, int)
    assert isinstance(track.duration_ms, int) and track.duration_ms >= 0


def _check_album(album: AlbumInfo) -> None:
    assert isinstance(album.spotify_id, str) and album.spotify_id
    assert isinstance(album.name, str)
    assert album.artists and all(isinstance(a, str) for a in album.artists)
    assert album.release_date is None or isinstance(album.release_date, dt.date)
    assert album.cover_url is None or album.cover_url.startswith("http")
    assert isinstance(album.total_tracks, int)


async def test_album_parses_with_tracks(backend: Backend) -> None:
    album = await backend.client.get_album(backend.album_id)
    _check_album(album)
    assert album.tracks
    for track in album.tracks:
        _check_track(track)


async def test_search_returns_albums_without_tracks(backend: Backend) -> None:
    albums = await backend.client.search_albums(backend.query, limit=3)
    assert 1 <= len(albums) <= 3
    for album in albums:
        _check_album(album)
        assert album.tracks == ()


async def test_playlist_parses_with_tracks(backend: Backend) -> None:
    playlist = await backend.client.get_playlist(backend.playlist_id, backend.creds)
    assert playlist.spotify_id and isinstance(playlist.name, str)
    assert isinstance(playlist.owner, str)
    # Prism's example item is a local file, which we skip on purpose (it cannot be played).
    assert playlist.tracks or backend.name == "prism"
    for track in playlist.tracks:
        _check_track(track)


async def test_current_user_parses(backend: Backend) -> None:
    user = await backend.client.current_user(backend.creds)
    assert user.id and isinstance(user.display_name, str)
    assert user.product is None or isinstance(user.product, str)


async def test_devices_and_playback_state_parse(backend: Backend) -> None:
    client, creds = backend.client, backend.creds
    devices = await client.devices(creds)
    assert devices and all(isinstance(d, Device) and d.id for d in devices)
    await client.play(creds, context_uri=backend.context_uri, position=0)
    state = await client.playback_state(creds)
    assert isinstance(state, PlaybackState)
    assert isinstance(state.is_playing, bool)
    assert isinstance(state.progress_ms, int) and isinstance(state.duration_ms, int)
    assert state.device is None or isinstance(state.device, Device)
    assert state.context_uri is None or state.context_uri.startswith(("spotify:", "string"))
