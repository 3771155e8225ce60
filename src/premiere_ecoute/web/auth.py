"""Who is calling: a personal API token (Bearer) for the JSON API, a server-side browser
session for pages.

The signed cookie holds ``user_id`` (who the pages show: the user, or the one an admin
impersonates) and ``sid``, the id of a row of ``web_sessions`` that belongs to whoever logged
in. A cookie whose row is gone (logout, "log out everywhere", a role change, an account
deletion), idle for 7 days or 30 days old, opens nothing: a copied cookie stops working as
soon as its session ends. A session in use is renewed at most once a day."""

from __future__ import annotations

from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from premiere_ecoute.accounts.models import User
from premiere_ecoute.accounts.queries import live_web_session, user_by_id
from premiere_ecoute.accounts.repository import (
    authenticate_api_token,
    end_web_session,
    open_web_session,
    renew_web_session,
)
from premiere_ecoute.core.errors import N_, Unauthorized, refuse
from premiere_ecoute.web.deps import deps

USER_KEY = "user_id"
SESSION_ID_KEY = "sid"
IMPERSONATOR_KEY = "impersonator_id"

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
    """The user the pages show, or None: anonymous, or the browser session has ended (then
    the cookie is emptied)."""
    user_id = request.session.get(USER_KEY)
    if not user_id:
        return None
    session_id = request.session.get(SESSION_ID_KEY)
    if not isinstance(session_id, str) or not session_id:
        request.session.clear()
        return None
    owner_id = int(request.session.get(IMPERSONATOR_KEY) or user_id)
    c = deps(request)
    async with c.db.session() as s:
        live = await live_web_session(s, session_id)
        if live is None or live.user_id != owner_id:
            request.session.clear()
            return None
        if live.needs_renewal:
            await renew_web_session(s, live.id_hash)
            await s.commit()
        return await user_by_id(s, int(user_id))


async def log_in(request: Request, user_id: int) -> None:
    """A fresh cookie session for ``user_id``: nothing from before (e.g. an impersonation)
    carries over, and a new server session backs it."""
    async with deps(request).db.session() as s:
        session_id = await open_web_session(s, user_id)
        await s.commit()
    request.session.clear()
    request.session[USER_KEY] = user_id
    request.session[SESSION_ID_KEY] = session_id


async def log_out(request: Request) -> None:
    """End this browser's server session and empty its cookie."""
    session_id = request.session.get(SESSION_ID_KEY)
    if isinstance(session_id, str) and session_id:
        async with deps(request).db.session() as s:
            await end_web_session(s, session_id)
            await s.commit()
    request.session.clear()


def current_session_id(request: Request) -> str | None:
    session_id = request.session.get(SESSION_ID_KEY)
    return session_id if isinstance(session_id, str) and session_id else None
