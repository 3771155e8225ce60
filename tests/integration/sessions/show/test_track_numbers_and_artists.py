"""A track's position belongs to its album or its playlist entry, not to the track: preparing
a playlist that shares tracks with an album never renumbers the album's sessions, and a
stopped session's report and CSV never change when other sessions are prepared. Playlist
sessions show each track's own artists, never the playlist's owner."""

from __future__ import annotations

import re
from typing import Any

import httpx

from premiere_ecoute.bootstrap import web_app
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions import queries
from tests.support.pages import signed_in_cookie
from tests.support.spotify_world import streamer

HARBOUR = "f4PK0BzU3Y9EsiU1MOJyWm"  # "Harbour Lights at Dusk", 9 tracks
LATE_NIGHT = "AHUYoYq1CSopAU6KEP3UI7"  # "Late Night Premieres": tracks 7 and 9 at #1 and #6


async def _prepare(c: Any, user: Any, **source: str) -> int:
    row = await c.bus.execute(cmd.PrepareSession(user_id=user.id, playback="manual", **source))
    return int(row.id)


async def _exports(c: Any, user: Any, session_id: int) -> tuple[dict[str, Any], str, str]:
    app = web_app(c, run_background=False)
    cookie = await signed_in_cookie(c, user.id)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        cookies={"pe_session": cookie},
    ) as web:
        as_json = await web.get(f"/sessions/{session_id}/report.json")
        as_csv = await web.get(f"/sessions/{session_id}/report.csv")
        page = await web.get(f"/sessions/{session_id}/report", headers={"accept": "text/html"})
    assert as_json.status_code == as_csv.status_code == page.status_code == 200
    return as_json.json(), as_csv.text, page.text


async def test_preparing_a_playlist_does_not_renumber_a_stopped_album_session(sc: Any) -> None:
    user = await streamer(sc)
    album_session = await _prepare(sc, user, album=HARBOUR)
    await sc.bus.execute(cmd.StartSession(session_id=album_session, actor_id=user.id))
    await sc.bus.execute(
        cmd.ChangeTrack(session_id=album_session, actor_id=user.id, direction="to", position=7)
    )
    await sc.bus.execute(cmd.CastVote(session_id=album_session, actor_id=user.id, value="8"))
    await sc.bus.execute(cmd.StopSession(session_id=album_session, actor_id=user.id))
    before_json, before_csv, _ = await _exports(sc, user, album_session)
    assert [t["track_number"] for t in before_json["tracks"]] == list(range(1, 10))

    playlist_session = await _prepare(sc, user, playlist=LATE_NIGHT)

    after_json, after_csv, page = await _exports(sc, user, album_session)
    assert [t["track_number"] for t in after_json["tracks"]] == list(range(1, 10))
    assert after_json == before_json
    assert after_csv == before_csv
    numbers = re.findall(r'<td class="track-number">(\d+)</td>', page)
    assert numbers == [str(n) for n in range(1, 10)]
    seventh = after_json["tracks"][6]
    assert seventh["name"] == "The Ferryman's Daughter" and seventh["streamer_score"] == 8.0
    # The control page's track list and the live view number the album's tracks the same way.
    async with sc.db.session() as s:
        view = await queries.live_view(s, session_id=album_session, now=sc.clock.now())
    assert [t["track_number"] for t in view["report"]["tracks"]] == list(range(1, 10))
    # The playlist numbers its entries from 1, in its own order.
    async with sc.db.session() as s:
        playlist_report = await queries.report(s, playlist_session)
    assert [t["track_number"] for t in playlist_report["tracks"]] == list(range(1, 7))
    assert playlist_report["tracks"][0]["name"] == "The Ferryman's Daughter"
    assert playlist_report["tracks"][5]["name"] == "Harbour Lights"
    # Preparing the album again changes nothing either.
    await _prepare(sc, user, album=HARBOUR)
    again_json, again_csv, _ = await _exports(sc, user, album_session)
    assert again_json == before_json and again_csv == before_csv


async def test_playlist_sessions_show_each_tracks_own_artists(sc: Any) -> None:
    user = await streamer(sc)
    session_id = await _prepare(sc, user, playlist=LATE_NIGHT)
    await sc.bus.execute(cmd.StartSession(session_id=session_id, actor_id=user.id))
    async with sc.db.session() as s:
        full = await queries.live_view(s, session_id=session_id, now=sc.clock.now())
        public = await queries.live_view(s, streamer_id=user.id, now=sc.clock.now(), compact=True)
    artists = [t["artists"] for t in full["report"]["tracks"]]
    assert all(a and "Fake Curator" not in a for a in artists), artists
    first_artist = ", ".join(artists[0])
    # Overlay and public page (the compact view) and the control page (the full one).
    for view in (full, public):
        assert view["album"]["artist"] == first_artist
        assert view["track"]["artist"] == first_artist
    assert full["detail"]["source"]["owner"] == "Fake Curator"
    assert full["detail"]["source"]["artist"] == ""
    await sc.bus.execute(
        cmd.ChangeTrack(session_id=session_id, actor_id=user.id, direction="to", position=2)
    )
    async with sc.db.session() as s:
        public = await queries.live_view(s, streamer_id=user.id, now=sc.clock.now(), compact=True)
    assert public["album"]["artist"] == ", ".join(artists[1]) != first_artist
    await sc.bus.execute(cmd.StopSession(session_id=session_id, actor_id=user.id))

    report, as_csv, page = await _exports(sc, user, session_id)
    assert [t["artists"] for t in report["tracks"]] == artists
    header, *rows = as_csv.strip().splitlines()
    assert header.split(",")[:3] == ["track_number", "name", "artists"]
    assert "Fake Curator" not in as_csv
    assert first_artist in rows[0]
    assert first_artist in page and "Playlist by Fake Curator" in page
