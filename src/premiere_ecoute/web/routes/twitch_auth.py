"""Log in with Twitch (SPEC §1): authorization code, a random ``state`` bound to the signed
browser session and used once, our user created or updated from the Twitch profile."""

from __future__ import annotations

import hmac

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from premiere_ecoute.accounts.commands import LinkConnection, SignInWithTwitch
from premiere_ecoute.apis.twitch.follows import import_twitch_follows
from premiere_ecoute.apis.twitch.models import TWITCH_SCOPES, TwitchUser
from premiere_ecoute.apis.twitch.oauth import TokenRefused, authorize_url, new_state
from premiere_ecoute.config import browser_auth_urls
from premiere_ecoute.core.errors import N_, DomainError, refuse, refuse_as
from premiere_ecoute.web.auth import log_in, log_out
from premiere_ecoute.web.deps import WebDeps, deps
from premiere_ecoute.web.forms import checked_form

router = APIRouter(include_in_schema=False)
log = structlog.get_logger(__name__)
STATE_KEY = "twitch_oauth_state"
NEXT_KEY = "twitch_oauth_next"
CALLBACK_PATH = "/auth/twitch/callback"


class LoginRefused(DomainError):
    status_code = 400
    code = "login_refused"


def redirect_uri(c: WebDeps) -> str:
    return c.settings.base_url + CALLBACK_PATH


@router.get("/auth/twitch/login")
async def twitch_login(request: Request, grant: bool = False) -> RedirectResponse:
    """``grant``: a streamer who logged in before a scope was asked (stream markers) grants
    every scope again; Twitch shows its consent page, and the account page follows."""
    c = deps(request)
    state = new_state()
    request.session[STATE_KEY] = state
    if grant:
        request.session[NEXT_KEY] = "/account"
    else:
        request.session.pop(NEXT_KEY, None)
    url = authorize_url(
        c.settings.twitch_client_id or "fake-twitch-client",
        redirect_uri(c),
        state,
        TWITCH_SCOPES,
        auth_url=browser_auth_urls(c.settings)[0],
        force_verify=grant,
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
    c = deps(request)
    # Single use: whatever happens next, this state cannot be replayed.
    expected = request.session.pop(STATE_KEY, None)
    after = "/account" if request.session.pop(NEXT_KEY, None) == "/account" else "/"
    if not isinstance(expected, str) or not state or not _same(expected, state):
        log.info("accounts.twitch_login.state_mismatch", had_state=bool(expected))
        raise refuse(
            LoginRefused,
            N_("This Twitch login link is invalid or was already used. Start the login again."),
        )
    if error:
        raise refuse(
            LoginRefused,
            N_("Twitch login was cancelled: %(reason)s"),
            reason=error_description or error,
        )
    if not code:
        raise refuse(
            LoginRefused,
            N_("Twitch did not send an authorization code. Start the login again."),
        )
    oauth = c.twitch.oauth
    try:
        tokens = await oauth.exchange_code(code, redirect_uri(c))
    except TokenRefused as exc:
        raise refuse_as(LoginRefused, exc) from exc
    profile: TwitchUser = await c.twitch.get_current_user(tokens.access_token)
    user, created = await c.bus.execute(
        SignInWithTwitch(
            twitch_user_id=profile.id,
            login=profile.login,
            display_name=profile.display_name,
            broadcaster_type=profile.broadcaster_type,
        ),
        actor="twitch-login",
    )
    user_id = user.id
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
    await _import_follows(c, user_id)
    # A fresh session on login: nothing from before (e.g. an impersonation) carries over.
    await log_in(request, user_id)
    if created:
        request.session["first_login"] = True  # the dashboard greets a newcomer, once
    log.info("accounts.twitch_login.succeeded", user_id=user_id)
    return RedirectResponse(after, status_code=303)


@router.post("/auth/logout")
async def logout(request: Request) -> RedirectResponse:
    await checked_form(request)  # a cross-site form cannot log people out
    await log_out(request)
    return RedirectResponse("/", status_code=303)


async def _import_follows(c: WebDeps, user_id: int) -> None:
    """The dashboard's "Live now" is right from the first page: the Twitch follows are
    imported now, not at the next hourly sync. Twitch failing here does not stop the login
    (the hourly job tries again)."""
    try:
        await import_twitch_follows(c.db, c.credentials, c.twitch, user_id)
    except DomainError as exc:
        log.warning("accounts.follows.login_sync_failed", user_id=user_id, reason=exc.message)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))
