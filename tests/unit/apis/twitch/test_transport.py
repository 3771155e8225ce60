"""The policy around every Helix call: rate limit, retries, breaker, token refresh, metrics."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from prometheus_client import CollectorRegistry

from premiere_ecoute.accounts.models import UserToken
from premiere_ecoute.apis.twitch.client import TwitchClient
from premiere_ecoute.apis.twitch.fake import FakeTwitch
from premiere_ecoute.apis.twitch.models import TokenSet
from premiere_ecoute.apis.twitch.transport import TwitchTokenStore
from premiere_ecoute.core.clock import FakeClock
from premiere_ecoute.core.errors import ExternalServiceError, ServiceUnavailable
from premiere_ecoute.core.resilience.breaker import BreakerRegistry
from premiere_ecoute.core.resilience.metrics import ApiCallMetrics
from tests.support.clock import epoch_seconds, recorded_sleep

from .conftest import FAKE

USERS = {"data": [{"id": "1", "login": "someone", "display_name": "Someone"}]}
TOKEN = {"access_token": "app", "expires_in": 3600, "token_type": "bearer"}

Handler = Callable[[httpx.Request], httpx.Response]


def scripted(helix: list[httpx.Response | Exception]) -> tuple[Handler, list[httpx.Request]]:
    """A transport that answers Helix calls from ``helix`` in order, and tokens always."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json=TOKEN)
        seen.append(request)
        answer = helix.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handle, seen


def make_client(
    clock: FakeClock,
    breakers: BreakerRegistry,
    *,
    handler: Handler | None = None,
    http: httpx.AsyncClient | None = None,
    base: str = "http://twitch.test",
    metrics: ApiCallMetrics | None = None,
    token_store: TwitchTokenStore | None = None,
    sleeps: list[float] | None = None,
) -> TwitchClient:
    return TwitchClient(
        http or httpx.AsyncClient(transport=httpx.MockTransport(handler or scripted([])[0])),
        api_url=f"{base}/helix",
        auth_url=f"{base}/oauth2",
        client_id="cid",
        client_secret="csecret",
        breakers=breakers,
        metrics=metrics,
        clock=epoch_seconds(clock),
        sleep=recorded_sleep(clock, sleeps),
        token_store=token_store,
    )


async def test_waits_for_the_reset_when_no_points_remain(
    clock: FakeClock, sleeps: list[float], breakers: BreakerRegistry, no_retry_waits: None
) -> None:
    reset = int(clock.now().timestamp()) + 7
    empty = {"Ratelimit-Remaining": "0", "Ratelimit-Reset": str(reset)}
    handler, seen = scripted([httpx.Response(200, json=USERS, headers=empty)] * 2)
    client = make_client(clock, breakers, handler=handler, sleeps=sleeps)
    await client.get_current_user("user-token")
    assert sleeps == []
    await client.get_current_user("user-token")
    assert sleeps == [pytest.approx(7.0)]
    assert len(seen) == 2


async def test_one_tokens_empty_bucket_does_not_hold_up_another_token(
    clock: FakeClock, sleeps: list[float], breakers: BreakerRegistry, no_retry_waits: None
) -> None:
    reset = int(clock.now().timestamp()) + 7
    empty = {"Ratelimit-Remaining": "0", "Ratelimit-Reset": str(reset)}
    handler, seen = scripted([httpx.Response(200, json=USERS, headers=empty)] * 3)
    client = make_client(clock, breakers, handler=handler, sleeps=sleeps)
    await client.get_current_user("user-token-a")
    await client.get_current_user("user-token-b")  # its own points
    assert sleeps == []
    await client.get_current_user("user-token-a")  # a's bucket is empty
    assert sleeps == [pytest.approx(7.0)] and len(seen) == 3


async def test_a_429_is_tried_again_after_the_reset(
    clock: FakeClock, sleeps: list[float], breakers: BreakerRegistry, no_retry_waits: None
) -> None:
    reset = str(int(clock.now().timestamp()) + 3)
    limited = httpx.Response(
        429, json={"message": "Too Many Requests"}, headers={"Ratelimit-Reset": reset}
    )
    handler, seen = scripted([limited, httpx.Response(200, json=USERS)])
    user = await make_client(clock, breakers, handler=handler, sleeps=sleeps).get_current_user(
        "token"
    )
    assert user.login == "someone"
    assert sleeps == [pytest.approx(3.0)] and len(seen) == 2


async def test_idempotent_calls_are_retried_on_server_errors(
    clock: FakeClock, breakers: BreakerRegistry, no_retry_waits: None
) -> None:
    handler, seen = scripted(
        [httpx.Response(503), httpx.ReadTimeout("slow"), httpx.Response(200, json=USERS)]
    )
    user = await make_client(clock, breakers, handler=handler).get_current_user("token")
    assert user.id == "1" and len(seen) == 3


async def test_non_idempotent_calls_are_not_retried(
    clock: FakeClock, breakers: BreakerRegistry, no_retry_waits: None
) -> None:
    handler, seen = scripted([httpx.Response(500), httpx.Response(200)])
    client = make_client(clock, breakers, handler=handler)
    with pytest.raises(ExternalServiceError, match=r"Twitch failed \(500\)"):
        await client.create_poll("1", "Rate: X", ["a", "b"], 60, "user-token")
    assert len(seen) == 1


async def test_breaker_opens_after_repeated_failures_and_stops_calling(
    clock: FakeClock, breakers: BreakerRegistry, no_retry_waits: None
) -> None:
    handler, seen = scripted([httpx.Response(502)] * 3)
    client = make_client(clock, breakers, handler=handler)
    with pytest.raises(ExternalServiceError):
        await client.get_current_user("user-token")  # three attempts, three failures: open
    with pytest.raises(ServiceUnavailable):
        await client.get_current_user("user-token")
    assert len(seen) == 3
    assert breakers.get("twitch").state == "open"


async def test_refusals_carry_twitchs_message_and_do_not_trip_the_breaker(
    clock: FakeClock, breakers: BreakerRegistry, no_retry_waits: None
) -> None:
    bad = httpx.Response(400, json={"error": "Bad Request", "status": 400, "message": "nope"})
    handler, _ = scripted([bad] * 5)
    client = make_client(clock, breakers, handler=handler)
    for _ in range(5):
        with pytest.raises(ExternalServiceError, match="Twitch refused the chat message: nope"):
            await client.send_chat_message("1", "2", "hi", "token")
    assert breakers.get("twitch").state == "closed"


async def test_each_call_is_measured_with_its_endpoint_and_status(
    clock: FakeClock, breakers: BreakerRegistry, no_retry_waits: None
) -> None:
    registry = CollectorRegistry()
    handler, _ = scripted([httpx.Response(200, json=USERS)])
    client = make_client(clock, breakers, handler=handler, metrics=ApiCallMetrics(registry))
    await client.get_current_user("token")
    labels = {"provider": "twitch", "endpoint": "GET /users", "status": "200"}
    assert registry.get_sample_value("premiere_ecoute_external_api_calls_total", labels) == 1.0


@dataclass
class MemoryTokenStore:
    saved: dict[str, TokenSet] = field(default_factory=dict)
    reconnect: list[str] = field(default_factory=list)

    async def save(self, user_id: str, tokens: TokenSet) -> None:
        self.saved[user_id] = tokens

    async def needs_reconnect(
        self, user_id: str, reason: str, refresh_token: str | None = None
    ) -> None:
        self.reconnect.append(user_id)


async def test_an_expired_user_token_is_refreshed_once_and_saved(
    http: httpx.AsyncClient,
    fake: FakeTwitch,
    clock: FakeClock,
    breakers: BreakerRegistry,
    no_retry_waits: None,
) -> None:
    store = MemoryTokenStore()
    client = make_client(clock, breakers, http=http, base=FAKE, token_store=store)
    streamer = fake.user("streamer")
    fake.expire_token("fake-twitch-streamer")
    token = UserToken(streamer.id, "fake-twitch-streamer", "fake-refresh-streamer.x")

    user = await client.get_current_user(token)

    assert user.login == "streamer"
    assert store.saved[streamer.id].access_token == "fake-twitch-streamer.1"
    assert store.reconnect == []


async def test_a_refused_refresh_marks_the_connection_and_does_not_loop(
    http: httpx.AsyncClient,
    fake: FakeTwitch,
    clock: FakeClock,
    breakers: BreakerRegistry,
    no_retry_waits: None,
) -> None:
    store = MemoryTokenStore()
    client = make_client(clock, breakers, http=http, base=FAKE, token_store=store)
    streamer = fake.user("streamer")
    fake.expire_token("fake-twitch-streamer")
    fake.expire_token("fake-refresh-streamer.x")
    token = UserToken(streamer.id, "fake-twitch-streamer", "fake-refresh-streamer.x")

    with pytest.raises(ExternalServiceError, match="reconnect your Twitch account"):
        await client.get_current_user(token)
    assert store.reconnect == [streamer.id] and store.saved == {}


async def test_a_bare_user_token_that_is_refused_is_reported(
    client: TwitchClient, fake: FakeTwitch
) -> None:
    fake.expire_token("fake-twitch-streamer")
    with pytest.raises(ExternalServiceError, match="Twitch authorization failed"):
        await client.get_current_user("fake-twitch-streamer")


async def test_poll_request_body_uses_helix_field_names(
    clock: FakeClock, breakers: BreakerRegistry, no_retry_waits: None
) -> None:
    handler, seen = scripted([httpx.Response(400, json={"message": "stop"})])
    with pytest.raises(ExternalServiceError):
        await make_client(clock, breakers, handler=handler).create_poll(
            "b1", "Rate: X", ["a", "b"], 30, "tok"
        )
    assert json.loads(seen[0].content) == {
        "broadcaster_id": "b1",
        "title": "Rate: X",
        "choices": [{"title": "a"}, {"title": "b"}],
        "duration": 30,
    }
    assert seen[0].headers["Client-Id"] == "cid"
    assert seen[0].headers["Authorization"] == "Bearer tok"
