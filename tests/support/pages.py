"""Helpers of the page tests: an app on the test container, and browser sessions built by
signing the session cookie the way Starlette's SessionMiddleware does."""

from __future__ import annotations

import base64
import json
import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from itsdangerous import TimestampSigner

from premiere_ecoute.accounts.repository import open_web_session
from premiere_ecoute.bootstrap import web_app
from premiere_ecoute.core.crypto import hash_token

CSRF = "test-csrf-token-0123456789"

# Where the browser tests leave their screenshots: a temporary folder, so a test run leaves the
# checkout as it found it; `SCREENSHOTS_DIR=docs/screenshots scripts/test tests/e2e` refreshes
# the pictures the documentation shows.
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "premiere-ecoute-screenshots"
)


def session_cookie(secret_key: str, data: dict[str, Any]) -> str:
    raw = base64.b64encode(json.dumps(data).encode("utf-8"))
    return TimestampSigner(secret_key).sign(raw).decode("utf-8")


async def login_session(c: Any, user_id: int) -> str:
    """A server-side browser session of ``user_id``, as a login opens one; its cookie id."""
    async with c.db.session() as s:
        session_id = await open_web_session(s, user_id)
        await s.commit()
    return str(session_id)


def login_session_now(database_url: str, user_id: int) -> str:
    """The same, from synchronous code (a client factory): the row is written directly."""
    session_id = secrets.token_urlsafe(32)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO web_sessions (id_hash, user_id) VALUES (%s, %s)",
            (hash_token(session_id), user_id),
        )
    return session_id


def page_app(c: Any) -> Any:
    return web_app(c, run_background=False)


@asynccontextmanager
async def browser(
    c: Any, app: Any, user_id: int | None = None, **session: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose signed session holds ``user_id`` (logged in: a server session of that
    user, or of the impersonating admin, backs it) and the CSRF token ``CSRF``."""
    data: dict[str, Any] = {"csrf": CSRF, **session}
    if user_id is not None:
        data["user_id"] = user_id
        if "sid" not in data:
            data["sid"] = await login_session(c, int(session.get("impersonator_id") or user_id))
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


async def signed_in_cookie(c: Any, user_id: int, **extra: Any) -> str:
    """The ``pe_session`` cookie of a browser logged in as ``user_id``, backed by a server
    session as a real login opens one."""
    sid = await login_session(c, user_id)
    return session_cookie(c.settings.secret_key, {"user_id": user_id, "sid": sid, **extra})
