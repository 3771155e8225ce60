"""The JSON API's callers: one bearer token per role, on the app over ASGI (the ``api``
fixture, brought in by the conftest of the API tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from premiere_ecoute.accounts.models import User
from premiere_ecoute.bootstrap import web_app
from premiere_ecoute.demo import create_token, create_user


@dataclass
class Caller:
    user: User
    headers: dict[str, str]


@dataclass
class Api:
    http: httpx.AsyncClient
    streamer: Caller
    rival: Caller
    viewer: Caller
    admin: Caller


async def _caller(c: Any, login: str, role: str) -> Caller:
    user = await create_user(c, login, role)
    token = await create_token(c, user.id, "tests")
    return Caller(user, {"Authorization": f"Bearer {token}"})


@pytest.fixture
async def api(container: Any) -> AsyncIterator[Api]:
    app = web_app(container, run_background=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield Api(
            http=http,
            streamer=await _caller(container, "apistreamer", "streamer"),
            rival=await _caller(container, "apirival", "streamer"),
            viewer=await _caller(container, "apiviewer", "viewer"),
            admin=await _caller(container, "apiadmin", "admin"),
        )
