"""The first-time streamer's checklist (issue 11 item 17) on the dashboard and the control
page, each item with its fix link, and a prepare form that explains its fields and says when
"Automatic" playback will be manual."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import delete

from premiere_ecoute.accounts.models import OAuthCredential
from premiere_ecoute.demo import create_user
from tests.support.pages import browser, page_app
from tests.support.sessions import Cast, apply, ballot, prepare, prepared_and_started


def items(page: str) -> dict[str, tuple[str, str | None]]:
    """key -> (state, fix link) of the checklist on a page."""
    found = {}
    for key, state, body in re.findall(
        r'data-check="(\w+)" data-state="(\w+)">(.*?)</li>', page, flags=re.S
    ):
        link = re.search(r'href="([^"]+)" data-fix', body)
        found[key] = (state, link.group(1) if link else None)
    return found


@pytest.fixture
def app(container: Any) -> Any:
    return page_app(container)


async def test_the_dashboard_lists_what_a_first_show_needs_with_fix_links(
    container: Any, cast: Cast, app: Any
) -> None:
    async with browser(container, app, cast.streamer.id) as web:
        first = (await web.get("/")).text
    session_id = await prepared_and_started(container, cast.streamer)
    await apply(container, session_id, [ballot("v1", "7", container.clock.now())])
    async with browser(container, app, cast.streamer.id) as web:
        after_a_vote = (await web.get("/")).text
        control = (await web.get(f"/sessions/{session_id}")).text
    async with browser(container, app, cast.viewer.id) as web:
        viewer = (await web.get("/")).text

    listed = items(first)
    assert set(listed) == {"twitch", "spotify", "bot", "overlay", "vote"}
    assert listed["overlay"] == ("todo", "/sessions")
    assert listed["vote"] == ("todo", f"/live/{cast.streamer.login}")
    assert listed["twitch"][0] in ("ok", "todo")
    assert '<details class="card checklist" data-checklist open>' in first
    assert items(after_a_vote)["vote"] == ("ok", None)
    assert items(control)["overlay"] == ("todo", f"/sessions/{session_id}#overlay-builder")
    assert items(viewer) == {}


async def test_missing_twitch_scopes_and_an_unlinked_spotify_are_named(
    container: Any, app: Any
) -> None:
    streamer = await create_user(container, "streamerone", "streamer")
    async with container.db.session() as s, s.begin():
        await s.execute(
            delete(OAuthCredential).where(
                OAuthCredential.user_id == streamer.id, OAuthCredential.provider == "spotify"
            )
        )
        await s.execute(
            OAuthCredential.__table__.update()
            .where(OAuthCredential.user_id == streamer.id, OAuthCredential.provider == "twitch")
            .values(scopes="user:read:chat")
        )
    async with browser(container, app, streamer.id) as web:
        page = (await web.get("/")).text
        form = (await web.get("/sessions/new")).text

    listed = items(page)
    assert listed["twitch"] == ("todo", "/auth/twitch/login")
    assert "Missing permissions: user:write:chat" in page
    assert listed["spotify"] == ("optional", "/auth/spotify/login")
    assert "Automatic (manual: Spotify is not linked)" in form
    assert "How far your stream lags behind you" in form  # the delay field explained
    assert "A new poll starts at every track change" in form  # and the poll duration
    await prepare(container, streamer)  # automatic playback with no Spotify: manual


async def test_with_spotify_linked_automatic_says_spotify(
    container: Any, cast: Cast, app: Any
) -> None:
    async with browser(container, app, cast.streamer.id) as web:
        form = (await web.get("/sessions/new")).text

    assert "Automatic (Spotify)" in form and "Spotify is not linked" not in form
