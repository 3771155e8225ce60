"""The home page: a landing page for visitors, a dashboard for a logged-in streamer."""

from __future__ import annotations

from typing import Any

from premiere_ecoute.accounts.queries import user_by_login
from premiere_ecoute.demo import seed
from tests.support.pages import browser, page_app


async def test_visitor_sees_the_landing_page(container: Any) -> None:
    async with browser(container, page_app(container)) as client:
        page = await client.get("/")
    assert page.status_code == 200 and "Log in with Twitch" in page.text


async def test_streamer_dashboard_lists_their_finished_session_with_its_score(
    container: Any,
) -> None:
    made = await seed(container, viewers=8)
    async with container.db.session() as s:
        streamer = await user_by_login(s, "demostreamer")
    assert streamer is not None
    async with browser(container, page_app(container), streamer.id) as client:
        page = await client.get("/")
    assert page.status_code == 200
    assert "Welcome back, demostreamer" in page.text
    assert made["album"] in page.text
    assert f'href="/sessions/{made["session_id"]}' in page.text
    assert "No sessions yet" not in page.text


async def test_privacy_page_says_what_a_deletion_leaves_in_the_readers_language(
    container: Any,
) -> None:
    async with browser(container, page_app(container)) as client:
        english = await client.get("/legal/privacy")
        french = await client.get("/legal/privacy", headers={"accept-language": "fr"})
        unknown = await client.get("/legal/nothing")
    assert english.status_code == 200
    assert "your login and Twitch id are replaced by a random code" in english.text
    assert "dropped once it has been read; only votes are kept" in english.text
    assert "remplacés par un code aléatoire" in french.text
    assert unknown.status_code == 404
