"""Log in with Twitch (SPEC §1): authorization code, a random ``state`` bound to the signed
browser session and used once, our user created or updated from the Twitch profile."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.accounts.commands import LinkConnection, RegisterUser
from premiere_ecoute.accounts.events import RoleChanged
from premiere_ecoute.accounts.models import Role, User
from premiere_ecoute.accounts.queries import user_by_login, user_by_twitch_id
from premiere_ecoute.accounts.service import role_for
from premiere_ecoute.apis.twitch.models import TWITCH_SCOPES, TwitchUser
from premiere_ecoute.apis.twitch.oauth import TokenRefused, authorize_url, new_state
from premiere_ecoute.config import browser_auth_urls
from premiere_ecoute.core.errors import Conflict, DomainError
from premiere_ecoute.core.event_store import NewEvent
from premiere_ecoute.web.deps import container_of

if TYPE_CHECKING:
    from premiere_ecoute.bootstrap import Container

router = APIRouter(include_in_schema=False)
log = structlog.get_logger(__name__)
STATE_KEY = "twitch_oauth_state"
CALLBACK_PATH = "/auth/twitch/callback"


class LoginRefused(DomainError):
    status_code = 400
    code = "login_refused"


def redirect_uri(c: Container) -> str:
    return c.settings.base_url + CALLBACK_PATH


@router.get("/auth/twitch/login")
async def twitch_login(request: Request) -> RedirectResponse:
    c = container_of(request)
    state = new_state()
    request.session[STATE_KEY] = state
    url = authorize_url(
        c.settings.twitch_client_id or "fake-twitch-client",
        redirect_uri(c),
        state,
        TWITCH_SCOPES,
        auth_url=browser_auth_urls(c.settings)[0],
    )
    return RedirectResponse(url, status_code=302)


@router.get(CALLBACK_PATH)
async def twitch_callback(
    request: Request,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> RedirectResponse:
    c = container_of(request)
    # Single use: whatever happens next, this state cannot be replayed.
    expected = request.session.pop(STATE_KEY, None)
    if not isinstance(expected, str) or not state or not _same(expected, state):
        log.info("accounts.twitch_login.state_mismatch", had_state=bool(expected))
        raise LoginRefused(
            "This Twitch login link is invalid or was already used. Start the login again."
        )
    if error:
        raise LoginRefused(f"Twitch login was cancelled: {error_description or error}")
    if not code:
        raise LoginRefused("Twitch did not send an authorization code. Start the login again.")
    oauth = c.services["twitch"].oauth
    try:
        tokens = await oauth.exchange_code(code, redirect_uri(c))
    except TokenRefused as exc:
        raise LoginRefused(exc.message) from exc
    profile: TwitchUser = await c.services["twitch"].get_current_user(tokens.access_token)
    user_id = await upsert_twitch_user(c, profile)
    await c.bus.execute(
        LinkConnection(
            user_id=user_id,
            provider="twitch",
            external_id=profile.id,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_at=tokens.expires_at,
            scopes=" ".join(tokens.scopes),
        ),
        actor=f"user:{user_id}",
    )
    # A fresh session on login: nothing from before (e.g. an impersonation) carries over.
    request.session.clear()
    request.session["user_id"] = user_id
    log.info("accounts.twitch_login.succeeded", user_id=user_id)
    return RedirectResponse("/", status_code=303)


@router.post("/auth/logout")
async def logout(request: Request) -> RedirectResponse:
    from premiere_ecoute.web.routes.forms import checked_form

    await checked_form(request)  # a cross-site form cannot log people out
    request.session.clear()
    return RedirectResponse("/", status_code=303)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


async def upsert_twitch_user(c: Container, profile: TwitchUser) -> int:
    """Our user for a Twitch profile: created at first login (affiliates and partners as
    streamers), else updated (display name, broadcaster type, ADMIN_LOGINS/BOT_LOGIN roles)."""
    login = profile.login.strip().lower()
    async with c.db.session() as s:
        user = await user_by_twitch_id(s, profile.id)
        if user is None:
            # A user made with the CLI before the first login is linked by its login.
            user = await user_by_login(s, login)
            if user is not None and user.twitch_user_id not in (None, profile.id):
                raise Conflict(
                    f"the login {login!r} belongs to another Twitch account here; "
                    "ask an admin to sort it out"
                )
        if user is not None:
            await _refresh_profile(c, s, user, profile)
            await s.commit()
            return user.id
    requested = Role.STREAMER.value if profile.can_run_polls else Role.VIEWER.value
    created: User = await c.bus.execute(
        RegisterUser(
            login=login,
            role=role_for(c, login, requested),
            display_name=profile.display_name or login,
            twitch_user_id=profile.id,
            broadcaster_type=profile.broadcaster_type,
        ),
        actor="twitch-login",
    )
    return created.id


async def _refresh_profile(c: Container, s: AsyncSession, user: User, profile: TwitchUser) -> None:
    user.twitch_user_id = profile.id
    user.display_name = profile.display_name or user.display_name
    user.broadcaster_type = profile.broadcaster_type
    role = role_for(c, user.login, user.role)
    if role != user.role:
        user.role = role
        event = RoleChanged(user_id=user.id, role=role)
        await c.store.append(
            s, [NewEvent(event.stream, event.type, event.payload(), c.clock.now(), {})]
        )
