"""Browser sessions live on the server (issue 10 finding 5): logout, "log out everywhere", a
role change and an account deletion end them, so a copied cookie stops working; a session
idle for 7 days ends, one in use is renewed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from premiere_ecoute.accounts.commands import ChangeRole, DeleteAccount
from premiere_ecoute.accounts.models import WebSession
from premiere_ecoute.accounts.repository import prune_web_sessions
from premiere_ecoute.demo import create_user
from tests.support.pages import browser, form, login_session, page_app, session_cookie

pytestmark = pytest.mark.asyncio


async def _open(client: httpx.AsyncClient) -> int:
    return (await client.get("/account")).status_code


async def _sessions(c: Any, user_id: int) -> int:
    async with c.db.session() as s:
        n = await s.scalar(
            select(func.count()).select_from(WebSession).where(WebSession.user_id == user_id)
        )
    return int(n or 0)


def _thief(app: Any, cookie: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"accept": "text/html"},
        cookies={"pe_session": cookie},
    )


async def test_a_cookie_copied_before_logout_opens_nothing_after(container: Any) -> None:
    user = await create_user(container, "viewerone", "viewer")
    app = page_app(container)
    async with browser(container, app, user.id) as client:
        assert await _open(client) == 200
        copied = client.cookies["pe_session"]
        out = await client.post("/auth/logout", data=form())
        assert out.status_code == 303
        assert await _open(client) == 303
    async with _thief(app, copied) as thief:
        assert await _open(thief) == 303  # to the login page
    assert await _sessions(container, user.id) == 0


async def test_a_cookie_without_a_server_session_opens_nothing(container: Any) -> None:
    """What every cookie signed before this version holds: a user id and no session."""
    user = await create_user(container, "viewerone", "viewer")
    app = page_app(container)
    cookie = session_cookie(container.settings.secret_key, {"user_id": user.id})
    async with _thief(app, cookie) as old:
        assert await _open(old) == 303


async def test_log_out_everywhere_ends_every_browser_of_the_user(container: Any) -> None:
    user = await create_user(container, "viewerone", "viewer")
    other = await create_user(container, "viewertwo", "viewer")
    app = page_app(container)
    async with (
        browser(container, app, user.id) as laptop,
        browser(container, app, user.id) as phone,
        browser(container, app, other.id) as someone_else,
    ):
        page = await laptop.get("/account")
        assert "/account/sessions/end" in page.text
        assert await _sessions(container, user.id) == 2
        out = await laptop.post("/account/sessions/end", data=form())
        assert out.status_code == 303
        assert await _open(laptop) == 303
        assert await _open(phone) == 303
        assert await _open(someone_else) == 200
    assert await _sessions(container, user.id) == 0


async def test_an_admin_role_change_ends_the_users_sessions(container: Any) -> None:
    admin = await create_user(container, "theadmin", "admin")
    user = await create_user(container, "viewerone", "viewer")
    app = page_app(container)
    async with browser(container, app, user.id) as client:
        assert await _open(client) == 200
        await container.bus.execute(
            ChangeRole(actor_id=admin.id, user_id=user.id, role="streamer"), actor="test"
        )
        assert await _open(client) == 303


async def test_switching_ones_own_role_keeps_this_browser_and_ends_the_others(
    container: Any,
) -> None:
    user = await create_user(container, "viewerone", "viewer")
    app = page_app(container)
    async with (
        browser(container, app, user.id) as here,
        browser(container, app, user.id) as elsewhere,
    ):
        switched = await here.post("/account/role", data=form(role="streamer"))
        assert switched.status_code == 303
        assert await _open(here) == 200
        assert await _open(elsewhere) == 303


async def test_deleting_the_account_ends_its_sessions(container: Any) -> None:
    admin = await create_user(container, "theadmin", "admin")
    user = await create_user(container, "viewerone", "viewer")
    app = page_app(container)
    async with browser(container, app, user.id) as client:
        assert await _open(client) == 200
        await container.bus.execute(
            DeleteAccount(actor_id=admin.id, user_id=user.id, confirm_login="viewerone"),
            actor="test",
        )
        assert await _open(client) == 303
    assert await _sessions(container, user.id) == 0


async def test_an_idle_session_ends_and_a_used_one_is_renewed(container: Any) -> None:
    user = await create_user(container, "viewerone", "viewer")
    app = page_app(container)
    async with browser(container, app, user.id) as used, browser(container, app, user.id) as idle:
        async with container.db.session() as s:
            await s.execute(
                text("UPDATE web_sessions SET last_seen_at = now() - interval '2 days'")
            )
            await s.commit()
        assert await _open(used) == 200  # 2 days idle: still valid, and renewed
        async with container.db.session() as s:
            ages = await s.scalars(
                text("SELECT extract(epoch FROM now() - last_seen_at) FROM web_sessions")
            )
            assert sorted(float(a) < 60 for a in ages) == [False, True]
            await s.execute(
                text(
                    "UPDATE web_sessions SET last_seen_at = now() - interval '8 days' "
                    "WHERE last_seen_at < now() - interval '1 day'"
                )
            )
            await s.commit()
        assert await _open(idle) == 303  # 8 days idle: ended
        assert await _open(used) == 200


async def test_sessions_that_can_no_longer_be_used_are_pruned(container: Any) -> None:
    user = await create_user(container, "viewerone", "viewer")
    for _ in range(3):
        await login_session(container, user.id)
    async with container.db.session() as s:
        await s.execute(
            text(
                "UPDATE web_sessions SET last_seen_at = now() - interval '8 days' "
                "WHERE id_hash = (SELECT min(id_hash) FROM web_sessions)"
            )
        )
        await s.execute(
            text(
                "UPDATE web_sessions SET created_at = now() - interval '31 days' "
                "WHERE id_hash = (SELECT max(id_hash) FROM web_sessions)"
            )
        )
        assert await prune_web_sessions(s) == 2
        await s.commit()
    assert await _sessions(container, user.id) == 1
