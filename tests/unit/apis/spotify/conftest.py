from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import stamina
from prometheus_client import CollectorRegistry

from premiere_ecoute.apis.spotify import InMemoryTokenStore, SpotifyClient, SpotifyCredentials
from premiere_ecoute.apis.spotify.fake import FakeSpotify, create_fake_spotify_app
from premiere_ecoute.apis.spotify.fake.testing import fake_http_client
from premiere_ecoute.core.clock import FakeClock
from premiere_ecoute.core.resilience import ApiCallMetrics, BreakerRegistry

BASE = "http://fake-spotify"


@pytest.fixture(autouse=True)
def _fast_retries() -> Iterator[None]:
    with stamina.set_testing(True, attempts=3):
        yield


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeSpotify:
    return FakeSpotify(clock=clock.monotonic, album_tracks_page=4, timeout_s=1.0)


@pytest.fixture
async def http(fake: FakeSpotify) -> AsyncIterator[httpx.AsyncClient]:
    async with fake_http_client(create_fake_spotify_app(fake), BASE) as client:
        yield client


@pytest.fixture
def breakers(clock: FakeClock) -> BreakerRegistry:
    return BreakerRegistry(failure_threshold=2, recovery_s=30, clock=clock.monotonic)


@pytest.fixture
def store() -> InMemoryTokenStore:
    return InMemoryTokenStore()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def client(
    http: httpx.AsyncClient,
    store: InMemoryTokenStore,
    breakers: BreakerRegistry,
    registry: CollectorRegistry,
    clock: FakeClock,
) -> SpotifyClient:
    return SpotifyClient(
        http,
        api_url=f"{BASE}/v1",
        accounts_url=BASE,
        client_id="instance-app",
        client_secret="instance-secret",
        token_store=store,
        breakers=breakers,
        metrics=ApiCallMetrics(registry),
        now=clock.now,
    )


@pytest.fixture
def creds() -> SpotifyCredentials:
    # By the fake's convention a made-up token is both the access and the refresh token.
    return SpotifyCredentials(
        user_id=7,
        access_token="fake-spotify-alice",
        refresh_token="fake-spotify-alice",
        expires_at=None,
    )
