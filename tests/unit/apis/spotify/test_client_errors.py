from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from premiere_ecoute.apis.spotify import InMemoryTokenStore, SpotifyClient, SpotifyCredentials
from premiere_ecoute.apis.spotify.fake import FakeSpotify, create_fake_spotify_app
from premiere_ecoute.apis.spotify.fake.testing import fake_http_client
from premiere_ecoute.core.clock import FakeClock
from premiere_ecoute.core.errors import ExternalServiceError, ServiceUnavailable
from premiere_ecoute.core.resilience import BreakerRegistry

from .conftest import BASE


def _album_id(fake: FakeSpotify) -> str:
    return next(iter(fake.catalogue.albums))


def _count(fake: FakeSpotify, method: str, path: str) -> int:
    return fake.requests.count((method, path))


async def test_no_active_device_asks_to_open_spotify(
    client: SpotifyClient, creds: SpotifyCredentials, fake: FakeSpotify
) -> None:
    fake.fail_next("PUT /me/player/play", 404, reason="NO_ACTIVE_DEVICE")
    with pytest.raises(ExternalServiceError) as info:
        await client.play(creds, context_uri="spotify:album:x", position=0)
    assert info.value.message == "Open Spotify on a device first"
    assert info.value.service == "spotify"


async def test_real_no_device_answer_of_the_fake_maps_to_the_same_message(
    client: SpotifyClient, creds: SpotifyCredentials, fake: FakeSpotify
) -> None:
    for device in fake.player_for(creds.access_token).devices:
        device.is_active = False
    with pytest.raises(ExternalServiceError, match=r"^Open Spotify on a device first$"):
        await client.pause(creds)


async def test_premium_required_is_explained(
    client: SpotifyClient, creds: SpotifyCredentials, fake: FakeSpotify
) -> None:
    fake.fail_next("/me/player/pause", 403, reason="PREMIUM_REQUIRED")
    with pytest.raises(ExternalServiceError) as info:
        await client.pause(creds)
    assert info.value.message == "Spotify Premium is required for playback control"


async def test_rate_limit_opens_the_breaker_for_retry_after_then_recovers(
    client: SpotifyClient, fake: FakeSpotify, breakers: BreakerRegistry, clock: FakeClock
) -> None:
    fake.fail_next("/search", 429, retry_after=12)
    with pytest.raises(ExternalServiceError) as info:
        await client.search_albums("glass")
    assert info.value.retry_after_s == 12
    assert "wait" in info.value.message
    assert breakers.get("spotify").state == "open"
    clock.advance(11)
    with pytest.raises(ServiceUnavailable):
        await client.search_albums("glass")
    assert _count(fake, "GET", "/v1/search") == 1
    clock.advance(1)
    assert [a.name for a in await client.search_albums("glass")] == ["Glass Harvest"]
    assert breakers.get("spotify").state == "closed"


async def test_quota_exceeded_is_shown_as_such(client: SpotifyClient, fake: FakeSpotify) -> None:
    fake.fail_next("GET", 429, reason="QUOTA_EXCEEDED", retry_after=60)
    with pytest.raises(ExternalServiceError) as info:
        await client.get_album(_album_id(fake))
    assert "quota" in info.value.message.lower()
    assert "exceeded" in info.value.message.lower()


async def test_server_errors_on_reads_are_retried(
    client: SpotifyClient, fake: FakeSpotify, breakers: BreakerRegistry
) -> None:
    album_id = _album_id(fake)
    fake.fail_next(f"/albums/{album_id}", 503, times=2)
    album = await client.get_album(album_id)
    assert album.spotify_id == album_id
    assert _count(fake, "GET", f"/v1/albums/{album_id}") == 3
    assert breakers.get("spotify").snapshot()["failures"] == 0


async def test_server_errors_after_all_retries_count_against_the_breaker(
    client: SpotifyClient, fake: FakeSpotify, breakers: BreakerRegistry
) -> None:
    album_id = _album_id(fake)
    fake.fail_next(f"/albums/{album_id}", 500, times=6)
    for _ in range(2):
        with pytest.raises(ExternalServiceError, match="trouble"):
            await client.get_album(album_id)
    assert _count(fake, "GET", f"/v1/albums/{album_id}") == 6
    assert breakers.get("spotify").state == "open"


async def test_commands_are_never_retried(
    client: SpotifyClient, creds: SpotifyCredentials, fake: FakeSpotify
) -> None:
    fake.fail_next("POST /me/player/next", 500)
    with pytest.raises(ExternalServiceError):
        await client.next_track(creds)
    assert _count(fake, "POST", "/v1/me/player/next") == 1


async def test_timeouts_on_reads_are_retried_then_reported(
    fake: FakeSpotify, creds: SpotifyCredentials, clock: FakeClock
) -> None:
    fake.timeout_s = 1.0
    fake.fail_next("/me/player/devices", "timeout", times=3)
    breakers = BreakerRegistry(failure_threshold=1, clock=clock.monotonic)
    async with fake_http_client(create_fake_spotify_app(fake), BASE, timeout=0.05) as http:
        client = SpotifyClient(
            http,
            api_url=f"{BASE}/v1",
            accounts_url=BASE,
            client_id="a",
            client_secret="b",
            token_store=InMemoryTokenStore(),
            breakers=breakers,
            now=clock.now,
        )
        with pytest.raises(ExternalServiceError, match="did not answer in time"):
            await client.devices(creds)
    assert _count(fake, "GET", "/v1/me/player/devices") == 3
    assert breakers.get("spotify").state == "open"


async def test_metrics_record_each_call_by_endpoint_template(
    client: SpotifyClient, fake: FakeSpotify, registry: CollectorRegistry
) -> None:
    album_id = _album_id(fake)
    fake.fail_next(f"/albums/{album_id}", 502)
    await client.get_album(album_id)
    labels = {"provider": "spotify", "endpoint": "GET /albums/{id}"}
    ok = registry.get_sample_value(
        "premiere_ecoute_external_api_calls_total", {**labels, "status": "200"}
    )
    failed = registry.get_sample_value(
        "premiere_ecoute_external_api_calls_total", {**labels, "status": "502"}
    )
    assert (ok, failed) == (1.0, 1.0)
