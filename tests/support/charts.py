"""Hand-built finished sessions for the charts and history tests: albums the memory catalogue
knows, and sessions played through the bus with chosen ratings per track."""

from __future__ import annotations

import dataclasses
from typing import Any

from premiere_ecoute.accounts.models import User
from premiere_ecoute.discography.models import AlbumInfo
from premiere_ecoute.jobs.charts import refresh_charts
from tests.support.memory_ports import sample_album
from tests.support.sessions import apply, ballot, move, prepared_and_started, stop


def album(spotify_id: str, name: str, artist: str, tracks: int) -> AlbumInfo:
    return dataclasses.replace(sample_album(spotify_id, tracks), name=name, artists=(artist,))


ALPHA = album("AlphaAAAAAAAAAAAAAAAAA", "Alpha", "Artist One", 3)
BETA = album("BetaBBBBBBBBBBBBBBBBBB", "Beta", "Artist Two", 2)
GAMMA = album("GammaCCCCCCCCCCCCCCCCC", "Gamma", "Artist One", 2)
ALBUMS = (ALPHA, BETA, GAMMA)


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
