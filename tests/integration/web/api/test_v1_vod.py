"""The session after the stream through the JSON API and the pages: a session played with a
fake clock (known times) gives exact timeline data, chapters and highlights, rebuilt from the
event log; the VOD link is validated, saved by the streamer only, and used for every link."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api
from tests.support.pages import browser, form, page_app

ALBUM = "4aawyAB9vmqN3uQ7FjRGTy"


async def _played(api: Api, clock: Any, *, stop: bool = True) -> int:
    """Start at 0 s; chat votes at 10, 12, 15 and a change at 70 s on track 1; next track at
    150 s, votes at 160 and 165 s; next at 330 s; stop at 420 s."""
    http, s = api.http, api.streamer.headers
    sid = (await http.post("/api/v1/sessions", headers=s, json={"album": ALBUM})).json()["id"]
    assert (await http.post(f"/api/v1/sessions/{sid}/start", headers=s)).status_code == 200
    t = 0.0

    async def at(seconds: float) -> None:
        nonlocal t
        clock.advance(seconds - t)
        t = seconds

    async def vote(who: Any, value: str) -> None:
        r = await http.post(
            f"/api/v1/sessions/{sid}/votes", headers=who.headers, json={"value": value}
        )
        assert r.status_code == 201, r.text

    for moment, who, value in ((10, api.viewer, "8"), (12, api.rival, "6"), (15, api.admin, "3")):
        await at(moment)
        await vote(who, value)
    await at(20)
    await vote(api.streamer, "9")  # the streamer's own rating is not a viewer vote
    await at(70)
    await vote(api.admin, "7")
    await at(150)
    await http.post(f"/api/v1/sessions/{sid}/next", headers=s)
    await at(160)
    await vote(api.viewer, "9")
    await at(165)
    await vote(api.rival, "5")
    await at(330)
    await http.post(f"/api/v1/sessions/{sid}/next", headers=s)
    await at(420)
    if stop:
        assert (await http.post(f"/api/v1/sessions/{sid}/stop", headers=s)).status_code == 200
    return int(sid)


async def test_timeline_and_chapters_are_exact(api: Api, fake_clock: Any) -> None:
    sid = await _played(api, fake_clock)
    r = await api.http.get(f"/api/v1/sessions/{sid}/timeline", headers=api.viewer.headers)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["duration_s"] == 420 and data["status"] == "stopped" and data["vod"] is None
    assert [(t["track_number"], t["start_s"], t["end_s"], t["votes"]) for t in data["tracks"]] == [
        (1, 0, 150, 4),
        (2, 150, 330, 2),
        (3, 330, 420, 0),
    ]
    assert [m["votes"] for m in data["minutes"]] == [3, 1, 2, 0, 0, 0, 0]
    scores = [m["score"] for m in data["minutes"]]
    assert scores[0] == pytest.approx(17 / 3) and scores[1:] == pytest.approx([7.0] * 6)
    report = (
        await api.http.get(f"/api/v1/sessions/{sid}/report", headers=api.viewer.headers)
    ).json()
    assert scores[-1] == pytest.approx(report["viewer_score"])  # the page and the report agree
    moments = data["highlights"]
    assert (moments["burst"]["votes"], moments["burst"]["start_s"]) == (3, 10)
    assert moments["burst"]["track"]["track_number"] == 1
    assert (moments["swing"]["at_s"], moments["swing"]["at_clock"]) == (60, "01:00")
    assert (moments["silence"]["from_s"], moments["silence"]["to_s"]) == (165, 420)
    names = [t["name"] for t in data["tracks"]]
    expected = [
        f"00:00 1. {names[0]} — 7.0/10",
        f"02:30 2. {names[1]} — 7.0/10",
        f"05:30 3. {names[2]}",
    ]
    assert data["chapters"] == expected
    chapters = await api.http.get(
        f"/api/v1/sessions/{sid}/chapters", params={"offset": "1:02:03"}, headers=api.rival.headers
    )
    assert chapters.json()["chapters"] == [
        "00:00 Intro",
        f"01:02:03 1. {names[0]} — 7.0/10",
        f"01:04:33 2. {names[1]} — 7.0/10",
        f"01:07:33 3. {names[2]}",
    ]
    assert chapters.json()["text"].endswith("\n") and chapters.json()["offset_s"] == 3723


async def test_the_vod_is_validated_saved_by_its_streamer_and_linked(
    api: Api, fake_clock: Any
) -> None:
    sid = await _played(api, fake_clock)
    http, url = api.http, f"/api/v1/sessions/{sid}/vod"
    bad = await http.put(url, headers=api.streamer.headers, json={"url": "https://evil.example/x"})
    assert bad.status_code == 422 and "Twitch video" in bad.json()["error"]["message"]
    bad = await http.put(
        url,
        headers=api.streamer.headers,
        json={"url": "https://www.twitch.tv/videos/42", "offset": "1:75:00"},
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_failed"
    rival = await http.put(
        url, headers=api.rival.headers, json={"url": "https://www.twitch.tv/videos/42"}
    )
    assert rival.status_code == 403
    saved = await http.put(
        url,
        headers=api.streamer.headers,
        json={"url": "twitch.tv/videos/42", "offset": "1:00:00"},
    )
    assert saved.status_code == 200
    assert saved.json() == {
        "session_id": sid,
        "kind": "twitch",
        "url": "https://www.twitch.tv/videos/42",
        "offset_s": 3600,
    }
    data = (await http.get(f"/api/v1/sessions/{sid}/timeline", headers=api.viewer.headers)).json()
    assert [t["vod_link"] for t in data["tracks"]] == [
        "https://www.twitch.tv/videos/42?t=1h0m0s",
        "https://www.twitch.tv/videos/42?t=1h2m30s",
        "https://www.twitch.tv/videos/42?t=1h5m30s",
    ]
    assert data["highlights"]["silence"]["vod_link"].endswith("?t=1h2m45s")
    assert data["chapters"][0] == "00:00 Intro"
    youtube = await http.put(
        url, headers=api.streamer.headers, json={"url": "https://youtu.be/dQw4w9WgXcQ", "offset": 0}
    )
    assert youtube.json()["kind"] == "youtube"
    data = (await http.get(f"/api/v1/sessions/{sid}/timeline", headers=api.viewer.headers)).json()
    assert data["tracks"][1]["vod_link"] == "https://youtu.be/dQw4w9WgXcQ?t=150"
    cleared = await http.put(url, headers=api.streamer.headers, json={"url": ""})
    assert cleared.json()["url"] is None


async def test_bad_offsets_and_who_may_read(api: Api, fake_clock: Any) -> None:
    sid = await _played(api, fake_clock, stop=False)
    http = api.http
    path = f"/api/v1/sessions/{sid}/timeline"
    # Active: the streamer's and the admins' only.
    assert (await http.get(path, headers=api.streamer.headers)).status_code == 200
    assert (await http.get(path, headers=api.admin.headers)).status_code == 200
    assert (await http.get(path, headers=api.rival.headers)).status_code == 404
    assert (await http.get(path)).status_code == 401
    bad = await http.get(path, params={"offset": "soon"}, headers=api.streamer.headers)
    assert bad.status_code == 422 and "not a time in the video" in bad.json()["error"]["message"]
    live = (await http.get(path, headers=api.streamer.headers)).json()
    assert live["ended_at"] is None and live["duration_s"] == 420  # until now (the fake clock)
    await http.post(f"/api/v1/sessions/{sid}/stop", headers=api.streamer.headers)
    assert (await http.get(path, headers=api.rival.headers)).status_code == 200


async def test_openapi_documents_timeline_chapters_and_vod(api: Api) -> None:
    spec = (await api.http.get("/api/v1/openapi.json")).json()
    paths = spec["paths"]
    assert "get" in paths["/api/v1/sessions/{session_id}/timeline"]
    assert "get" in paths["/api/v1/sessions/{session_id}/chapters"]
    assert "put" in paths["/api/v1/sessions/{session_id}/vod"]
    schemas = spec["components"]["schemas"]
    assert {"tracks", "minutes", "highlights", "chapters", "vod"} <= set(
        schemas["TimelineOut"]["properties"]
    )
    assert "text" in schemas["ChaptersOut"]["properties"]


async def test_pages_report_timeline_chapters_and_vod_form(
    api: Api, container: Any, fake_clock: Any
) -> None:
    sid = await _played(api, fake_clock)
    app = page_app(container)
    async with browser(container, app) as anonymous:
        report = await anonymous.get(f"/sessions/{sid}/report")
        assert report.status_code == 200
        assert "data-chapters" in report.text and "Fastest burst" in report.text
        assert "00:00 1. " in report.text and 'name="vod_url"' not in report.text
        assert "/static/chapters.js" in report.text and "<script>" not in report.text
        timeline = await anonymous.get(f"/sessions/{sid}/timeline")
        assert timeline.status_code == 200 and "data-timeline" in timeline.text
        assert timeline.text.count("data-jump=") == 3
        txt = await anonymous.get(f"/sessions/{sid}/chapters.txt?offset=1:02:03")
        assert txt.status_code == 200 and txt.headers["content-type"].startswith("text/plain")
        assert txt.text.splitlines()[0] == "00:00 Intro"
        assert (await anonymous.get(f"/sessions/{sid}/chapters.txt?offset=x")).status_code == 422
        shifted = await anonymous.get(f"/sessions/{sid}/report?offset=bad")
        assert shifted.status_code == 200 and "not a time in the video" in shifted.text
        refused = await anonymous.post(
            f"/sessions/{sid}/vod", data=form(vod_url="https://www.twitch.tv/videos/7")
        )
        assert refused.status_code in (401, 403)
    async with browser(container, app, api.streamer.user.id) as owner:
        page = await owner.get(f"/sessions/{sid}/report")
        assert 'name="vod_url"' in page.text
        bad = await owner.post(f"/sessions/{sid}/vod", data=form(vod_url="not a link"))
        assert bad.status_code == 422 and "Twitch video" in bad.text
        no_csrf = await owner.post(f"/sessions/{sid}/vod", data={"vod_url": ""})
        assert no_csrf.status_code == 403
        ok = await owner.post(
            f"/sessions/{sid}/vod",
            data=form(vod_url="https://www.twitch.tv/videos/7", vod_offset="10:00"),
        )
        assert ok.status_code == 303
        page = await owner.get(f"/sessions/{sid}/report")
        assert "https://www.twitch.tv/videos/7?t=0h10m10s" in page.text  # the burst, at 10 s
        assert 'value="10:00"' in page.text
        timeline = await owner.get(f"/sessions/{sid}/timeline")
        assert timeline.text.count("data-vod-link") == 3
    async with browser(container, app, api.rival.user.id) as rival:
        other = await rival.post(
            f"/sessions/{sid}/vod", data=form(vod_url="https://www.twitch.tv/videos/8")
        )
        assert other.status_code == 403


async def test_an_active_session_timeline_page_is_its_streamers(
    api: Api, container: Any, fake_clock: Any
) -> None:
    sid = await _played(api, fake_clock, stop=False)
    app = page_app(container)
    async with browser(container, app, api.rival.user.id) as rival:
        assert (await rival.get(f"/sessions/{sid}/timeline")).status_code == 403
        assert (await rival.get(f"/sessions/{sid}/timeline.json")).status_code == 403
    async with browser(container, app, api.streamer.user.id) as owner:
        r = await owner.get(f"/sessions/{sid}/timeline.json")
        assert r.status_code == 200 and isinstance(r.json()["minutes"], list)


async def test_the_new_pages_speak_french_and_italian(
    api: Api, container: Any, fake_clock: Any
) -> None:
    sid = await _played(api, fake_clock)
    app = page_app(container)
    async with browser(container, app) as visitor:
        fr = await visitor.get(f"/sessions/{sid}/timeline?locale=fr")
        assert "Chronologie des votes" in fr.text and "Votes et note cumulée" in fr.text
        it = await visitor.get(f"/sessions/{sid}/report?locale=it&offset=presto")
        assert "Momenti salienti" in it.text and "Capitoli" in it.text
        assert "«presto» non è un momento del video" in it.text
