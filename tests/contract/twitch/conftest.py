"""Contract fixtures: a Prism mock of Twitch's published Helix OpenAPI, and the fake, side by side.

Prism is started once per session from ``<repo>/../shared/contracts/prism-mock``; the tests
skip with a reason when that folder, npm or Prism itself is unavailable, so a fresh clone
still passes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from premiere_ecoute.apis.twitch.client import TwitchClient
from premiere_ecoute.apis.twitch.fake import FakeTwitch, create_fake_twitch_app
from premiere_ecoute.core.resilience.breaker import BreakerRegistry
from tests.contract.prism import app_token_endpoint, prism

AUTH = "http://id.contract.test/oauth2"


@dataclass(frozen=True)
class Backend:
    name: str
    client: TwitchClient
    broadcaster_id: str
    user_token: str
    responses: list[httpx.Response]
    fake: FakeTwitch | None = None  # the fake itself, to steer it (None for Prism)
    # Headers added to every request to Prism, e.g. {"Prefer": "code=404"} for a refusal.
    prefer: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="session")
def prism_url() -> Iterator[str]:
    with prism("twitch", "/users") as url:
        yield url


def _client(http: httpx.AsyncClient, api_url: str, auth_url: str) -> TwitchClient:
    return TwitchClient(
        http,
        api_url=api_url,
        auth_url=auth_url,
        client_id="contract-client",
        client_secret="contract-secret",
        breakers=BreakerRegistry(),
    )


@pytest.fixture
async def prism_backend(prism_url: str) -> AsyncIterator[Backend]:
    responses: list[httpx.Response] = []
    prefer: dict[str, str] = {}

    async def keep(response: httpx.Response) -> None:
        responses.append(response)

    async def add_prefer(request: httpx.Request) -> None:
        request.headers.update(prefer)

    async with httpx.AsyncClient(
        mounts={"http://id.contract.test": app_token_endpoint("bearer")},
        event_hooks={"request": [add_prefer], "response": [keep]},
        timeout=10,
    ) as http:
        yield Backend(
            "prism",
            _client(http, prism_url, AUTH),
            "141981764",
            "contract-user",
            responses,
            prefer=prefer,
        )


@pytest.fixture
async def fake_backend() -> AsyncIterator[Backend]:
    # Webhook verification goes nowhere: only the Helix side is under contract here.
    nowhere = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(404)))
    fake = FakeTwitch(delivery_http=nowhere)
    responses: list[httpx.Response] = []

    async def keep(response: httpx.Response) -> None:
        responses.append(response)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_fake_twitch_app(fake)),
        event_hooks={"response": [keep]},
    ) as http:
        client = _client(http, "http://fake/helix", "http://fake/oauth2")
        broadcaster = fake.user("streamer")
        yield Backend("fake", client, broadcaster.id, "fake-twitch-streamer", responses, fake=fake)
    await fake.aclose()
    await nowhere.aclose()


@pytest.fixture(params=["fake", "prism"])
def backend(request: pytest.FixtureRequest) -> Backend:
    fixture = "fake_backend" if request.param == "fake" else "prism_backend"
    result: Backend = request.getfixturevalue(fixture)
    return result
