"""Who is calling: a personal API token (Bearer) for the JSON API, the signed browser
session for pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from premiere_ecoute.accounts.models import User
from premiere_ecoute.accounts.queries import user_by_id
from premiere_ecoute.accounts.repository import authenticate_api_token
from premiere_ecoute.core.errors import N_, Unauthorized, refuse
from premiere_ecoute.web.deps import deps

# Declared in the OpenAPI document (``components.securitySchemes``), so the API docs'
# "Authorize" button sends the token with "Try it out". Its own 401 stays ours (auto_error off).
BEARER = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="personal API token",
    description="A personal API token, created on the account page.",
    auto_error=False,
)


async def api_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
) -> User:
    token = credentials.credentials.strip() if credentials else ""
    if not token:
        raise refuse(
            Unauthorized, N_("Send a personal API token: 'Authorization: Bearer <token>'.")
        )
    c = deps(request)
    async with c.db.session() as s:
        user = await authenticate_api_token(s, token)
        await s.commit()
    if user is None:
        raise refuse(Unauthorized, N_("This API token is unknown or revoked."))
    return user


async def page_user(request: Request) -> User | None:
    user_id = request.session.get("user_id")
    if not user_id:
        return None
    c = deps(request)
    async with c.db.session() as s:
        return await user_by_id(s, int(user_id))
