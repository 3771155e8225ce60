"""The OBS overlay page: one URL per streamer, options from the query string."""

from __future__ import annotations

from typing import Any

from premiere_ecoute.demo import create_user
from tests.support.pages import browser, page_app


async def test_overlay_shows_the_idle_text_and_clamps_bad_options(container: Any) -> None:
    await create_user(container, "obsstreamer", "streamer")
    async with browser(container, page_app(container)) as client:
        page = await client.get(
            "/overlay/obsstreamer?mode=nope&theme=neon&scale=nan&idle=Back+soon"
        )
        missing = await client.get("/overlay/nobody")
    assert page.status_code == 200
    assert "Back soon" in page.text
    assert "/overlay/obsstreamer/stream" in page.text
    assert "overlay-theme-dark overlay-mode-full" in page.text  # unknown values fall back
    assert "--zoom: 1.0" in page.text
    assert missing.status_code == 404


async def test_control_page_builder_offers_the_idle_text(container: Any) -> None:
    from tests.support.sessions import prepare

    streamer = await create_user(container, "builder", "streamer")
    session_id = await prepare(container, streamer)
    async with browser(container, page_app(container), streamer.id) as client:
        page = await client.get(f"/sessions/{session_id}")
    assert page.status_code == 200
    assert 'data-overlay-param="idle"' in page.text
