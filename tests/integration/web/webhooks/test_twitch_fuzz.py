"""Malformed signed bodies posted to the webhook never cause a server error."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from premiere_ecoute.accounts.queries import user_by_twitch_id
from premiere_ecoute.apis.twitch.eventsub import envelope
from tests.support.runtime import ingest_once
from tests.support.twitch_world import (
    STREAMER_TWITCH_ID,
    post,
    register,
    signed,
    start_session,
    subscription,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
CHAT_KEYS = [
    "broadcaster_user_id",
    "broadcaster_user_login",
    "chatter_user_id",
    "chatter_user_login",
    "message_id",
    "message",
    "choices",
    "id",
    "status",
]
event_like = st.dictionaries(st.sampled_from(CHAT_KEYS), json_values | st.text(max_size=60))


def _chat_with(key: str, value: Any) -> bytes:
    event = envelope.chat_message_event(
        STREAMER_TWITCH_ID, "streamer", "4242", "viewer", "7", "m-1"
    )
    event[key] = value
    return envelope.notification_body(subscription("channel.chat.message"), event)


mutated_chats = st.builds(
    _chat_with,
    st.sampled_from(CHAT_KEYS),
    json_values | st.text(min_size=41, max_size=80) | st.just({"text": "8"}),
)
bodies = st.one_of(
    mutated_chats,
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {"subscription": json_values | st.just(subscription("x")), "event": event_like}
    ).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"challenge": json_values}).map(lambda v: json.dumps(v).encode()),
)
types = st.sampled_from(
    [
        "channel.chat.message",
        "channel.poll.progress",
        "channel.poll.end",
        "channel.follow",
        "x" * 150,
    ]
)
message_types = st.sampled_from(
    ["notification", "revocation", "webhook_callback_verification", "session_keepalive"]
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies, subscription_type=types, message_type=message_types)
async def test_malformed_signed_bodies_never_cause_a_server_error(
    container: Any,
    app_client: httpx.AsyncClient,
    fake_clock: Any,
    body: bytes,
    subscription_type: str,
    message_type: str,
) -> None:
    async with container.db.session() as s:
        streamer = await user_by_twitch_id(s, STREAMER_TWITCH_ID)
    if streamer is None:  # the fixture is shared by every example: one live session for all
        await start_session(container, await register(container, "streamer", STREAMER_TWITCH_ID))
    d = signed(
        body, at=fake_clock.now(), message_type=message_type, subscription_type=subscription_type
    )

    r = await post(app_client, d)
    await ingest_once(container)

    assert r.status_code in (200, 204, 400), r.text
