"""The account page's small ones (issue 11 item 16): green "Connected" badges, a Reconnect
button once your own Spotify app is saved, and an API token made by post/redirect/get."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from premiere_ecoute.accounts.models import ApiToken
from premiere_ecoute.demo import create_user
from tests.support.pages import browser, form, page_app


async def test_connected_badges_are_green_not_the_red_of_live(container: Any) -> None:
    streamer = await create_user(container, "streamerone", "streamer")
    async with browser(container, page_app(container), streamer.id) as client:
        page = (await client.get("/account")).text

    badges = re.findall(r'<span class="badge ([\w-]+)">Connected</span>', page)
    assert badges and set(badges) == {"badge-ok"}
    css = await _static(container, "/static/app.css")
    assert ".badge-ok { background: color-mix(in srgb, var(--ok)" in css


async def _static(container: Any, path: str) -> str:
    async with browser(container, page_app(container)) as client:
        return (await client.get(path)).text


async def test_saving_your_own_spotify_app_offers_to_reconnect(container: Any) -> None:
    streamer = await create_user(container, "streamerone", "streamer")
    async with browser(container, page_app(container), streamer.id) as client:
        before = (await client.get("/account")).text
        saved = await client.post(
            "/account/spotify-app",
            data=form(client_id="a1b2c3d4e5f6a7b8c9d0", client_secret="f0e1d2c3b4a5f6e7d8c9"),
        )
        after = (await client.get(saved.headers["location"])).text

    assert "data-reconnect-spotify" not in before
    reconnect = re.search(r'<a [^>]*href="([^"]+)" data-reconnect-spotify>([^<]+)</a>', after)
    assert reconnect and reconnect.group(1) == "/auth/spotify/login"
    assert reconnect.group(2) == "Reconnect Spotify with my app"


async def test_reloading_after_creating_a_token_creates_no_second_one(container: Any) -> None:
    viewer = await create_user(container, "viewerone", "viewer")
    async with browser(container, page_app(container), viewer.id) as client:
        created = await client.post("/account/tokens", data=form(name="stream deck"))
        shown = await client.get(created.headers["location"])
        reloaded = await client.get(created.headers["location"])  # the browser's reload
    async with container.db.session() as s:
        count = await s.scalar(
            select(func.count()).select_from(ApiToken).where(ApiToken.user_id == viewer.id)
        )

    assert created.status_code == 303 and created.headers["location"] == "/account#tokens"
    assert 'class="token-value"' in shown.text
    assert 'class="token-value"' not in reloaded.text
    assert count == 1
