"""Hand-built finished sessions for the charts and history tests: albums the memory catalogue
knows, and sessions played through the bus with chosen ratings per track."""

from __future__ import annotations

import dataclasses
from typing import Any

from premiere_ecoute.accounts.models import User
from premiere_ecoute.discography.models import AlbumInfo
from premiere_ecoute.jobs.charts import refresh_charts
from tests.support.memory_ports import sample_album
from tests.support.sessions import Cast, apply, ballot, move, prepared_and_started, stop


def album(spotify_id: str, name: str, artist: str, tracks: int) -> AlbumInfo:
    return dataclasses.replace(sample_album(spotify_id, tracks), name=name, artists=(artist,))


ALPHA = album("AlphaAAAAAAAAAAAAAAAAA", "Alpha", "Artist One", 3)
BETA = album("BetaBBBBBBBBBBBBBBBBBB", "Beta", "Artist Two", 2)
GAMMA = album("GammaCCCCCCCCCCCCCCCCC", "Gamma", "Artist One", 2)
ALBUMS = (ALPHA, BETA, GAMMA)
DAY = 86400


async def played(
    c: Any,
    streamer: User,
    source: AlbumInfo,
    tracks: list[dict[str, str]],
    *,
    scale: str = "0-10",
    streamer_ratings: list[str | None] | None = None,
) -> int:
    """A session of ``source`` where track i gets the ratings ``tracks[i]`` (viewer id →
    option) and the streamer's ``streamer_ratings[i]``; stopped at the end."""
    clock = c.kernel.clock
    session_id = await prepared_and_started(c, streamer, album=source.spotify_id, scale=scale)
    own = streamer.twitch_user_id or f"user:{streamer.id}"
    for i, votes in enumerate(tracks):
        if i:
            await move(c, streamer, session_id, "next")
        clock.advance(1)
        batch = [ballot(viewer, option, clock.now()) for viewer, option in votes.items()]
        mine = (streamer_ratings or [])[i] if i < len(streamer_ratings or []) else None
        if mine is not None:
            batch.append(ballot(own, mine, clock.now(), streamer=True))
        if batch:
            outcome = await apply(c, session_id, batch)
            assert not outcome.rejected, outcome.rejected
        clock.advance(10)
    await stop(c, streamer, session_id)
    clock.advance(1)
    return session_id


async def refreshed(c: Any) -> int:
    return await refresh_charts(c.kernel)


async def five_sessions(c: Any, cast: Cast) -> dict[str, int]:
    """The sessions S1..S5 described in tests/integration/sessions/charts/test_charts.py;
    viewer ``a`` is ``cast.viewer``."""
    one, two = cast.streamer, cast.rival
    a = cast.viewer.twitch_user_id or "a"
    ids = {
        "S1": await played(
            c,
            one,
            ALPHA,
            [
                {a: "10", "b": "10", "c": "0", "d": "0", "e": "10", "f": "0"},
                {a: "8", "b": "6"},
                {a: "5", "b": "5"},
            ],
            streamer_ratings=["9", "7", "5"],
        ),
        "S2": await played(
            c,
            two,
            BETA,
            [{a: "5", "b": "4", "c": "3"}, {a: "1"}],
            scale="1-5",
            streamer_ratings=["2"],
        ),
        "S3": await played(
            c,
            two,
            GAMMA,
            [{a: "smash", "b": "smash", "c": "pass"}, {a: "smash"}],
            scale="smash-pass",
        ),
    }
    c.kernel.clock.advance(10 * DAY)
    ids["S4"] = await played(
        c, one, BETA, [{a: "2", "b": "4"}, {a: "6"}], streamer_ratings=["3", "6"]
    )
    ids["S5"] = await played(c, two, ALPHA, [{a: "10", "b": "0", "c": "10", "d": "0"}])
    return ids
