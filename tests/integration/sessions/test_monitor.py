"""The player monitor follows the fake Spotify player: auto-advance, skips made in Spotify,
the end of the album, leaving the album, stop and shutdown."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text

from premiere_ecoute.sessions.commands import StopSession
from premiere_ecoute.sessions.live import LIVE_TOPIC
from premiere_ecoute.sessions.monitor import FINISHED_NOTICE, MONITOR_LOCK_CLASS, OUTSIDE
from tests.support.runtime import player_reading, start_monitors
from tests.support.spotify_world import (
    ALBUM,
    SpotifyWorld,
    session_row,
    started_session,
    streamer,
    track_changes,
    wait_until,
)

OWNER = "fake-spotify-streamer_one"
OTHER_ALBUM = "spotify:album:NxebxO0RT8bTsTRKQbLlml"


async def _following(c: Any, world: SpotifyWorld) -> tuple[Any, int]:
    supervisor = await start_monitors(c, rescan_s=0.05)
    user = await streamer(c)
    session_id = await started_session(c, user)

    async def monitored() -> bool:
        return session_id in supervisor.monitored()

    await wait_until(monitored, what="the monitor to start")
    return user, session_id


async def _at_index(c: Any, session_id: int, index: int) -> None:
    async def moved() -> bool:
        return (await session_row(c, session_id)).current_index == index

    await wait_until(moved, what=f"the session to reach track {index + 1}")


async def _notice_is(c: Any, session_id: int, expected: str | None) -> None:
    async def shown() -> bool:
        return (await session_row(c, session_id)).notice == expected

    await wait_until(shown, what=f"notice {expected!r}")


async def test_session_follows_spotify_auto_advance_at_track_end(
    sc: Any, world: SpotifyWorld
) -> None:
    _, session_id = await _following(sc, world)
    player = world.spotify.player(OWNER)
    first = player.current
    assert first is not None and player.context_uri == f"spotify:album:{ALBUM}"

    world.clock.advance(first.duration_ms / 1000 + 1)

    await _at_index(sc, session_id, 1)
    changes = await track_changes(sc, session_id)
    assert [(ch["index"], ch["source"]) for ch in changes] == [(0, "start"), (1, "spotify")]
    # Following never moves the player: only the start played the album.
    assert world.spotify.requests.count(("PUT", "/v1/me/player/play")) == 1
    assert player.index == 1


async def test_skip_made_in_spotify_is_followed(sc: Any, world: SpotifyWorld) -> None:
    _, session_id = await _following(sc, world)

    world.spotify.skip_to(OWNER, 3)

    await _at_index(sc, session_id, 3)
    status = await player_reading(sc, session_id)
    assert status["position"] == 4 and status["state"] == "playing"
    assert (await track_changes(sc, session_id))[-1]["source"] == "spotify"


async def test_album_end_tells_the_streamer_it_finished(sc: Any, world: SpotifyWorld) -> None:
    _, session_id = await _following(sc, world)
    world.spotify.skip_to(OWNER, 4)
    await _at_index(sc, session_id, 4)
    last = world.spotify.player(OWNER).current
    assert last is not None

    world.clock.advance(last.duration_ms / 1000 + 5)

    await _notice_is(sc, session_id, FINISHED_NOTICE)
    row = await session_row(sc, session_id)
    assert row.status == "active" and row.current_index == 4
    assert (await player_reading(sc, session_id))["state"] == "finished"


async def test_leaving_the_album_warns_once_and_pauses_following(
    sc: Any, world: SpotifyWorld
) -> None:
    _, session_id = await _following(sc, world)
    updates = sc.broker.subscribe(LIVE_TOPIC)
    player = world.spotify.player(OWNER)
    other = world.spotify.catalogue.context_tracks(OTHER_ALBUM)
    assert other is not None

    player.load(OTHER_ALBUM, other, 3)
    await _notice_is(sc, session_id, OUTSIDE)
    seen = updates.queue.qsize()
    await asyncio.sleep(0.2)  # several more readings outside the album

    assert 1 <= seen <= 2 and updates.queue.qsize() == seen  # not one update per reading
    assert (await session_row(sc, session_id)).current_index == 0
    assert (await player_reading(sc, session_id))["state"] == "outside_album"

    album = world.spotify.catalogue.context_tracks(f"spotify:album:{ALBUM}")
    assert album is not None
    player.load(f"spotify:album:{ALBUM}", album, 2)

    await _at_index(sc, session_id, 2)
    await _notice_is(sc, session_id, None)
    updates.close()


async def test_stopping_the_session_ends_its_monitor_and_frees_the_lock(
    sc: Any, world: SpotifyWorld
) -> None:
    user, session_id = await _following(sc, world)
    supervisor = sc.monitors

    await sc.bus.execute(StopSession(session_id=session_id, actor_id=user.id))

    async def released() -> bool:
        return not supervisor.monitored() and await _monitor_locks(sc) == 0

    await wait_until(released, what="the monitor to stop")


async def test_unexpected_errors_never_stop_the_monitor(sc: Any, world: SpotifyWorld) -> None:
    real = sc.ports.playback

    class Flaky:
        calls = 0

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        async def state(self, user_id: int) -> Any:
            Flaky.calls += 1
            if Flaky.calls <= 2:
                raise RuntimeError("a bug somewhere")
            return await real.state(user_id)

    sc.ports.playback = Flaky()  # the monitor's first two readings fail
    _, session_id = await _following(sc, world)

    async def recovered() -> bool:
        return Flaky.calls > 2  # two failing readings, then a good one

    await wait_until(recovered, what="the monitor to read the player again after errors")
    # A reading already under way when the flaky port went in may end after this point, so
    # the skip comes only now: only a monitor that survived the errors can follow it.
    world.spotify.skip_to(OWNER, 2)
    await _at_index(sc, session_id, 2)
    await _notice_is(sc, session_id, None)


async def test_only_one_of_two_processes_follows_a_session(
    make_container: Any, world: SpotifyWorld
) -> None:
    first = await make_container()
    second = await make_container()
    sup1 = await start_monitors(first, rescan_s=0.05)
    sup2 = await start_monitors(second, rescan_s=0.05)
    user = await streamer(first)
    session_id = await started_session(first, user)

    async def one_follows() -> bool:
        return (sup1.monitored() | sup2.monitored()) == {session_id}

    await wait_until(one_follows, what="a monitor")
    await asyncio.sleep(0.2)  # both supervisors rescanned several times
    assert len(sup1.monitored()) + len(sup2.monitored()) == 1

    world.spotify.skip_to(OWNER, 1)
    await _at_index(first, session_id, 1)
    await asyncio.sleep(0.2)
    assert [ch["index"] for ch in await track_changes(first, session_id)] == [0, 1]

    # The follower goes away: the other process takes over.
    leader, survivor = (first, sup2) if sup1.monitored() else (second, sup1)
    await leader.stop()

    async def taken_over() -> bool:
        return survivor.monitored() == {session_id}

    await wait_until(taken_over, what="the other process to take over")
    other = second if leader is first else first
    world.spotify.skip_to(OWNER, 3)
    await _at_index(other, session_id, 3)


async def test_monitors_end_promptly_when_the_process_stops(sc: Any, world: SpotifyWorld) -> None:
    await _following(sc, world)
    supervisor = sc.monitors
    tasks = [*supervisor.tasks.values(), *sc.kernel.background]

    sc.stopping.set()

    _, pending = await asyncio.wait(tasks, timeout=3.0)
    assert not pending
    assert await _monitor_locks(sc) == 0


async def _monitor_locks(c: Any) -> int:
    async with c.db.session() as s:
        n = await s.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :k"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"k": MONITOR_LOCK_CLASS},
        )
    return int(n or 0)


async def test_real_time_player_with_speed_factor_is_followed_to_the_end(
    sc: Any, world: SpotifyWorld
) -> None:
    import time

    world.spotify.clock = time.monotonic  # real time, before the player exists...
    # ...and 250x faster: each track lasts about 1.6 s, long enough for a poll every 20 ms to
    # see it even when the machine stalls the test for a few hundred milliseconds.
    world.spotify.speed = 250.0
    _, session_id = await _following(sc, world)

    async def finished() -> bool:
        return (await session_row(sc, session_id)).notice == FINISHED_NOTICE

    await wait_until(finished, timeout=30.0, what="the end of the album")

    changes = await track_changes(sc, session_id)
    assert [(ch["index"], ch["source"]) for ch in changes] == [
        (0, "start"),
        *((i, "spotify") for i in range(1, 5)),
    ]


async def test_pausing_in_spotify_itself_pushes_a_live_update(sc: Any, world: SpotifyWorld) -> None:
    _, session_id = await _following(sc, world)
    updates = sc.broker.subscribe(LIVE_TOPIC)

    async def settled() -> bool:
        return (await player_reading(sc, session_id)).get("is_playing") is True

    await wait_until(settled, what="the monitor to see the player playing")
    while not updates.queue.empty():
        updates.queue.get_nowait()
    world.spotify.player(OWNER).pause()

    async def paused() -> bool:
        return (await player_reading(sc, session_id)).get("is_playing") is False

    await wait_until(paused, what="the monitor to see the pause")
    update = await updates.get(timeout=5)
    assert update["session_id"] == session_id
    updates.close()


async def test_without_auto_advance_the_player_waits_on_the_next_track_for_the_streamer(
    sc: Any, world: SpotifyWorld
) -> None:
    from premiere_ecoute.sessions.commands import ChangeTrack
    from premiere_ecoute.sessions.monitor import HOLDING

    supervisor = await start_monitors(sc, rescan_s=0.05)
    user = await streamer(sc)
    session_id = await started_session(sc, user, auto_advance=False)

    async def monitored() -> bool:
        return session_id in supervisor.monitored()

    await wait_until(monitored, what="the monitor to start")
    player = world.spotify.player(OWNER)
    first = player.current
    assert first is not None
    world.clock.advance(first.duration_ms / 1000 - 1)  # near the end of track 1
    await asyncio.sleep(0.1)
    world.clock.advance(2)  # Spotify moves on to track 2 by itself
    await _notice_is(sc, session_id, HOLDING)
    assert (await session_row(sc, session_id)).current_index == 0  # votes go to track 1
    assert player.is_playing is False and player.index == 1

    await sc.bus.execute(ChangeTrack(session_id=session_id, actor_id=user.id, direction="next"))
    await _notice_is(sc, session_id, None)
    assert player.is_playing is True and player.index == 1
    assert (await session_row(sc, session_id)).current_index == 1
