"""Every Helix call of the client, against Twitch's published contract (Prism) and our fake.

Prism validates each request against the OpenAPI description (a broken request gets a 4xx) and
answers with the documented examples, which our parser must understand.
"""

from __future__ import annotations

import pytest

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
