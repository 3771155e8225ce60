"""What a streamer runs during a show: poll-only sessions ignore chat ratings and show their
poll (end now, run again), the start announcement follows the vote mode; a session survives
Spotify failing or being unlinked (switch to manual and back, Next always moves, the notice
says what happened); the feed names chatters and shows votes heard before the start; a
troll's votes are removed (an event that replay honours); a delayed stream's audience sees,
and rates, the track it hears."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete

from premiere_ecoute.accounts.models import OAuthCredential
from premiere_ecoute.apis.twitch.eventsub import envelope
from premiere_ecoute.core.errors import AccountNotConnected, ExternalServiceError, InvalidState
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions import queries
from premiere_ecoute.sessions.replay import replay_all
from tests.support.runtime import ingest_once
from tests.support.sessions import (
    Cast,
    event_types,
    load,
    poll_update,
    prepared_and_started,
)
from tests.support.twitch_world import (
    STREAMER_TWITCH_ID,
    post,
    register,
    signed,
    start_session,
    subscription,
)


def chat(text: str, chatter_id: str, name: str, *, at: dt.datetime) -> Any:
    event = envelope.chat_message_event(
        STREAMER_TWITCH_ID, "streamer", chatter_id, name.lower(), text, str(uuid.uuid4())
    )
    event["chatter_user_name"] = name
    body = envelope.notification_body(subscription("channel.chat.message"), event)
    return signed(body, at=at)


async def _send(c: Any, client: httpx.AsyncClient, *lines: Any) -> None:
    for line in lines:
        assert (await post(client, line)).status_code == 204
    await ingest_once(c)


async def _view(c: Any, session_id: int) -> dict[str, Any]:
    async with c.db.session() as s:
        return await queries.live_view(s, session_id=session_id, now=c.clock.now())


# Item 3: Twitch polls ---------------------------------------------------------------------


async def test_poll_mode_ignores_chat_ratings_but_both_counts_them(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any
) -> None:
    user_id = await register(container, "streamer", STREAMER_TWITCH_ID)
    polls_only = await start_session(container, user_id, vote_mode="poll", scale="1-5")
    fake_clock.advance(2)
    await _send(container, app_client, chat("4", "1001", "Alice", at=fake_clock.now()))
    assert (await queries_report(container, polls_only))["votes"] == 0
    await container.bus.execute(cmd.StopSession(session_id=polls_only, actor_id=user_id))

    fake_clock.advance(120)
    both = await start_session(container, user_id, vote_mode="both", scale="1-5")
    fake_clock.advance(2)
    await _send(container, app_client, chat("4", "1001", "Alice", at=fake_clock.now()))
    assert (await queries_report(container, both))["votes"] == 1


async def queries_report(c: Any, session_id: int) -> dict[str, Any]:
    async with c.db.session() as s:
        return await queries.report(s, session_id)


async def test_the_control_view_shows_the_poll_and_it_can_end_and_run_again(
    container: Any, cast: Cast, memory_ports: Any
) -> None:
    c = container
    session_id = await prepared_and_started(
        c, cast.streamer, vote_mode="poll", scale="1-5", poll_duration_s=60
    )
    first = (await load(c, session_id)).current_poll_id
    assert first is not None
    await poll_update(c, first, {"1": 1, "4": 3})
    c.clock.advance(15)

    poll = (await _view(c, session_id))["poll"]
    assert poll["id"] == first and poll["status"] == "running"
    assert poll["track_name"] == "Morning Static"
    assert [(ch["option"], ch["votes"], ch["percent"]) for ch in poll["choices"]] == [
        ("1", 1, 25),
        ("2", 0, 0),
        ("3", 0, 0),
        ("4", 3, 75),
        ("5", 0, 0),
    ]
    assert poll["total"] == 4 and poll["remaining_ms"] == 45_000
    async with c.db.session() as s:
        public = await queries.live_view(
            s, streamer_id=cast.streamer.id, now=c.clock.now(), compact=True
        )
    assert "poll" not in public  # the control page's, not the audience's

    await c.bus.execute(cmd.EndPoll(session_id=session_id, actor_id=cast.streamer.id))
    assert ("end_poll", (cast.streamer.twitch_user_id, first)) in memory_ports.polls.calls
    assert (await _view(c, session_id))["poll"]["status"] == "ended"
    with pytest.raises(InvalidState):
        await c.bus.execute(cmd.EndPoll(session_id=session_id, actor_id=cast.streamer.id))

    await c.bus.execute(cmd.RunPollAgain(session_id=session_id, actor_id=cast.streamer.id))
    again = (await _view(c, session_id))["poll"]
    assert again["id"] != first and again["status"] == "running" and again["total"] == 0
    await poll_update(c, again["id"], {"2": 2})
    report = await queries_report(c, session_id)
    assert report["tracks"][0]["poll_votes"] == 6  # both polls of the track count
    assert "PollEnded" in await event_types(c, session_id)
    async with c.db.session() as s:
        assert (await replay_all(s, c.store, session_id))[session_id] == []


async def test_the_start_announcement_follows_the_vote_mode(
    container: Any, cast: Cast, memory_ports: Any
) -> None:
    await prepared_and_started(container, cast.streamer, vote_mode="poll", scale="1-5")
    await prepared_and_started(container, cast.rival, vote_mode="chat")
    said = [text for _, text in memory_ports.chat.sent if "started" in text]
    assert said[0].endswith("Vote in the Twitch poll: 1–5.") and "in chat" not in said[0]
    assert "in chat" in said[1] and "poll" not in said[1]


# Item 4: Spotify failing mid-show ---------------------------------------------------------


async def test_an_active_session_switches_to_manual_playback_and_back(
    container: Any, cast: Cast, memory_ports: Any
) -> None:
    c = container
    session_id = await prepared_and_started(c, cast.streamer, playback="spotify")
    await c.bus.execute(
        cmd.SwitchPlayback(session_id=session_id, actor_id=cast.streamer.id, playback="manual")
    )
    assert (await load(c, session_id)).playback == "manual"
    memory_ports.playback.calls.clear()
    await c.bus.execute(
        cmd.ChangeTrack(session_id=session_id, actor_id=cast.streamer.id, direction="next")
    )
    assert memory_ports.playback.names() == []  # manual: Spotify is left alone
    await c.bus.execute(
        cmd.SwitchPlayback(session_id=session_id, actor_id=cast.streamer.id, playback="spotify")
    )
    row = await load(c, session_id)
    assert row.playback == "spotify" and row.current_index == 1
    # Spotify picks up where the session is.
    assert memory_ports.playback.playing[cast.streamer.id][1] == 1
    assert "PlaybackSwitched" in await event_types(c, session_id)


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        (AccountNotConnected("Connect your Spotify account first"), "Spotify disconnected"),
        (ExternalServiceError("Spotify is down", service="spotify"), "Spotify did not respond"),
    ],
)
async def test_next_moves_the_session_when_spotify_fails(
    container: Any, cast: Cast, memory_ports: Any, failure: Exception, said: str
) -> None:
    c = container
    session_id = await prepared_and_started(c, cast.streamer, playback="spotify")
    memory_ports.playback.fail_on["play_context"] = failure
    await c.bus.execute(
        cmd.ChangeTrack(session_id=session_id, actor_id=cast.streamer.id, direction="next")
    )
    row = await load(c, session_id)
    assert row.current_index == 1 and row.playback == "manual"
    assert row.notice is not None and row.notice.startswith(said)
    detail = (await _view(c, session_id))["detail"]
    expected = "disconnected" if isinstance(failure, AccountNotConnected) else "unreachable"
    assert detail["spotify_problem"] == expected
    await c.bus.execute(
        cmd.ChangeTrack(session_id=session_id, actor_id=cast.streamer.id, direction="previous")
    )
    assert (await load(c, session_id)).current_index == 0


async def test_pause_on_an_unlinked_spotify_says_so_and_offers_manual_playback(
    container: Any, cast: Cast, memory_ports: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer, playback="spotify")
    memory_ports.playback.fail_on["pause"] = AccountNotConnected(
        "Connect your Spotify account first"
    )
    with pytest.raises(InvalidState) as refused:
        await container.bus.execute(
            cmd.ControlPlayer(session_id=session_id, actor_id=cast.streamer.id, action="pause")
        )
    assert refused.value.message.startswith("Spotify is disconnected")
    assert "manual playback" in refused.value.message


async def test_an_unlinked_spotify_is_told_as_disconnected_by_the_player_monitor(
    sc: Any,
) -> None:
    from tests.support.runtime import start_monitors
    from tests.support.spotify_world import started_session, streamer, wait_until

    user = await streamer(sc)
    session_id = await started_session(sc, user)
    async with sc.db.session() as s:
        await s.execute(delete(OAuthCredential).where(OAuthCredential.provider == "spotify"))
        await s.commit()
    await start_monitors(sc, rescan_s=0.05)

    async def told() -> bool:
        return (await load(sc, session_id)).notice is not None

    await wait_until(told, what="the monitor's notice")
    row = await load(sc, session_id)
    assert row.notice.startswith("Spotify disconnected")
    assert "unreachable" not in row.notice
    assert (await _view(sc, session_id))["detail"]["spotify_problem"] == "disconnected"


# Item 9: the feed and trolls --------------------------------------------------------------


async def test_the_feed_names_chatters_and_a_removed_troll_counts_nowhere(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any
) -> None:
    c = container
    user_id = await register(c, "streamer", STREAMER_TWITCH_ID)
    session_id = await start_session(c, user_id)
    fake_clock.advance(2)
    await _send(
        c,
        app_client,
        chat("9", "1001", "Alice", at=fake_clock.now()),
        chat("0", "6661139", "Troll_King", at=fake_clock.now()),
    )
    feed = (await _view(c, session_id))["latest_votes"]
    assert {v["viewer"] for v in feed} == {"Alice", "Troll_King"}
    assert not any("…1139" in v["viewer"] for v in feed)
    assert (await queries_report(c, session_id))["votes"] == 2

    troll = next(v for v in feed if v["viewer"] == "Troll_King")
    async with c.db.session() as s:
        assert await queries.voter_of_vote(s, session_id, troll["id"]) == "6661139"
    await c.bus.execute(
        cmd.RemoveVoter(session_id=session_id, actor_id=user_id, viewer_id="6661139")
    )
    report = await queries_report(c, session_id)
    assert (report["votes"], report["voters"], report["viewer_score"]) == (1, 1, 9.0)
    # The troll's later ratings are refused too.
    fake_clock.advance(1)
    await _send(c, app_client, chat("0", "6661139", "Troll_King", at=fake_clock.now()))
    assert (await queries_report(c, session_id))["votes"] == 1
    assert [v["viewer"] for v in (await _view(c, session_id))["latest_votes"]] == ["Alice"]
    assert "VoterRemoved" in await event_types(c, session_id)
    async with c.db.session() as s:
        assert (await replay_all(s, c.store, session_id))[session_id] == []
    # The command line replays the log to the same report, the removal included.
    cli = await asyncio.to_thread(
        subprocess.run,
        [
            str(Path(sys.executable).with_name("premiere-ecoute")),
            "events",
            "replay",
            "--session",
            str(session_id),
        ],
        env={
            **os.environ,
            "DATABASE_URL": c.settings.database_url,
            "FAKE_APIS": "1",
            "SECRET_KEY": c.settings.secret_key,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert f"session {session_id}: identical" in cli.stdout


# Item 11: the stream delay ----------------------------------------------------------------


async def test_votes_heard_before_the_start_are_shown_and_counted_nowhere(
    container: Any, app_client: httpx.AsyncClient, fake_clock: Any
) -> None:
    c = container
    user_id = await register(c, "streamer", STREAMER_TWITCH_ID)
    session_id = await start_session(c, user_id, stream_delay_s=10)
    fake_clock.advance(3)  # heard 7 s before the start
    await _send(c, app_client, chat("8", "1001", "Early_Bird", at=fake_clock.now()))
    feed = (await _view(c, session_id))["latest_votes"]
    assert [(v["viewer"], v["value"], v["early"]) for v in feed] == [("Early_Bird", "8", True)]
    assert (await queries_report(c, session_id))["votes"] == 0
    fake_clock.advance(10)
    await _send(c, app_client, chat("6", "1001", "Early_Bird", at=fake_clock.now()))
    feed = (await _view(c, session_id))["latest_votes"]
    assert [(v["value"], v["early"]) for v in feed] == [("6", False), ("8", True)]
    assert (await queries_report(c, session_id))["votes"] == 1


async def test_the_public_view_shows_the_track_the_audience_hears(
    container: Any, cast: Cast
) -> None:
    c = container
    session_id = await prepared_and_started(c, cast.streamer, stream_delay_s=10)
    c.clock.advance(30)
    await c.bus.execute(
        cmd.ChangeTrack(session_id=session_id, actor_id=cast.streamer.id, direction="next")
    )
    c.clock.advance(4)

    async def public() -> dict[str, Any]:
        async with c.db.session() as s:
            return await queries.live_view(
                s, streamer_id=cast.streamer.id, now=c.clock.now(), compact=True
            )

    heard = await public()
    assert heard["track"]["number"] == 1 and heard["track"]["name"] == "Morning Static"
    assert heard[queries.REFRESH_KEY] == pytest.approx(6.0)
    assert (await _view(c, session_id))["track"]["number"] == 2  # the streamer's page
    rows = await load(c, session_id)
    second = rows.track_ids[1]
    first = rows.track_ids[0]
    # A vote for the track shown counts for it; one for a track not heard yet is refused.
    with pytest.raises(InvalidState):
        await c.bus.execute(
            cmd.CastVote(session_id=session_id, actor_id=cast.viewer.id, value="7", track_id=second)
        )
    outcome = await c.bus.execute(
        cmd.CastVote(session_id=session_id, actor_id=cast.viewer.id, value="7", track_id=first)
    )
    assert outcome.accepted[0].track_id == first
    c.clock.advance(7)
    later = await public()
    assert later["track"]["number"] == 2 and queries.REFRESH_KEY not in later
