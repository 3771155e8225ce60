"""Web votes from the public page (SPEC §4.4): logged-in viewers only, same rules as chat."""

from __future__ import annotations

from typing import Any

from premiere_ecoute.demo import create_user
from premiere_ecoute.sessions import queries
from tests.support.pages import CSRF, browser, page_app
from tests.support.sessions import prepare, prepared_and_started, stop

HTMX = {"HX-Request": "true", "X-CSRF-Token": CSRF}


async def _first_track(c: Any, session_id: int) -> dict[str, Any]:
    async with c.db.session() as s:
        report = await queries.report(s, session_id)
    return dict(report["tracks"][0])


async def test_a_logged_in_viewer_votes_and_the_latest_rating_counts(container: Any) -> None:
    streamer = await create_user(container, "livehost", "streamer")
    viewer = await create_user(container, "webviewer", "viewer")
    session_id = await prepared_and_started(container, streamer)
    app = page_app(container)
    async with browser(container, app, viewer.id) as client:
        page = await client.get("/live/livehost")
        first = await client.post("/live/livehost/vote", data={"value": "4"}, headers=HTMX)
        second = await client.post("/live/livehost/vote", data={"value": "9"}, headers=HTMX)
    assert page.status_code == 200 and 'hx-post="/live/livehost/vote"' in page.text
    assert first.status_code == 200 and "4" in first.text
    assert second.status_code == 200 and "9" in second.text
    track = await _first_track(container, session_id)
    assert track["voters"] == 1 and track["distribution"]["9"] == 1
    assert track["distribution"]["4"] == 0


async def test_refusals_are_shown_as_messages_never_as_errors(container: Any) -> None:
    streamer = await create_user(container, "livehost", "streamer")
    viewer = await create_user(container, "webviewer", "viewer")
    app = page_app(container)
    async with browser(container, app) as anonymous:
        nobody = await anonymous.post("/live/livehost/vote", data={"value": "4"}, headers=HTMX)
    async with browser(container, app, viewer.id) as client:
        idle = await client.post("/live/livehost/vote", data={"value": "4"}, headers=HTMX)
        session_id = await prepared_and_started(container, streamer)
        forged = await client.post("/live/livehost/vote", data={"value": "4"})
        # One CSRF rule: an htmx request must carry the token too.
        htmx_forged = await client.post(
            "/live/livehost/vote", data={"value": "4"}, headers={"HX-Request": "true"}
        )
        off_scale = await client.post("/live/livehost/vote", data={"value": "11"}, headers=HTMX)
        await stop(container, streamer, session_id)
        await prepare(container, streamer)
        after = await client.post("/live/livehost/vote", data={"value": "4"}, headers=HTMX)
    assert nobody.status_code == 401 and "Log in" in nobody.text
    assert idle.status_code == 409 and "No session" in idle.text
    assert forged.status_code == 403 and htmx_forged.status_code == 403
    assert off_scale.status_code == 422 and "not an option" in off_scale.text
    assert after.status_code == 409
    assert (await _first_track(container, session_id))["votes"] == 0
