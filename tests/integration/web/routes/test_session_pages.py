"""Session pages (SPEC §9): list, prepare form, control page and its commands, report and its
exports, retrospective. Browser sessions are signed cookies, as SessionMiddleware makes them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from premiere_ecoute.accounts.models import User
from premiere_ecoute.bootstrap import web_app
from premiere_ecoute.sessions import queries
from tests.support.pages import CSRF, login_session_now, session_cookie
from tests.support.sessions import (
    Cast,
    apply,
    ballot,
    load,
    prepare,
    prepared_and_started,
    stop,
)

HTML = {"accept": "text/html"}
HX = {"hx-request": "true", "accept": "text/html", "x-csrf-token": CSRF}


@pytest.fixture
async def app(container: Any) -> Any:
    return web_app(container, run_background=False)


@pytest.fixture
async def web(app: Any) -> AsyncIterator[Any]:
    transport = httpx.ASGITransport(app=app)
    made: list[httpx.AsyncClient] = []

    def client(user: User | None = None, **session: Any) -> httpx.AsyncClient:
        c = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        if user is not None:
            session["user_id"] = user.id
            session.setdefault("csrf", CSRF)
            owner = int(session.get("impersonator_id") or user.id)
            session.setdefault("sid", login_session_now(app.state.deps.db.url, owner))
        if session:
            key = app.state.deps.settings.secret_key
            c.cookies.set("pe_session", session_cookie(key, session))
        made.append(c)
        return c

    yield client
    for c in made:
        await c.aclose()


async def test_my_sessions_lists_active_preparing_and_completed(
    container: Any, cast: Cast, web: Any
) -> None:
    done = await prepared_and_started(container, cast.streamer)
    await stop(container, cast.streamer, done)
    live = await prepared_and_started(container, cast.streamer)
    waiting = await prepare(container, cast.streamer)
    await prepare(container, cast.rival)

    page = await web(cast.streamer).get("/sessions", headers=HTML)

    assert page.status_code == 200
    ids = [int(i) for i in re.findall(r'data-session-id="(\d+)"', page.text)]
    assert ids == [live, waiting, done]


async def test_anonymous_visitor_is_sent_to_log_in(web: Any) -> None:
    page = await web().get("/sessions", headers=HTML)

    assert page.status_code == 303
    assert page.headers["location"] == "/auth/twitch/login"


async def test_control_page_renders_for_owner_and_admin(
    container: Any, cast: Cast, web: Any
) -> None:
    session_id = await prepare(container, cast.streamer)

    for user in (cast.streamer, cast.admin):
        page = await web(user).get(f"/sessions/{session_id}", headers=HTML)
        assert page.status_code == 200
        assert "Harbour Lights" in page.text
        assert f'sse-connect="/sessions/{session_id}/stream"' in page.text
        assert "/overlay/streamerone?mode=full" in page.text
        assert page.text.count("data-track-row=") == 4


async def test_control_page_and_stream_refuse_other_users(
    container: Any, cast: Cast, web: Any
) -> None:
    session_id = await prepare(container, cast.streamer)
    rival = web(cast.rival)

    page = await rival.get(f"/sessions/{session_id}", headers=HTML)
    stream = await rival.get(f"/sessions/{session_id}/stream")
    missing = await web(cast.streamer).get("/sessions/999999", headers=HTML)

    assert page.status_code == 403
    assert "Access denied" in page.text
    assert stream.status_code == 403
    assert missing.status_code == 404


async def test_prepare_form_creates_the_session_and_redirects_to_its_control_page(
    container: Any, cast: Cast, web: Any
) -> None:
    form = {
        "source": "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy?si=x",
        "scale": "custom",
        "custom_scale": "bad, ok, great",
        "vote_mode": "chat",
        "stream_delay_s": "5",
        "poll_duration_s": "120",
        "playback": "manual",
    }

    response = await web(cast.streamer).post("/sessions/new", data=form, headers=HX)

    assert response.status_code == 303
    session_id = int(response.headers["location"].rsplit("/", 1)[1])
    row = await load(container, session_id)
    assert row.user_id == cast.streamer.id
    assert row.scale["options"] == ["bad", "ok", "great"]
    assert (row.stream_delay_s, row.playback, row.auto_advance) == (5, "manual", False)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("source", "", "Choose an album"),
        ("source", "not a link!", "Not a Spotify album id or link"),
        ("stream_delay_s", "soon", "whole number of seconds"),
        ("stream_delay_s", "90", "between 0 and 60"),
        ("scale", "custom", "at least two options"),
    ],
)
async def test_prepare_form_refuses_bad_input_with_a_message(
    container: Any, cast: Cast, web: Any, field: str, value: str, message: str
) -> None:
    form = {"source": "4aawyAB9vmqN3uQ7FjRGTy", "scale": "0-10", field: value}

    response = await web(cast.streamer).post("/sessions/new", data=form, headers=HX)

    assert 400 <= response.status_code < 500
    assert message in response.text
    assert 'name="source"' in response.text
    async with container.db.session() as s:
        assert (await queries.sessions_of(s, cast.streamer.id))["preparing"] == []


async def test_prepare_form_without_htmx_needs_the_csrf_token(cast: Cast, web: Any) -> None:
    browser = web(cast.streamer, csrf="the-token")
    form = {"source": "4aawyAB9vmqN3uQ7FjRGTy"}

    forged = await browser.post("/sessions/new", data=form, headers=HTML)
    genuine = await browser.post(
        "/sessions/new", data={**form, "csrf_token": "the-token"}, headers=HTML
    )

    assert forged.status_code == 403
    assert genuine.status_code == 303


async def test_album_search_fragment_lists_matching_albums(cast: Cast, web: Any) -> None:
    found = await web(cast.streamer).get("/sessions/new/search", params={"q": "harbour"})
    nothing = await web(cast.streamer).get("/sessions/new/search", params={"q": "zzzz"})

    assert found.status_code == 200
    assert 'value="4aawyAB9vmqN3uQ7FjRGTy"' in found.text
    assert "Harbour Lights" in found.text
    assert "No album found" in nothing.text


async def test_actions_drive_the_session_through_its_lifecycle(
    container: Any, cast: Cast, web: Any
) -> None:
    session_id = await prepare(container, cast.streamer, playback="manual")
    browser = web(cast.streamer)

    async def act(action: str, **data: str) -> httpx.Response:
        return await browser.post(f"/sessions/{session_id}/actions/{action}", data=data, headers=HX)

    assert (await act("start")).status_code == 200
    assert (await act("next")).status_code == 200
    assert (await act("play", position="4")).status_code == 200
    assert (await act("close")).status_code == 200
    closed = await load(container, session_id)
    assert (await act("open")).status_code == 200
    assert (await act("rate", value="0")).status_code == 200
    report_before_stop = await browser.get(f"/sessions/{session_id}/report.json")
    assert (await act("stop")).status_code == 200

    row = await load(container, session_id)
    assert (closed.status, closed.current_index, closed.votes_open) == ("active", 3, False)
    assert row.status == "stopped"
    track4 = report_before_stop.json()["tracks"][3]
    assert track4["streamer_score"] == 0
    assert track4["votes"] == 0


async def test_refused_action_shows_the_domain_message_with_a_4xx(
    container: Any, cast: Cast, web: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer)
    browser = web(cast.streamer)

    first = await browser.post(f"/sessions/{session_id}/actions/previous", headers=HX)
    bad_vote = await browser.post(
        f"/sessions/{session_id}/actions/rate", data={"value": "11"}, headers=HX
    )
    bad_position = await browser.post(
        f"/sessions/{session_id}/actions/play", data={"position": "x"}, headers=HX
    )
    unknown = await browser.post(f"/sessions/{session_id}/actions/explode", headers=HX)

    assert first.status_code == 409
    assert "already the first track" in first.text
    assert bad_vote.status_code == 422
    assert "not an option" in bad_vote.text
    assert bad_position.status_code == 422
    assert unknown.status_code == 404


async def test_refusals_are_shown_in_the_readers_language(
    container: Any, cast: Cast, web: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer)
    browser = web(cast.streamer)
    french = await browser.post(
        f"/sessions/{session_id}/actions/previous", headers={**HX, "accept-language": "fr"}
    )
    italian = await browser.post(
        f"/sessions/{session_id}/actions/previous", headers={**HX, "accept-language": "it"}
    )
    assert french.status_code == 409 and "déjà la première piste" in french.text
    assert italian.status_code == 409 and "già la prima traccia" in italian.text


async def test_actions_refuse_other_users_and_forged_posts(
    container: Any, cast: Cast, web: Any
) -> None:
    session_id = await prepare(container, cast.streamer, playback="manual")

    rival = await web(cast.rival).post(f"/sessions/{session_id}/actions/start", headers=HX)
    forged = await web(cast.streamer, csrf="t").post(
        f"/sessions/{session_id}/actions/start", data={"csrf_token": "other"}, headers=HTML
    )
    plain = await web(cast.streamer, csrf="t").post(
        f"/sessions/{session_id}/actions/start", data={"csrf_token": "t"}, headers=HTML
    )

    assert rival.status_code == 403
    assert forged.status_code == 403
    assert plain.status_code == 303
    assert (await load(container, session_id)).status == "active"


async def _finished_session(container: Any, cast: Cast) -> int:
    session_id = await prepared_and_started(container, cast.streamer)
    at = container.clock.now() + dt.timedelta(seconds=5)
    await apply(
        container,
        session_id,
        [
            ballot("v1", "8", at),
            ballot("v2", "6", at),
            ballot("s", "9", at, streamer=True),
        ],
    )
    container.clock.advance(60)
    await stop(container, cast.streamer, session_id)
    return session_id


async def test_exports_match_the_report(container: Any, cast: Cast, web: Any) -> None:
    session_id = await _finished_session(container, cast)
    async with container.db.session() as s:
        expected = await queries.report(s, session_id)
    visitor = web()

    as_json = await visitor.get(f"/sessions/{session_id}/report.json")
    as_csv = await visitor.get(f"/sessions/{session_id}/report.csv")

    assert as_json.status_code == 200
    assert as_json.json() == expected
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["name"] for r in rows] == [t["name"] for t in expected["tracks"]]
    first = rows[0]
    assert float(first["viewer_score"]) == expected["tracks"][0]["viewer_score"] == 7.0
    assert float(first["streamer_score"]) == 9
    assert (first["votes"], first["option 8"], first["option 6"], first["option 0"]) == (
        "2",
        "1",
        "1",
        "0",
    )
    assert rows[1]["viewer_score"] == ""


async def test_report_of_a_stopped_session_is_public_others_are_private(
    container: Any, cast: Cast, web: Any
) -> None:
    finished = await _finished_session(container, cast)
    running = await prepared_and_started(container, cast.rival)
    visitor = web()

    public = await visitor.get(f"/sessions/{finished}/report", headers=HTML)
    private = await visitor.get(f"/sessions/{running}/report", headers=HTML)
    private_csv = await visitor.get(f"/sessions/{running}/report.csv", headers=HTML)
    owner = await web(cast.rival).get(f"/sessions/{running}/report", headers=HTML)

    assert public.status_code == 200
    assert "Morning Static" in public.text and "report.csv" in public.text
    assert private.status_code == 403
    assert private_csv.status_code == 403
    assert owner.status_code == 200


async def test_running_average_series_follows_the_votes(
    container: Any, cast: Cast, web: Any
) -> None:
    session_id = await _finished_session(container, cast)

    per_vote = await web().get(f"/sessions/{session_id}/report/series.json?per=vote")
    bad = await web().get(f"/sessions/{session_id}/report/series.json?per=hour")

    assert [round(p["average"], 2) for p in per_vote.json()["series"]] == [8.0, 7.0]
    assert bad.status_code == 422


async def test_recap_card_is_a_png(container: Any, cast: Cast, web: Any) -> None:
    pytest.importorskip("PIL")
    session_id = await _finished_session(container, cast)

    card = await web().get(f"/sessions/{session_id}/recap.png")

    assert card.status_code == 200
    assert card.headers["content-type"] == "image/png"
    assert card.content.startswith(b"\x89PNG\r\n\x1a\n")
    from PIL import Image

    assert Image.open(io.BytesIO(card.content)).size == (1200, 630)


async def test_retrospective_moves_from_december_to_january(
    container: Any, cast: Cast, web: Any
) -> None:
    container.clock.set(dt.datetime(2025, 12, 20, 20, 0, tzinfo=dt.UTC))
    december = await _finished_session(container, cast)
    browser = web(cast.streamer)

    page = await browser.get("/retrospective?year=2025&month=12", headers=HTML)
    next_url = re.search(r'href="([^"]+)" data-nav="next"', page.text)
    assert next_url is not None
    january = await browser.get(next_url.group(1).replace("&amp;", "&"), headers=HTML)
    public = await web().get("/retrospective?year=2025&login=streamerone", headers=HTML)
    bad = await browser.get("/retrospective?year=2025&month=13", headers=HTML)

    assert f"/sessions/{december}/report" in page.text
    assert next_url.group(1).replace("&amp;", "&") == "/retrospective?year=2026&month=1"
    assert january.status_code == 200
    assert f"/sessions/{december}/report" not in january.text
    assert 'href="/retrospective?year=2025&amp;month=12" data-nav="previous"' in january.text
    assert f"/sessions/{december}/report" in public.text
    assert bad.status_code == 422
