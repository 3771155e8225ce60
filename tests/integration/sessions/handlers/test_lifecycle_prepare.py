"""Preparing a session (SPEC §2, §3): album/playlist references and settings while preparing."""

from __future__ import annotations

from typing import Any

import pytest

from premiere_ecoute.accounts.commands import RegisterUser
from premiere_ecoute.core.errors import ExternalServiceError, InvalidState, ValidationFailed
from premiere_ecoute.discography.models import PlaylistInfo
from premiere_ecoute.sessions import commands as cmd
from tests.support.memory_ports import sample_album
from tests.support.sessions import Cast, event_types, load, prepare, start

ALBUM = "4aawyAB9vmqN3uQ7FjRGTy"


@pytest.mark.parametrize(
    "reference",
    [
        ALBUM,
        f"https://open.spotify.com/album/{ALBUM}",
        f"https://open.spotify.com/intl-fr/album/{ALBUM}?si=a1b2c3&nd=1",
        f"https://open.spotify.com/album/{ALBUM}/",
        f"spotify:album:{ALBUM}",
        f"  spotify:album:{ALBUM} ",
    ],
)
async def test_album_is_accepted_as_id_link_or_uri(
    container: Any, cast: Cast, reference: str
) -> None:
    session_id = await prepare(container, cast.streamer, album=reference)
    row = await load(container, session_id)
    assert row.status == "preparing"
    assert row.source_kind == "album"
    assert row.context_uri == f"spotify:album:{ALBUM}"
    assert len(row.track_ids) == 4
    assert row.scale["options"] == [str(n) for n in range(11)]
    assert await event_types(container, session_id) == ["SessionPrepared"]


async def test_playlist_session_uses_playlist_order_and_context(
    container: Any, cast: Cast, memory_ports: Any
) -> None:
    tracks = sample_album("7pLaYLiStAlBuMxx", tracks=3).tracks
    playlist = PlaylistInfo(
        spotify_id="37i9dQZF1DXcBWIGoYBM5M",
        name="Mix",
        owner="dj",
        cover_url=None,
        tracks=tuple(reversed(tracks)),
    )
    memory_ports.catalog.playlists[playlist.spotify_id] = playlist
    session_id = await prepare(
        container,
        cast.streamer,
        album=None,
        playlist=f"https://open.spotify.com/playlist/{playlist.spotify_id}?si=x",
    )
    row = await load(container, session_id)
    assert row.source_kind == "playlist"
    assert row.context_uri == f"spotify:playlist:{playlist.spotify_id}"
    async with container.db.session() as s:
        from premiere_ecoute.sessions.queries import report

        names = [t["name"] for t in (await report(s, session_id))["tracks"]]
        numbers = [t["track_number"] for t in (await report(s, session_id))["tracks"]]
    assert names == [t.name for t in reversed(tracks)]
    assert numbers == [1, 2, 3]


@pytest.mark.parametrize(
    "reference",
    [
        "https://example.com/album/4aawyAB9vmqN3uQ7FjRGTy",
        "spotify:track:4aawyAB9vmqN3uQ7FjRGTy",
        f"https://open.spotify.com/playlist/{ALBUM}",
        "not a link",
        "",
    ],
)
async def test_bad_album_reference_is_refused_without_a_session(
    container: Any, cast: Cast, reference: str
) -> None:
    with pytest.raises(ValidationFailed):
        await prepare(container, cast.streamer, album=reference)
    async with container.db.session() as s:
        from premiere_ecoute.sessions.queries import sessions_of

        listed = await sessions_of(s, cast.streamer.id)
    assert listed["preparing"] == []


async def test_unknown_album_reports_spotify_refusal(container: Any, cast: Cast) -> None:
    with pytest.raises(ExternalServiceError, match="no album"):
        await prepare(container, cast.streamer, album="0000000000000000000000")


async def test_album_and_playlist_together_are_refused(container: Any, cast: Cast) -> None:
    with pytest.raises(ValidationFailed, match="exactly one"):
        await prepare(container, cast.streamer, playlist="37i9dQZF1DXcBWIGoYBM5M")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scale": "0-100"}, "Unknown scale"),
        ({"scale": ("a",)}, "2 to 10 options"),
        ({"scale": ("a", "A")}, "different"),
        ({"vote_mode": "poll"}, "2 to 5 choices"),
        ({"vote_mode": "sms"}, "vote_mode"),
        ({"stream_delay_s": 61}, "stream_delay_s"),
        ({"stream_delay_s": -1}, "stream_delay_s"),
        ({"poll_duration_s": 10}, "poll_duration_s"),
        ({"playback": "vinyl"}, "playback"),
    ],
)
async def test_invalid_settings_are_refused_with_a_reason(
    container: Any, cast: Cast, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationFailed, match=message):
        await prepare(container, cast.streamer, **options)


async def test_playback_defaults_to_spotify_when_linked_else_manual(
    container: Any, cast: Cast
) -> None:
    linked = await prepare(container, cast.streamer)
    unlinked_user = await container.bus.execute(
        RegisterUser(login="nospotify", role="streamer", twitch_user_id="555000111")
    )
    unlinked = await prepare(container, unlinked_user)
    assert (await load(container, linked)).playback == "spotify"
    assert (await load(container, unlinked)).playback == "manual"


async def test_settings_change_while_preparing_and_is_logged(container: Any, cast: Cast) -> None:
    session_id = await prepare(container, cast.streamer)
    await container.bus.execute(
        cmd.ChangeSettings(
            session_id=session_id,
            actor_id=cast.streamer.id,
            scale="1-5",
            vote_mode="both",
            stream_delay_s=12,
            poll_duration_s=60,
            auto_advance=False,
            playback="manual",
        )
    )
    row = await load(container, session_id)
    assert row.scale["options"] == ["1", "2", "3", "4", "5"]
    assert (row.vote_mode, row.stream_delay_s, row.poll_duration_s) == ("both", 12, 60)
    assert (row.auto_advance, row.playback) == (False, "manual")
    assert await event_types(container, session_id) == ["SessionPrepared", "SessionSettingsChanged"]


async def test_poll_mode_needs_a_poll_sized_scale_also_when_changed(
    container: Any, cast: Cast
) -> None:
    session_id = await prepare(container, cast.streamer, scale="1-5", vote_mode="poll")
    with pytest.raises(ValidationFailed, match="2 to 5 choices"):
        await container.bus.execute(
            cmd.ChangeSettings(session_id=session_id, actor_id=cast.streamer.id, scale="0-10")
        )
    assert (await load(container, session_id)).scale["options"] == ["1", "2", "3", "4", "5"]


async def test_settings_cannot_change_once_started(container: Any, cast: Cast) -> None:
    session_id = await prepare(container, cast.streamer)
    await start(container, cast.streamer, session_id)
    with pytest.raises(InvalidState, match="preparing"):
        await container.bus.execute(
            cmd.ChangeSettings(session_id=session_id, actor_id=cast.streamer.id, stream_delay_s=5)
        )
    assert (await load(container, session_id)).stream_delay_s == 0
