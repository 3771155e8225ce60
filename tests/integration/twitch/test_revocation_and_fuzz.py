"""Revocations (mark, tell the streamer, renew while active) and malformed signed bodies."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from premiere_ecoute.accounts.queries import user_by_twitch_id
from premiere_ecoute.apis.twitch.eventsub import envelope
from premiere_ecoute.core.errors import ExternalServiceError
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.inbound import SubscriptionRevoked
from tests.support.runtime import ingest_once
from tests.support.twitch_world import (
    STREAMER_TWITCH_ID,
    post,
    register,
    session_row,
    signed,
    start_session,
    subscription,
)


def _revocation(sub_id: str, at: Any, type_: str = "channel.chat.message") -> Any:
    body = envelope.revocation_body(subscription(type_, sub_id, status="authorization_revoked"))
    return signed(body, at=at, message_type="revocation", subscription_type=type_)


async def test_a_revoked_subscription_of_an_active_session_is_renewed_and_the_streamer_told(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any, memory_ports: Any
) -> None:
    user_id = await register(container, "streamer", STREAMER_TWITCH_ID)
    session_id = await start_session(container, user_id)
    (old,) = (await session_row(container, session_id)).subscriptions

    r = await post(app_client, _revocation(old, fake_clock.now()))
    res = await ingest_once(container)

    assert r.status_code == 204 and [x.subscription_id for x in res.revoked] == [old]
    row = await session_row(container, session_id)
    assert old not in row.subscriptions and len(row.subscriptions) == 1
    assert row.subscriptions[0] in memory_ports.eventsub.active
    assert "revoked" in row.notice and "renewed" in row.notice
    assert memory_ports.eventsub.names().count("subscribe") == 2


async def test_when_renewal_fails_the_streamer_is_told_to_reconnect(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any, memory_ports: Any
) -> None:
    user_id = await register(container, "streamer", STREAMER_TWITCH_ID)
    session_id = await start_session(container, user_id)
    (old,) = (await session_row(container, session_id)).subscriptions
    memory_ports.eventsub.fail_on["subscribe"] = ExternalServiceError("token revoked")
    revocation = SubscriptionRevoked(
        old, "channel.chat.message", "authorization_revoked", STREAMER_TWITCH_ID
    )

    renewed = await container.subscriptions.renew_revoked(revocation, attempts=1, delay_s=0)

    row = await session_row(container, session_id)
    assert renewed is False
    assert "could not be renewed: token revoked" in row.notice and "Reconnect" in row.notice


async def test_a_revocation_after_the_session_stopped_changes_nothing(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any, memory_ports: Any
) -> None:
    user_id = await register(container, "streamer", STREAMER_TWITCH_ID)
    session_id = await start_session(container, user_id)
    (old,) = (await session_row(container, session_id)).subscriptions
    await container.bus.execute(cmd.StopSession(session_id=session_id, actor_id=user_id))

    r = await post(app_client, _revocation(old, fake_clock.now()))
    await ingest_once(container)

    assert r.status_code == 204
    assert memory_ports.eventsub.names().count("subscribe") == 1
    assert (await session_row(container, session_id)).status == "stopped"


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
