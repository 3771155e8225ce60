"""Helpers of the page tests: an app on the test container, and browser sessions built by
signing the session cookie the way Starlette's SessionMiddleware does."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from itsdangerous import TimestampSigner

from premiere_ecoute.accounts.account import register_account_commands
from premiere_ecoute.web.app import create_app

CSRF = "test-csrf-token-0123456789"


def session_cookie(secret_key: str, data: dict[str, Any]) -> str:
    raw = base64.b64encode(json.dumps(data).encode("utf-8"))
    return TimestampSigner(secret_key).sign(raw).decode("utf-8")


def page_app(c: Any) -> Any:
    """The web app with the account and admin pages and their commands, whether or not the
    wiring already includes them."""
    from premiere_ecoute.web.routes import account_pages, admin_pages

    with contextlib.suppress(ValueError):  # already registered by the wiring
        register_account_commands(c.bus, c.services["encryptor"])
    app = create_app(c, run_background=False)
    paths = {getattr(r, "path", "") for r in app.routes}
    if "/account" not in paths:
        app.include_router(account_pages.router)
    if "/admin" not in paths:
        app.include_router(admin_pages.router)
    return app


@asynccontextmanager
async def browser(
    c: Any, app: Any, user_id: int | None = None, **session: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose signed session holds ``user_id`` and the CSRF token ``CSRF``."""
    data: dict[str, Any] = {"csrf": CSRF, **session}
    if user_id is not None:
        data["user_id"] = user_id
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"accept": "text/html"},
        cookies={"pe_session": session_cookie(c.settings.secret_key, data)},
    )
    async with client:
        yield client


def form(**values: Any) -> dict[str, Any]:
    return {"csrf_token": CSRF, **values}
