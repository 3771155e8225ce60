"""Contract fixtures: a Prism mock of Spotify's published OpenAPI, and the fake, side by side.

Prism is started once per session from ``<repo>/../shared/contracts/prism-mock``; the tests
skip with a reason when that folder, npm/npx or Prism itself is unavailable, so a fresh clone
still passes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest

from premiere_ecoute.apis.spotify import InMemoryTokenStore, SpotifyClient, SpotifyCredentials
from premiere_ecoute.apis.spotify.fake import FakeSpotify, create_fake_spotify_app
from premiere_ecoute.apis.spotify.fake.testing import ASGITransportWithTimeouts
from premiere_ecoute.core.resilience import BreakerRegistry
from tests.contract.prism import app_token_endpoint, prism

ACCOUNTS = "http://accounts.contract.test"


@dataclass(frozen=True)
class Backend:
    name: str
    client: SpotifyClient
    creds: SpotifyCredentials
    album_id: str
    playlist_id: str
    query: str
    context_uri: str
    responses: list[httpx.Response]


@pytest.fixture(scope="session")
def prism_url() -> Iterator[str]:
    with prism("spotify", "/me") as url:
        yield url


def _client(http: httpx.AsyncClient, api_url: str) -> SpotifyClient:
    return SpotifyClient(
        http,
        api_url=api_url,
        accounts_url=ACCOUNTS,
        client_id="contract-client",
        client_secret="contract-secret",
        token_store=InMemoryTokenStore(),
        breakers=BreakerRegistry(),
    )


@pytest.fixture
async def prism_backend(prism_url: str) -> AsyncIterator[Backend]:
    responses: list[httpx.Response] = []

    async def keep(response: httpx.Response) -> None:
        if not str(response.request.url).startswith(ACCOUNTS):
            responses.append(response)

    async with httpx.AsyncClient(
        mounts={ACCOUNTS: app_token_endpoint("Bearer")},
        event_hooks={"response": [keep]},
        timeout=10,
    ) as http:
        yield Backend(
            name="prism",
            client=_client(http, prism_url),
            creds=SpotifyCredentials(1, "contract-user-token", None, None),
            album_id="4aawyAB9vmqN3uQ7FjRGTy",
            playlist_id="3cEYpjA9oz9GiPac4AsH4n",
            query="harbour",
            context_uri="spotify:album:4aawyAB9vmqN3uQ7FjRGTy",
            responses=responses,
        )


@pytest.fixture
async def fake_backend() -> AsyncIterator[Backend]:
    fake = FakeSpotify()
    album = next(iter(fake.catalogue.albums.values()))
    responses: list[httpx.Response] = []

    async def keep(response: httpx.Response) -> None:
        responses.append(response)

    async with httpx.AsyncClient(
        transport=ASGITransportWithTimeouts(create_fake_spotify_app(fake)),
        event_hooks={"response": [keep]},
    ) as http:
        yield Backend(
            name="fake",
            client=_client_fake(http),
            creds=SpotifyCredentials(1, "fake-spotify-contract", "fake-spotify-contract", None),
            album_id=album.id,
            playlist_id=next(iter(fake.catalogue.playlists)),
            query="harbour",
            context_uri=album.uri,
            responses=responses,
        )


def _client_fake(http: httpx.AsyncClient) -> SpotifyClient:
    return SpotifyClient(
        http,
        api_url="http://fake/v1",
        accounts_url="http://fake",
        client_id="contract-client",
        client_secret="contract-secret",
        token_store=InMemoryTokenStore(),
        breakers=BreakerRegistry(),
    )


@pytest.fixture(params=["fake", "prism"])
def backend(request: pytest.FixtureRequest) -> Backend:
    fixture = "fake_backend" if request.param == "fake" else "prism_backend"
    result: Backend = request.getfixturevalue(fixture)
    return result
