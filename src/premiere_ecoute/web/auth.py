"""Who is calling: a personal API token (Bearer) for the JSON API, the signed browser
session for pages."""

from __future__ import annotations

from fastapi import Request

from premiere_ecoute.accounts.models import User
from premiere_ecoute.accounts.queries import user_by_id
from premiere_ecoute.accounts.repository import authenticate_api_token
from premiere_ecoute.core.errors import Unauthorized
from premiere_ecoute.web.deps import deps


async def api_user(request: Request) -> User:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send a personal API token: 'Authorization: Bearer <token>'.")
    c = deps(request)
    async with c.db.session() as s:
        user = await authenticate_api_token(s, token.strip())
        await s.commit()
    if user is None:
        raise Unauthorized("This API token is unknown or revoked.")
    return user


async def page_user(request: Request) -> User | None:
    user_id = request.session.get("user_id")
    if not user_id:
        return None
    c = deps(request)
    async with c.db.session() as s:
        return await user_by_id(s, int(user_id))
