"""The Helix client against the fake Twitch: every call, end to end through HTTP."""

from __future__ import annotations

import pytest

from premiere_ecoute.apis.twitch.client import TwitchClient
from premiere_ecoute.apis.twitch.fake import FakeTwitch, fake_user_id
from premiere_ecoute.core.clock import FakeClock
from premiere_ecoute.core.errors import ExternalServiceError

from .conftest import RECEIVER, WEBHOOK_SECRET, Receiver

STREAMER = "fake-twitch-streamer"
WEBHOOK = {"method": "webhook", "callback": f"{RECEIVER}/webhooks/twitch", "secret": WEBHOOK_SECRET}


async def test_get_current_user_is_the_owner_of_the_token(client: TwitchClient) -> None:
    user = await client.get_current_user("fake-twitch-partner_dj")
    assert (user.login, user.id, user.broadcaster_type) == (
        "partner_dj",
        fake_user_id("partner_dj"),
        "partner",
    )
    assert user.can_run_polls


async def test_send_chat_message_lands_in_the_channel(
    client: TwitchClient, fake: FakeTwitch
) -> None:
    streamer = fake.user("streamer")
    sent = await client.send_chat_message(streamer.id, streamer.id, "Now playing: Intro", STREAMER)
    assert sent.is_sent and sent.message_id
    assert [line.text for line in fake.chat[streamer.id]] == ["Now playing: Intro"]


async def test_poll_lifecycle_create_get_end(client: TwitchClient, fake: FakeTwitch) -> None:
    streamer_id = fake.user("streamer").id
    poll = await client.create_poll(streamer_id, "Rate: Intro", ["1", "2", "3"], 60, STREAMER)
    assert poll.is_active and [c.title for c in poll.choices] == ["1", "2", "3"]

    fetched = await client.get_poll(streamer_id, poll.id, STREAMER)
    assert fetched is not None and fetched.id == poll.id and fetched.duration == 60

    ended = await client.end_poll(streamer_id, poll.id, STREAMER)
    assert ended.status == "TERMINATED" and ended.ended_at is not None


async def test_poll_for_a_non_affiliate_is_refused_with_twitchs_message(
    client: TwitchClient, fake: FakeTwitch
) -> None:
    broadcaster = fake.user("nonaffiliate_streamer")
    with pytest.raises(ExternalServiceError) as caught:
        await client.create_poll(
            broadcaster.id, "Rate: Intro", ["yes", "no"], 60, "fake-twitch-nonaffiliate_streamer"
        )
    assert caught.value.service == "twitch"
    assert caught.value.message == (
        "Twitch refused the poll: The broadcaster is not a partner or affiliate."
    )


async def test_webhook_subscription_is_created_listed_and_deleted(
    client: TwitchClient, fake: FakeTwitch, receiver: Receiver
) -> None:
    condition = {"broadcaster_user_id": fake.user("streamer").id}
    sub = await client.create_eventsub_subscription("channel.poll.end", "1", condition, WEBHOOK)
    assert sub.status == "webhook_callback_verification_pending"
    assert sub.transport == {"method": "webhook", "callback": WEBHOOK["callback"]}
    await fake.idle()

    listed = await client.list_eventsub_subscriptions(type="channel.poll.end")
    assert [(s.id, s.status) for s in listed] == [(sub.id, "enabled")]

    assert await client.delete_eventsub_subscription(sub.id) is True
    assert await client.list_eventsub_subscriptions() == []
    assert await client.delete_eventsub_subscription(sub.id) is False


async def test_creating_an_existing_subscription_returns_the_existing_one(
    client: TwitchClient, fake: FakeTwitch
) -> None:
    condition = {"broadcaster_user_id": fake.user("streamer").id}
    first = await client.create_eventsub_subscription("channel.poll.end", "1", condition, WEBHOOK)
    again = await client.create_eventsub_subscription("channel.poll.end", "1", condition, WEBHOOK)
    assert again.id == first.id
    assert len(fake.subscriptions) == 1


async def test_listing_subscriptions_follows_every_page(
    client: TwitchClient, fake: FakeTwitch
) -> None:
    fake.list_page_size = 2
    for login in ("a_one", "a_two", "a_three", "a_four", "a_five"):
        condition = {"broadcaster_user_id": fake.user(login).id}
        await client.create_eventsub_subscription("channel.poll.begin", "1", condition, WEBHOOK)
    listed = await client.list_eventsub_subscriptions()
    assert len({s.id for s in listed}) == 5


async def test_followed_channels_are_read_across_pages(
    client: TwitchClient, fake: FakeTwitch
) -> None:
    for login in ("chan_a", "chan_b", "chan_c"):
        fake.follow("viewer_alice", login)
    viewer_id = fake.user("viewer_alice").id
    followed = await client.get_followed_channels(
        viewer_id, "fake-twitch-viewer_alice", page_size=2
    )
    assert [f.broadcaster_login for f in followed] == ["chan_c", "chan_b", "chan_a"]
    assert all(f.followed_at is not None for f in followed)


async def test_app_token_is_fetched_once_and_renewed_before_it_expires(
    client: TwitchClient, fake: FakeTwitch, clock: FakeClock
) -> None:
    await client.list_eventsub_subscriptions()
    await client.list_eventsub_subscriptions()
    assert len(fake.app_tokens) == 1
    (first,) = fake.app_tokens

    clock.advance(60 * 24 * 3600 - 60)  # within the renewal margin of the 60-day token
    await client.list_eventsub_subscriptions()
    assert len(fake.app_tokens) == 2 and first in fake.app_tokens


async def test_revoked_app_token_is_replaced_once(client: TwitchClient, fake: FakeTwitch) -> None:
    await client.list_eventsub_subscriptions()
    (first,) = fake.app_tokens
    fake.expire_token(first)
    assert await client.list_eventsub_subscriptions() == []
    assert len(fake.app_tokens) == 2
