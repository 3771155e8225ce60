"""The fake Twitch behaves like Twitch where the app can tell: handshake, signed deliveries,
polls, chat page, WebSocket sessions."""

from __future__ import annotations

import warnings

import httpx
import pytest

with warnings.catch_warnings():
    # Starlette nudges towards httpx2, which this project keeps out (respx cannot intercept it);
    # its TestClient is still the simplest way to speak WebSocket to an ASGI app in-process.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from premiere_ecoute.apis.twitch.client import TwitchClient
from premiere_ecoute.apis.twitch.eventsub import messages
from premiere_ecoute.apis.twitch.fake import FakeTwitch, create_fake_twitch_app, fake_user_id
from premiere_ecoute.sessions.inbound import ChatLine, PollTally, SubscriptionRevoked

from .conftest import RECEIVER, WEBHOOK_SECRET, Receiver

WEBHOOK = {"method": "webhook", "callback": f"{RECEIVER}/webhooks/twitch", "secret": WEBHOOK_SECRET}


async def subscribe(client: TwitchClient, fake: FakeTwitch, type_: str, login: str) -> str:
    condition = {"broadcaster_user_id": fake.user(login).id}
    if type_ == "channel.chat.message":
        condition["user_id"] = condition["broadcaster_user_id"]
    sub = await client.create_eventsub_subscription(type_, "1", condition, WEBHOOK)
    await fake.idle()
    return sub.id


def test_fake_user_ids_are_stable_nine_digit_numbers() -> None:
    assert fake_user_id("Streamer") == fake_user_id("streamer")
    assert fake_user_id("streamer") != fake_user_id("streamer2")
    assert len(fake_user_id("streamer")) == 9 and fake_user_id("streamer").isdigit()


async def test_webhook_is_enabled_when_the_callback_echoes_the_challenge(
    client: TwitchClient, fake: FakeTwitch, receiver: Receiver
) -> None:
    sub_id = await subscribe(client, fake, "channel.chat.message", "streamer")
    assert fake.subscriptions[sub_id].status == "enabled"
    assert len(receiver.of_type(messages.Verification)) == 1
    assert receiver.rejected == []


async def test_webhook_fails_verification_when_the_callback_answers_something_else(
    client: TwitchClient, fake: FakeTwitch, receiver: Receiver
) -> None:
    receiver.echo_challenge = False
    sub_id = await subscribe(client, fake, "channel.chat.message", "streamer")
    assert fake.subscriptions[sub_id].status == "webhook_callback_verification_failed"


async def test_webhook_fails_verification_when_the_secret_differs(
    client: TwitchClient, fake: FakeTwitch, receiver: Receiver
) -> None:
    receiver.secret = "another-secret-entirely"
    sub_id = await subscribe(client, fake, "channel.chat.message", "streamer")
    assert fake.subscriptions[sub_id].status == "webhook_callback_verification_failed"
    assert receiver.rejected == [403]


async def test_chat_page_message_is_delivered_signed_to_the_channels_subscription(
    client: TwitchClient, fake: FakeTwitch, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    await subscribe(client, fake, "channel.chat.message", "streamer")
    answer = await http.post("/chat/streamer/send", data={"text": "!vote 8", "as": "viewer_zoe"})
    assert answer.json() == {"chatter": "viewer_zoe", "delivered": 1}
    [chat] = receiver.of_type(ChatLine)
    assert isinstance(chat, ChatLine)
    assert (chat.text, chat.chatter_login) == ("!vote 8", "viewer_zoe")
    assert chat.broadcaster_id == fake_user_id("streamer")
    assert chat.chatter_id == fake_user_id("viewer_zoe")
    assert receiver.rejected == []


async def test_chat_of_another_channel_is_not_delivered(
    client: TwitchClient, fake: FakeTwitch, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    await subscribe(client, fake, "channel.chat.message", "streamer")
    answer = await http.post("/chat/partner_dj/send", data={"text": "7"})
    assert answer.json()["delivered"] == 0
    assert receiver.of_type(ChatLine) == []


async def test_burst_sends_random_votes_from_distinct_viewers(
    client: TwitchClient, fake: FakeTwitch, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    await subscribe(client, fake, "channel.chat.message", "streamer")
    answer = await http.post("/chat/streamer/burst", data={"n": "25", "values": "1 2 3"})
    assert answer.json() == {"sent": 25, "delivered": 25}
    chats = [m for m in receiver.of_type(ChatLine)]
    assert len({m.chatter_id for m in chats if isinstance(m, ChatLine)}) == 25
    assert {m.text for m in chats if isinstance(m, ChatLine)} <= {"1", "2", "3"}


async def test_chat_page_shows_the_messages_of_the_channel(
    client: TwitchClient, fake: FakeTwitch, http: httpx.AsyncClient
) -> None:
    streamer = fake.user("streamer")
    await client.send_chat_message(
        streamer.id, streamer.id, "Now playing: Intro", "fake-twitch-streamer"
    )
    page = await http.get("/chat/streamer")
    assert page.status_code == 200 and "Now playing: Intro" in page.text


async def test_poll_simulation_delivers_progress_then_end_with_the_ballots(
    client: TwitchClient, fake: FakeTwitch, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    for kind in ("begin", "progress", "end"):
        await subscribe(client, fake, f"channel.poll.{kind}", "streamer")
    streamer_id = fake.user("streamer").id
    poll = await client.create_poll(
        streamer_id, "Rate: Intro", ["1", "2", "3"], 60, "fake-twitch-streamer"
    )
    await fake.idle()
    simulated = (await http.post(f"/polls/{poll.id}/simulate", data={"ballots": "12"})).json()
    assert sum(simulated["votes"].values()) == 12
    await client.end_poll(streamer_id, poll.id, "fake-twitch-streamer")
    await fake.idle()

    updates = [m for m in receiver.of_type(PollTally) if isinstance(m, PollTally)]
    assert [u.final for u in updates] == [False, False, True]
    assert sum(updates[0].counts.values()) == 0
    assert sum(updates[2].counts.values()) == 12
    assert updates[2].poll_id == poll.id


async def test_revocation_is_signed_and_marks_the_subscription(
    client: TwitchClient, fake: FakeTwitch, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    sub_id = await subscribe(client, fake, "channel.chat.message", "streamer")
    await http.post(f"/eventsub/subscriptions/{sub_id}/revoke")
    [revocation] = receiver.of_type(SubscriptionRevoked)
    assert isinstance(revocation, SubscriptionRevoked)
    assert (revocation.subscription_id, revocation.reason) == (sub_id, "authorization_revoked")


async def test_oauth_login_page_lists_demo_users_and_redirects_with_code_and_state(
    client: TwitchClient, http: httpx.AsyncClient
) -> None:
    query = {
        "response_type": "code",
        "client_id": "cid",
        "redirect_uri": "http://app.test/auth/twitch/callback",
        "scope": "user:read:chat",
        "state": "s-123",
    }
    page = await http.get("/oauth2/authorize", params=query)
    assert "partner_dj" in page.text and "viewer_alice" in page.text
    answer = await http.post("/oauth2/authorize", params=query, data={"login": "New_User"})
    assert answer.status_code == 302
    location = httpx.URL(answer.headers["location"])
    assert location.params["state"] == "s-123"

    tokens = await client.oauth.exchange_code(location.params["code"], query["redirect_uri"])
    assert tokens.access_token == "fake-twitch-new_user" and tokens.refresh_token
    user = await client.get_current_user(tokens.access_token)
    assert user.id == fake_user_id("new_user")


def test_websocket_session_receives_welcome_notifications_and_reconnect(fake: FakeTwitch) -> None:
    with TestClient(create_fake_twitch_app(fake)) as web, web.websocket_connect("/ws") as ws:
        welcome = ws.receive_json()
        assert welcome["metadata"]["message_type"] == "session_welcome"
        session = welcome["payload"]["session"]
        assert session["keepalive_timeout_seconds"] == 10

        streamer = fake.user("streamer")
        created = web.post(
            "/helix/eventsub/subscriptions",
            headers={"Authorization": "Bearer fake-twitch-streamer", "Client-Id": "cid"},
            json={
                "type": "channel.chat.message",
                "version": "1",
                "condition": {"broadcaster_user_id": streamer.id, "user_id": streamer.id},
                "transport": {"method": "websocket", "session_id": session["id"]},
            },
        )
        assert created.status_code == 202
        assert created.json()["data"][0]["status"] == "enabled"

        web.post("/chat/streamer/send", data={"text": "9", "as": "viewer_ws"})
        note = ws.receive_json()
        assert note["metadata"]["message_type"] == "notification"
        assert note["metadata"]["subscription_type"] == "channel.chat.message"
        assert note["payload"]["event"]["message"]["text"] == "9"

        web.post(f"/ws/{session['id']}/reconnect")
        reconnect = ws.receive_json()
        assert reconnect["metadata"]["message_type"] == "session_reconnect"
        url = httpx.URL(reconnect["payload"]["session"]["reconnect_url"])
        with web.websocket_connect(f"/ws?{url.query.decode()}") as again:
            assert again.receive_json()["payload"]["session"]["id"] == session["id"]


@pytest.mark.parametrize("login", ["viewer_alice", "nonaffiliate_x"])
async def test_only_affiliates_and_partners_may_create_polls(
    http: httpx.AsyncClient, fake: FakeTwitch, login: str
) -> None:
    answer = await http.post(
        "/helix/polls",
        headers={"Authorization": f"Bearer fake-twitch-{login}", "Client-Id": "cid"},
        json={
            "broadcaster_id": fake.user(login).id,
            "title": "Rate: X",
            "choices": [{"title": "a"}, {"title": "b"}],
            "duration": 30,
        },
    )
    assert answer.status_code == 403
    assert answer.json() == {
        "error": "Forbidden",
        "status": 403,
        "message": "The broadcaster is not a partner or affiliate.",
    }
