"""Fixtures for the Twitch client tests: the fake Twitch over an in-process ASGI transport, a
fake clock that only moves when someone sleeps (each delay noted in ``sleeps``) or a test says
so, and a tiny receiving app that checks EventSub signatures like production does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import stamina
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from premiere_ecoute.apis.twitch.client import TwitchClient
from premiere_ecoute.apis.twitch.eventsub import messages
from premiere_ecoute.apis.twitch.eventsub.parser import parse_webhook, verify_webhook
from premiere_ecoute.apis.twitch.fake import FakeTwitch, create_fake_twitch_app
from premiere_ecoute.core.clock import FakeClock
from premiere_ecoute.core.resilience.breaker import BreakerRegistry
from tests.support.clock import clock_at_epoch, epoch_seconds, recorded_sleep

WEBHOOK_SECRET = "receiver-secret-0123456789"
RECEIVER = "http://app.test"
FAKE = "http://twitch.test"


@dataclass
class Receiver:
    """The app's side of the webhook, reduced to what EventSub requires of it."""

    clock: FakeClock
    secret: str = WEBHOOK_SECRET
    echo_challenge: bool = True
    received: list[messages.ParsedMessage] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        try:
            message = verify_webhook(dict(request.headers), body, self.secret, self.clock.now())
        except messages.WebhookRejected as exc:
            self.rejected.append(exc.status_code)
            return Response(status_code=exc.status_code)
        parsed = parse_webhook(message)
        self.received.append(parsed)
        if isinstance(parsed, messages.Verification):
            text = parsed.challenge if self.echo_challenge else "not-the-challenge"
            return PlainTextResponse(text)
        return Response(status_code=204)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/webhooks/twitch", self.handle, methods=["POST"])])

    def of_type(self, kind: type) -> list[messages.ParsedMessage]:
        return [m for m in self.received if isinstance(m, kind)]


@pytest.fixture
def clock() -> FakeClock:
    return clock_at_epoch(1_800_000_000)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def no_retry_waits() -> Iterator[None]:
    with stamina.set_testing(True, attempts=3):
        yield


@pytest.fixture
def receiver(clock: FakeClock) -> Receiver:
    return Receiver(clock)


@pytest.fixture
async def fake(clock: FakeClock, receiver: Receiver) -> AsyncIterator[FakeTwitch]:
    delivery_http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=receiver.app()), base_url=RECEIVER
    )
    state = FakeTwitch(
        client_id="cid",
        client_secret="csecret",
        clock=epoch_seconds(clock),
        delivery_http=delivery_http,
    )
    yield state
    await state.aclose()
    await delivery_http.aclose()


@pytest.fixture
async def http(fake: FakeTwitch) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_fake_twitch_app(fake))
    async with httpx.AsyncClient(transport=transport, base_url=FAKE) as client:
        yield client


@pytest.fixture
def breakers(clock: FakeClock) -> BreakerRegistry:
    return BreakerRegistry(failure_threshold=3, recovery_s=30.0, clock=clock.monotonic)


@pytest.fixture
def client(
    http: httpx.AsyncClient, clock: FakeClock, breakers: BreakerRegistry, no_retry_waits: None
) -> TwitchClient:
    return TwitchClient(
        http,
        api_url=f"{FAKE}/helix",
        auth_url=f"{FAKE}/oauth2",
        client_id="cid",
        client_secret="csecret",
        breakers=breakers,
        clock=epoch_seconds(clock),
        sleep=recorded_sleep(clock),
    )
