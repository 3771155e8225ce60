"""Log in with Twitch against the fake (SPEC §1)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from premiere_ecoute.accounts.models import OAuthCredential, User
from premiere_ecoute.apis.twitch.fake.identity import fake_user_id

OLD_SCOPES = (
    "user:read:chat user:write:chat user:bot channel:bot channel:read:polls "
    "channel:manage:polls moderator:manage:announcements user:read:follows"
)
SCOPES = OLD_SCOPES + " channel:manage:broadcast"


@pytest.fixture
def settings(clean_db: str) -> Any:
    from tests.conftest import make_settings

    return make_settings(database_url=clean_db, bot_login="premiere_bot", admin_logins="viewer_bob")


async def _authorize(client: httpx.AsyncClient, login: str) -> httpx.Response:
    """The browser's round trip: our login -> the fake's login page -> our callback."""
    start = await client.get("/auth/twitch/login")
    assert start.status_code == 302
    target = urlsplit(start.headers["location"])
    assert target.path == "/_fake/twitch/oauth2/authorize"
    picked = await client.post(f"{target.path}?{target.query}", data={"login": login})
    assert picked.status_code == 302
    back = urlsplit(picked.headers["location"])
    return await client.get(f"{back.path}?{back.query}")


async def _user(c: Any, login: str) -> User | None:
    async with c.db.session() as s:
        return await s.scalar(select(User).where(User.login == login))


async def test_login_asks_the_spec_scopes_with_a_random_state(
    fake_client: httpx.AsyncClient,
) -> None:
    first = await fake_client.get("/auth/twitch/login")
    second = await fake_client.get("/auth/twitch/login")

    q1 = parse_qs(urlsplit(first.headers["location"]).query)
    q2 = parse_qs(urlsplit(second.headers["location"]).query)
    assert q1["scope"] == [SCOPES]
    assert q1["redirect_uri"] == ["http://testserver/auth/twitch/callback"]
    assert len(q1["state"][0]) >= 32 and q1["state"] != q2["state"]


@pytest.mark.parametrize(
    ("login", "role"),
    [
        ("partner_dj", "streamer"),
        ("streamer", "streamer"),
        ("viewer_alice", "viewer"),
        ("viewer_bob", "admin"),
        ("premiere_bot", "bot"),
    ],
)
async def test_first_login_creates_the_user_with_the_role_of_the_spec(
    fake_container: Any, fake_client: httpx.AsyncClient, login: str, role: str
) -> None:
    done = await _authorize(fake_client, login)

    assert done.status_code == 303 and done.headers["location"] == "/"
    user = await _user(fake_container, login)
    assert user is not None and user.role == role
    assert user.twitch_user_id == fake_user_id(login)
    async with fake_container.db.session() as s:
        cred = await s.scalar(select(OAuthCredential).where(OAuthCredential.user_id == user.id))
    assert cred is not None and cred.provider == "twitch" and "user:read:follows" in cred.scopes
    token = await fake_container.credentials.twitch(user.twitch_user_id)
    assert token.access_token.startswith("fake-twitch-" + login)
    home = await fake_client.get("/", headers={"Accept": "text/html"})
    assert "Log out" in home.text


async def test_second_login_updates_the_same_user(
    fake_container: Any, fake_client: httpx.AsyncClient
) -> None:
    await _authorize(fake_client, "viewer_alice")
    await fake_client.post("/auth/logout")
    again = await _authorize(fake_client, "viewer_alice")

    async with fake_container.db.session() as s:
        users = list(await s.scalars(select(User)))
    assert again.status_code == 303 and [u.login for u in users] == ["viewer_alice"]
    assert users[0].display_name == "Viewer_alice"


async def test_a_callback_whose_state_does_not_match_is_refused(
    fake_container: Any, fake_client: httpx.AsyncClient
) -> None:
    start = await fake_client.get("/auth/twitch/login")
    target = urlsplit(start.headers["location"])
    picked = await fake_client.post(f"{target.path}?{target.query}", data={"login": "streamer"})
    back = urlsplit(picked.headers["location"])
    code = parse_qs(back.query)["code"][0]

    forged = await fake_client.get(f"{back.path}?code={code}&state=attacker-chosen-state")
    replay = await fake_client.get(f"{back.path}?{back.query}")

    assert forged.status_code == 400 and "invalid or was already used" in forged.text
    assert replay.status_code == 400  # the state was spent by the forged attempt
    assert await _user(fake_container, "streamer") is None


async def test_a_callback_without_a_login_in_progress_is_refused(
    fake_client: httpx.AsyncClient,
) -> None:
    r = await fake_client.get(
        "/auth/twitch/callback?code=abc&state=xyz", headers={"Accept": "text/html"}
    )

    assert r.status_code == 400 and "Start the login again" in r.text


async def test_logout_forgets_the_user(fake_client: httpx.AsyncClient) -> None:
    await _authorize(fake_client, "streamer")

    forged = await fake_client.post("/auth/logout")  # no CSRF token: refused
    page = await fake_client.get("/", headers={"Accept": "text/html"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert forged.status_code == 403 and "Log out" in page.text and token is not None
    out = await fake_client.post("/auth/logout", data={"csrf_token": token[1]})
    home = await fake_client.get("/", headers={"Accept": "text/html"})

    assert out.status_code == 303 and "Log out" not in home.text


async def test_a_streamer_who_logged_in_before_markers_grants_them_from_the_account_page(
    fake_container: Any, fake_client: httpx.AsyncClient
) -> None:
    # A login from before stream markers: the scopes asked then.
    start = await fake_client.get("/auth/twitch/login")
    target = urlsplit(start.headers["location"])
    query = {k: v[0] for k, v in parse_qs(target.query).items()} | {"scope": OLD_SCOPES}
    picked = await fake_client.post(target.path, params=query, data={"login": "streamer"})
    back = urlsplit(picked.headers["location"])
    assert (await fake_client.get(f"{back.path}?{back.query}")).status_code == 303
    page = await fake_client.get("/account", headers={"Accept": "text/html"})
    assert "Not allowed" in page.text and "/auth/twitch/login?grant=1" in page.text
    # The markers of this streamer are refused by Twitch for want of the scope.
    assert "channel:manage:broadcast" not in fake_container.fakes.twitch.scopes_of("streamer")

    grant = await fake_client.get("/auth/twitch/login?grant=1")
    target = urlsplit(grant.headers["location"])
    asked = parse_qs(target.query)
    assert asked["scope"] == [SCOPES] and asked["force_verify"] == ["true"]
    picked = await fake_client.post(f"{target.path}?{target.query}", data={"login": "streamer"})
    back = urlsplit(picked.headers["location"])
    done = await fake_client.get(f"{back.path}?{back.query}")
    assert done.status_code == 303 and done.headers["location"] == "/account"
    page = await fake_client.get("/account", headers={"Accept": "text/html"})
    assert "Grant stream markers" not in page.text and "Allowed" in page.text
    assert "channel:manage:broadcast" in fake_container.fakes.twitch.scopes_of("streamer")
    # A plain login afterwards goes home again.
    again = await _authorize(fake_client, "streamer")
    assert again.headers["location"] == "/"
