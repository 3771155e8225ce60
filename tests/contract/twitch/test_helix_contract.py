"""Every Helix call of the client, against Twitch's published contract (Prism) and our fake.

Prism validates each request against the OpenAPI description (a broken request gets a 4xx) and
answers with the documented examples, which our parser must understand.
"""

from __future__ import annotations

import pytest

from premiere_ecoute.apis.twitch.client import HelixRefused
from premiere_ecoute.apis.twitch.models import MARKER_SCOPE, TWITCH_SCOPES
from premiere_ecoute.core.errors import ExternalServiceError

from .conftest import Backend

pytestmark = pytest.mark.contract

WEBHOOK = {
    "method": "webhook",
    "callback": "https://premiere.example/webhooks/twitch",
    "secret": "contract-secret-0123456789",
}


def assert_accepted(backend: Backend) -> None:
    helix = [r for r in backend.responses if "/oauth2/" not in r.request.url.path]
    assert helix, "no Helix call was made"
    refused = [
        (r.request.method, r.request.url.path, r.status_code) for r in helix if r.status_code >= 400
    ]
    assert refused == []


async def test_get_current_user(backend: Backend) -> None:
    me = await backend.client.get_current_user(backend.user_token)
    assert me.id
    assert_accepted(backend)


async def test_send_chat_message(backend: Backend) -> None:
    sent = await backend.client.send_chat_message(
        backend.broadcaster_id, backend.broadcaster_id, "Now playing: Intro", backend.user_token
    )
    assert sent.is_sent and sent.message_id
    assert_accepted(backend)


async def test_poll_calls(backend: Backend) -> None:
    client = backend.client
    poll = await client.create_poll(
        backend.broadcaster_id, "Rate: Intro", ["1", "2", "3"], 60, backend.user_token
    )
    assert poll.id and len(poll.choices) >= 2
    fetched = await client.get_poll(backend.broadcaster_id, poll.id, backend.user_token)
    assert fetched is not None and fetched.choices
    ended = await client.end_poll(backend.broadcaster_id, poll.id, backend.user_token)
    assert ended.status in {"TERMINATED", "ARCHIVED", "COMPLETED"}
    assert_accepted(backend)


async def test_eventsub_subscription_calls(backend: Backend) -> None:
    client = backend.client
    condition = {"broadcaster_user_id": backend.broadcaster_id, "user_id": backend.broadcaster_id}
    sub = await client.create_eventsub_subscription("channel.chat.message", "1", condition, WEBHOOK)
    assert sub.id and sub.type
    listed = await client.list_eventsub_subscriptions(max_pages=2)
    assert listed and all(s.id and s.type for s in listed)
    await client.delete_eventsub_subscription(sub.id)
    assert_accepted(backend)


async def test_followed_channels(backend: Backend) -> None:
    followed = await backend.client.get_followed_channels(
        backend.broadcaster_id, backend.user_token, page_size=20, max_pages=2
    )
    assert all(f.broadcaster_id and f.broadcaster_login for f in followed)
    assert_accepted(backend)


async def test_create_stream_marker(backend: Backend) -> None:
    marker = await backend.client.create_stream_marker(
        backend.broadcaster_id, "3. Paper Lanterns", backend.user_token
    )
    assert marker.id and marker.description and marker.position_seconds >= 0
    assert_accepted(backend)


@pytest.mark.parametrize("refusal, status", [("offline", 404), ("scope", 401), ("rights", 403)])
async def test_stream_marker_refusals(backend: Backend, refusal: str, status: int) -> None:
    """Twitch's documented refusals: not live (404), no channel:manage:broadcast (401), not
    the broadcaster nor an editor (403). Each one reaches the caller with its status."""
    user_id = backend.broadcaster_id
    if backend.fake is None:
        backend.prefer["Prefer"] = f"code={status}"
    elif refusal == "offline":
        backend.fake.go_offline("streamer")
    elif refusal == "scope":
        backend.fake.grant("streamer", [s for s in TWITCH_SCOPES if s != MARKER_SCOPE])
    else:
        user_id = backend.fake.user("partner_dj").id
    with pytest.raises(HelixRefused) as refused:
        await backend.client.create_stream_marker(user_id, "1. Intro", backend.user_token)
    assert refused.value.status == status
    if backend.fake is not None:
        assert backend.fake.markers == []


async def test_stream_marker_rate_limit(backend: Backend) -> None:
    """A 429 is waited out once (until the bucket's reset, a minute away here, so the test
    does not sleep), then reported as the rate limit."""
    if backend.fake is None:
        pytest.skip("the published contract documents no 429 for this operation")
    backend.fake.rate_limit_points = 0
    backend.fake.buckets = {}
    backend.client._transport._sleep = _no_sleep  # type: ignore[method-assign]
    with pytest.raises(ExternalServiceError) as limited:
        await backend.client.create_stream_marker(
            backend.broadcaster_id, "1. Intro", backend.user_token
        )
    assert "rate limit" in limited.value.message
    assert limited.value.retry_after_s is not None
    statuses = [r.status_code for r in backend.responses if "/streams/markers" in str(r.url)]
    assert statuses == [429, 429]


async def _no_sleep(seconds: float) -> None:
    return None
