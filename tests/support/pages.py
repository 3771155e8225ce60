"""Helpers of the page tests: an app on the test container, and browser sessions built by
signing the session cookie the way Starlette's SessionMiddleware does."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from itsdangerous import TimestampSigner

from premiere_ecoute.bootstrap import web_app

CSRF = "test-csrf-token-0123456789"


def session_cookie(secret_key: str, data: dict[str, Any]) -> str:
    raw = base64.b64encode(json.dumps(data).encode("utf-8"))
    return TimestampSigner(secret_key).sign(raw).decode("utf-8")


def page_app(c: Any) -> Any:
    return web_app(c, run_background=False)


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
