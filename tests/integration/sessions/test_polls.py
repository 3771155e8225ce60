"""Twitch polls end to end with the fake Twitch (SPEC §4.5): created at each track start,
ended on track change and stop, ballots from progress/end, unknown polls ignored, refusal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from premiere_ecoute.apis.twitch.eventsub import envelope
from premiere_ecoute.config import Settings
from premiere_ecoute.demo import create_user
from premiere_ecoute.sessions import commands as cmd
from tests.support.runtime import ingest_once
from tests.support.twitch_world import (
    fake_album_id,
    post,
    report,
    session_row,
    signed,
    twitch_settings,
)


@pytest.fixture
def settings(clean_db: str) -> Settings:
    return twitch_settings(clean_db)


SCALE = "1-5"


async def _start(c: Any, login: str, vote_mode: str = "poll") -> tuple[int, int]:
    user = await create_user(c, login, "streamer")
    row = await c.bus.execute(
        cmd.PrepareSession(
            user_id=user.id,
            album=fake_album_id(),
            scale=SCALE,
            vote_mode=vote_mode,
            playback="manual",
        )
    )
    await c.bus.execute(cmd.StartSession(session_id=row.id, actor_id=user.id))
    await c.fakes.twitch.idle()  # webhook handshakes and poll.begin
    return row.id, user.id


async def _ballots(client: httpx.AsyncClient, poll_id: str, n: int) -> dict[str, int]:
    r = await client.post(f"/_fake/twitch/polls/{poll_id}/simulate", data={"ballots": str(n)})
    assert r.status_code == 200, r.text
    assert r.json()["delivered"] == 1
    return {k: v for k, v in r.json()["votes"].items()}


async def test_polls_follow_the_tracks_and_their_ballots_count_for_their_track(
    fake_container: Any, fake_client: httpx.AsyncClient
) -> None:
    c = fake_container
    fake = c.fakes.twitch
    session_id, user_id = await _start(c, "streamer")
    first_poll = (await session_row(c, session_id)).current_poll_id
    assert fake.polls[first_poll].status == "ACTIVE"
    assert fake.polls[first_poll].title.startswith("Rate: ")
    assert [ch.title for ch in fake.polls[first_poll].choices] == ["1", "2", "3", "4", "5"]

    counts_1 = await _ballots(fake_client, first_poll, 12)
    await ingest_once(c)
    await c.bus.execute(cmd.ChangeTrack(session_id=session_id, actor_id=user_id, direction="next"))
    await fake.idle()
    second_poll = (await session_row(c, session_id)).current_poll_id
    counts_2 = await _ballots(fake_client, second_poll, 5)
    await c.bus.execute(cmd.StopSession(session_id=session_id, actor_id=user_id))
    await fake.idle()
    await ingest_once(c)

    assert fake.polls[first_poll].status == "TERMINATED"
    assert fake.polls[second_poll].status == "TERMINATED"
    tracks = (await report(c, session_id))["tracks"]
    assert tracks[0]["poll_votes"] == 12 and tracks[0]["distribution"] == counts_1
    assert tracks[1]["poll_votes"] == 5 and tracks[1]["distribution"] == counts_2
    assert tracks[2]["poll_votes"] == 0
    mean_1 = sum(int(k) * v for k, v in counts_1.items()) / 12
    assert abs(tracks[0]["viewer_score"] - mean_1) < 1e-9


async def test_a_poll_notification_for_an_unknown_poll_is_ignored(
    fake_container: Any, fake_client: httpx.AsyncClient
) -> None:
    c = fake_container
    session_id, _ = await _start(c, "streamer")
    await ingest_once(c)
    event = envelope.poll_event(
        "progress",
        "no-such-poll",
        "123",
        "streamer",
        "Rate: x",
        [("a", "1", 40), ("b", "5", 2)],
        "active",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:02:00Z",
    )
    sub = envelope.subscription_dict(
        "s",
        "channel.poll.progress",
        "1",
        {"broadcaster_user_id": "123"},
        envelope.webhook_transport("x"),
        "enabled",
        "now",
    )
    d = signed(
        envelope.notification_body(sub, event),
        at=dt.datetime.now(dt.UTC),
        subscription_type="channel.poll.progress",
    )

    assert (await post(fake_client, d)).status_code == 204
    res = await ingest_once(c)

    assert res.processed == 1 and res.ignored == 1
    assert (await report(c, session_id))["poll_votes"] == 0


async def test_a_streamer_twitch_refuses_polls_to_runs_the_session_in_chat_mode(
    fake_container: Any, fake_client: httpx.AsyncClient
) -> None:
    c = fake_container
    session_id, _ = await _start(c, "nonaffiliate_streamer", vote_mode="both")

    row = await session_row(c, session_id)
    r = await fake_client.post(
        "/_fake/twitch/chat/nonaffiliate_streamer/send", data={"text": "4", "as": "viewer_alice"}
    )
    await ingest_once(c)

    assert row.status == "active" and row.vote_mode == "chat" and row.current_poll_id is None
    assert "poll" in row.notice.lower() and "partner or affiliate" in row.notice
    assert r.json()["delivered"] == 1
    assert (await report(c, session_id))["tracks"][0]["distribution"]["4"] == 1
