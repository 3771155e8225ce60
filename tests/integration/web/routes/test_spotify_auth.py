"""Linking Spotify through the web app and the fake Spotify's sign-in page (PKCE, state)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import Request

from premiere_ecoute.accounts.commands import RegisterUser
from premiere_ecoute.accounts.models import User
from premiere_ecoute.web.auth import log_in
from premiere_ecoute.web.routes import spotify_auth


@pytest.fixture
async def browser(sc: Any) -> AsyncIterator[httpx.AsyncClient]:
    from premiere_ecoute.bootstrap import web_app

    app = web_app(sc, run_background=False)
    if not any(getattr(r, "path", "") == "/auth/spotify/login" for r in app.routes):
        app.include_router(spotify_auth.router)

    async def sign_in(request: Request, user_id: int) -> dict[str, bool]:
        await log_in(request, user_id)  # stands in for the Twitch login
        return {"ok": True}

    app.add_api_route("/_test/sign-in/{user_id}", sign_in, methods=["POST"])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def _user(c: Any, browser: httpx.AsyncClient, login: str = "linker") -> User:
    user: User = await c.bus.execute(RegisterUser(login=login, role="streamer"))
    assert (await browser.post(f"/_test/sign-in/{user.id}")).status_code == 200
    return user


async def _authorize(browser: httpx.AsyncClient, account: str = "linker") -> str:
    """Start linking and approve on the fake Spotify page; return the callback URL."""
    start = await browser.get("/auth/spotify/login")
    assert start.status_code == 303
    url = urlsplit(start.headers["location"])
    assert url.path == "/_fake/spotify/authorize"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["code_challenge_method"] == "S256" and len(query["state"]) >= 32
    assert query["redirect_uri"] == "http://testserver/auth/spotify/callback"
    form = {k: query[k] for k in ("client_id", "redirect_uri", "state", "code_challenge")}
    form.update(code_challenge_method="S256", account=account, decision="allow")
    approved = await browser.post("/_fake/spotify/authorize", data=form)
    assert approved.status_code == 303
    return str(approved.headers["location"])


async def test_linking_spotify_stores_encrypted_tokens(sc: Any, browser: httpx.AsyncClient) -> None:
    user = await _user(sc, browser)

    done = await browser.get(await _authorize(browser))

    assert done.status_code == 303 and done.headers["location"] == "/account"
    creds = await sc.credentials.spotify(user.id)
    assert creds.access_token.startswith("fake-spotify-at-") and creds.refresh_token
    # The linked tokens drive that account's player.
    assert await sc.ports.playback.ensure_device(user.id)
    async with sc.db.session() as s:
        from sqlalchemy import select

        from premiere_ecoute.accounts.models import OAuthCredential

        row = await s.scalar(select(OAuthCredential).where(OAuthCredential.user_id == user.id))
    assert row.access_token_enc != creds.access_token and row.external_id


async def test_replayed_state_is_refused(sc: Any, browser: httpx.AsyncClient) -> None:
    await _user(sc, browser)
    callback = await _authorize(browser)
    assert (await browser.get(callback)).status_code == 303

    replay = await browser.get(callback)

    assert replay.status_code == 400
    assert "already used" in replay.json()["error"]["message"]


async def test_forged_state_is_refused_and_links_nothing(
    sc: Any, browser: httpx.AsyncClient
) -> None:
    from premiere_ecoute.core.errors import InvalidState

    user = await _user(sc, browser)
    callback = await _authorize(browser)
    forged = callback.replace("state=", "state=forged")

    refused = await browser.get(forged)

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "spotify_sign_in_refused"
    with pytest.raises(InvalidState):
        await sc.credentials.spotify(user.id)


async def test_state_from_another_browser_is_refused(sc: Any, browser: httpx.AsyncClient) -> None:
    await _user(sc, browser)
    callback = await _authorize(browser)
    browser.cookies.clear()
    await _user(sc, browser, login="intruder")

    assert (await browser.get(callback)).status_code == 400


async def test_linking_requires_a_signed_in_user(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/auth/spotify/login")

    assert response.status_code == 401
    assert "Log in with Twitch first" in response.json()["error"]["message"]


async def test_streamer_own_spotify_app_is_used_for_sign_in(
    sc: Any, browser: httpx.AsyncClient
) -> None:
    user = await _user(sc, browser)
    async with sc.db.session() as s:
        row = await s.get(User, user.id)
        row.spotify_client_id = "own-app-id"
        row.spotify_client_secret_enc = sc.encryptor.encrypt("own-app-secret")
        await s.commit()

    callback = await _authorize(browser)
    assert parse_qs(urlsplit(callback).query)["code"]
    assert (await browser.get(callback)).status_code == 303

    creds = await sc.credentials.spotify(user.id)
    assert creds.client_id == "own-app-id" and creds.client_secret == "own-app-secret"


async def test_disconnect_removes_the_spotify_connection(
    sc: Any, browser: httpx.AsyncClient
) -> None:
    from premiere_ecoute.core.errors import InvalidState

    user = await _user(sc, browser)
    await browser.get(await _authorize(browser))

    forged = await browser.post("/auth/spotify/disconnect")  # no CSRF token: refused
    page = await browser.get("/", headers={"Accept": "text/html"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert forged.status_code == 403 and token is not None
    await sc.credentials.spotify(user.id)  # still linked
    response = await browser.post("/auth/spotify/disconnect", data={"csrf_token": token[1]})

    assert response.status_code == 303
    with pytest.raises(InvalidState, match="Connect your Spotify account first"):
        await sc.credentials.spotify(user.id)
