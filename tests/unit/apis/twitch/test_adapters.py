"""Session ports over the Twitch client, checked against the fake Twitch."""

from __future__ import annotations

import pytest

from premiere_ecoute.accounts.models import UserToken
from premiere_ecoute.apis.twitch.adapters import ChatSender, TwitchChat, TwitchEventSub, TwitchPolls
from premiere_ecoute.apis.twitch.chat_queue import ChatQueue
from premiere_ecoute.apis.twitch.client import TwitchClient
from premiere_ecoute.apis.twitch.fake import FakeTwitch
from premiere_ecoute.core.errors import ExternalServiceError

from .conftest import RECEIVER, WEBHOOK_SECRET


@pytest.fixture
def tokens(fake: FakeTwitch) -> TokenBook:
    return TokenBook(fake)


class TokenBook:
    def __init__(self, fake: FakeTwitch) -> None:
        self.fake = fake
        self.loaded: list[str] = []

    async def __call__(self, twitch_user_id: str) -> UserToken:
        self.loaded.append(twitch_user_id)
        user = self.fake.user_by_id(twitch_user_id)
        if user is None:
            raise ExternalServiceError("no token", service="twitch")
        return UserToken(user.id, f"fake-twitch-{user.login}", f"fake-refresh-{user.login}.1")


def webhook_eventsub(client: TwitchClient, **kwargs: object) -> TwitchEventSub:
    return TwitchEventSub(
        client,
        transport="webhook",
        base_url=RECEIVER,
        webhook_secret=WEBHOOK_SECRET,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_subscribe_creates_webhooks_to_our_callback_with_twitchs_conditions(
    client: TwitchClient, fake: FakeTwitch
) -> None:
    streamer, bot = fake.user("streamer"), fake.user("premiere_bot")

    async def reader(broadcaster_id: str) -> str:
        return bot.id

    eventsub = webhook_eventsub(client, reader_id=reader)
    subs = await eventsub.subscribe(streamer.id, ["channel.chat.message", "channel.poll.end"])
    await fake.idle()

    assert [s.type for s in subs] == ["channel.chat.message", "channel.poll.end"]
    stored = {s.type: s for s in fake.subscriptions.values()}
    assert stored["channel.chat.message"].condition == {
        "broadcaster_user_id": streamer.id,
        "user_id": bot.id,
    }
    assert stored["channel.poll.end"].condition == {"broadcaster_user_id": streamer.id}
    assert {s.callback for s in stored.values()} == {f"{RECEIVER}/webhooks/twitch"}
    assert {s.status for s in stored.values()} == {"enabled"}


async def test_chat_is_read_as_the_broadcaster_when_no_bot_is_set(
    client: TwitchClient, fake: FakeTwitch
) -> None:
    streamer = fake.user("streamer")
    await webhook_eventsub(client).subscribe(streamer.id, ["channel.chat.message"])
    [sub] = fake.subscriptions.values()
    assert sub.condition["user_id"] == streamer.id


async def test_a_failed_subscribe_leaves_no_subscription_behind(
    client: TwitchClient, fake: FakeTwitch
) -> None:
    eventsub = webhook_eventsub(client)
    with pytest.raises(ValueError, match="unsupported"):
        await eventsub.subscribe(
            fake.user("streamer").id, ["channel.chat.message", "channel.follow"]
        )
    assert fake.subscriptions == {}


async def test_unsubscribe_deletes_and_tolerates_already_deleted(
    client: TwitchClient, fake: FakeTwitch
) -> None:
    eventsub = webhook_eventsub(client)
    subs = await eventsub.subscribe(fake.user("streamer").id, ["channel.poll.begin"])
    await eventsub.unsubscribe([s.id for s in subs])
    assert fake.subscriptions == {}
    await eventsub.unsubscribe([s.id for s in subs])  # a second stop is not an error


async def test_polls_are_cut_to_twitchs_limits_and_use_the_broadcasters_token(
    client: TwitchClient, fake: FakeTwitch, tokens: TokenBook
) -> None:
    streamer = fake.user("streamer")
    polls = TwitchPolls(client, tokens)
    long_title = "Rate: " + "a very long track name " * 5
    poll_id = await polls.create_poll(streamer.id, long_title, ["x" * 30, "smash"], 5)
    poll = fake.polls[poll_id]
    assert poll.title == long_title[:60]
    assert [c.title for c in poll.choices] == ["x" * 25, "smash"]
    assert poll.duration == 15
    assert tokens.loaded == [streamer.id]


async def test_ending_a_poll_that_already_ended_is_not_an_error(
    client: TwitchClient, fake: FakeTwitch, tokens: TokenBook
) -> None:
    streamer = fake.user("streamer")
    polls = TwitchPolls(client, tokens)
    poll_id = await polls.create_poll(streamer.id, "Rate: A", ["1", "2"], 60)
    await polls.end_poll(streamer.id, poll_id)
    await polls.end_poll(streamer.id, poll_id)
    assert fake.polls[poll_id].status == "TERMINATED"


async def test_a_poll_refusal_reaches_the_caller(
    client: TwitchClient, fake: FakeTwitch, tokens: TokenBook
) -> None:
    broadcaster = fake.user("nonaffiliate_streamer")
    with pytest.raises(ExternalServiceError, match="Twitch refused the poll"):
        await TwitchPolls(client, tokens).create_poll(broadcaster.id, "Rate: A", ["1", "2"], 60)


async def test_chat_sender_speaks_as_the_bot(
    client: TwitchClient, fake: FakeTwitch, tokens: TokenBook
) -> None:
    streamer, bot = fake.user("streamer"), fake.user("premiere_bot")

    async def bot_id() -> str | None:
        return bot.id

    await ChatSender(client, tokens, bot_id)(streamer.id, "Now playing: Intro")
    [line] = fake.chat[streamer.id]
    assert (line.chatter.login, line.text) == ("premiere_bot", "Now playing: Intro")


async def test_chat_sender_falls_back_to_the_broadcaster_when_the_bot_cannot_speak(
    client: TwitchClient, fake: FakeTwitch, tokens: TokenBook
) -> None:
    streamer = fake.user("streamer")
    fake.expire_token("fake-twitch-premiere_bot")
    fake.expire_token("fake-refresh-premiere_bot.1")
    bot = fake.user("premiere_bot")

    async def bot_id() -> str | None:
        return bot.id

    await ChatSender(client, tokens, bot_id)(streamer.id, "Session over")
    [line] = fake.chat[streamer.id]
    assert line.chatter.login == "streamer"


def test_announce_only_queues(fake: FakeTwitch) -> None:
    async def never(channel: str, text: str) -> None:
        raise AssertionError("announce must not send by itself")

    queue = ChatQueue(never)
    TwitchChat(queue).announce("123", "hello")
    assert queue.pending() == 1


async def test_live_lists_only_the_subscriptions_twitch_still_delivers(
    client: TwitchClient, fake: FakeTwitch
) -> None:
    streamer = fake.user("streamer")
    eventsub = webhook_eventsub(client)
    chat, poll = await eventsub.subscribe(streamer.id, ["channel.chat.message", "channel.poll.end"])
    await fake.idle()
    fake.subscriptions[chat.id].status = "authorization_revoked"

    assert await eventsub.live() == {poll.id: "channel.poll.end"}
