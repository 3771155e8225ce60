"""Every Spotify endpoint we call, sent by the real client to a mock that validates requests
against Spotify's published OpenAPI: Prism answers 400/422 to a request that breaks it."""

from __future__ import annotations

import pytest

from .conftest import Backend

pytestmark = pytest.mark.contract


def _no_refusals(backend: Backend) -> None:
    refused = [
        (r.request.method, r.request.url.path, r.status_code, r.text[:200])
        for r in backend.responses
        if r.status_code >= 400
    ]
    assert refused == []
    assert backend.responses, "no request reached the mock"


async def test_album_and_track_pages_are_valid_requests(prism_backend: Backend) -> None:
    album = await prism_backend.client.get_album(prism_backend.album_id)
    assert album.spotify_id
    paths = [r.request.url.path for r in prism_backend.responses]
    assert f"/albums/{prism_backend.album_id}/tracks" in paths
    _no_refusals(prism_backend)


async def test_search_requests_stay_within_ten_results(prism_backend: Backend) -> None:
    await prism_backend.client.search_albums("kestrel motel", limit=25)
    limits = [int(r.request.url.params["limit"]) for r in prism_backend.responses]
    assert limits and max(limits) <= 10
    _no_refusals(prism_backend)


async def test_playlist_and_its_items_are_valid_requests(prism_backend: Backend) -> None:
    await prism_backend.client.get_playlist(prism_backend.playlist_id, prism_backend.creds)
    paths = [r.request.url.path for r in prism_backend.responses]
    assert f"/playlists/{prism_backend.playlist_id}/items" in paths
    _no_refusals(prism_backend)


async def test_user_and_player_reads_are_valid_requests(prism_backend: Backend) -> None:
    client, creds = prism_backend.client, prism_backend.creds
    await client.current_user(creds)
    await client.playback_state(creds)
    await client.devices(creds)
    _no_refusals(prism_backend)


async def test_player_commands_are_valid_requests(prism_backend: Backend) -> None:
    client, creds = prism_backend.client, prism_backend.creds
    await client.transfer_playback(creds, "74ASZWbe4lXaubB36ztrGX")
    await client.play(creds, context_uri=prism_backend.context_uri, position=3, device_id="d1")
    await client.play(creds, uris=["spotify:track:4iV5W9uYEdYUVa79Axb7Rh"])
    await client.pause(creds)
    await client.next_track(creds)
    await client.previous_track(creds)
    await client.set_shuffle(creds, False)
    await client.set_repeat(creds, "off")
    assert len(prism_backend.responses) == 8
    _no_refusals(prism_backend)
