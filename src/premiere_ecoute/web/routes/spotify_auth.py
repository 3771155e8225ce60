"""Link Spotify to a signed-in account (SPEC §1, §7): authorization code with PKCE and a
random, single-use ``state`` kept in the signed browser session.

A streamer who brought their own Spotify app (client id and secret on the account page) signs
in through it; everyone else through the instance's app.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from premiere_ecoute.accounts.commands import LinkConnection
from premiere_ecoute.accounts.models import SpotifyCredentials, User
from premiere_ecoute.apis.spotify.oauth import (
    SpotifyReconnectRequired,
    authorize_url,
    make_pkce,
)
from premiere_ecoute.config import browser_auth_urls
from premiere_ecoute.core.errors import (
    N_,
    DomainError,
    ExternalServiceError,
    Unauthorized,
    refuse,
)
from premiere_ecoute.web.auth import page_user
from premiere_ecoute.web.deps import WebDeps, deps
from premiere_ecoute.web.forms import checked_form

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/auth/spotify", include_in_schema=False)
PENDING = "spotify_oauth"
ACCOUNT_PAGE = "/account"


class SignInRefused(DomainError):
    status_code = 400
    code = "spotify_sign_in_refused"


def redirect_uri(c: WebDeps) -> str:
    return f"{c.settings.base_url}/auth/spotify/callback"


async def _signed_in(request: Request) -> User:
    user = await page_user(request)
    if user is None:
        raise refuse(Unauthorized, N_("Log in with Twitch first, then connect Spotify."))
    return user


def _app_of(c: WebDeps, user: User) -> tuple[str | None, str | None]:
    """The streamer's own Spotify app, or ``(None, None)`` for the instance's."""
    if user.spotify_client_id and user.spotify_client_secret_enc:
        secret = c.encryptor.decrypt(user.spotify_client_secret_enc)
        return user.spotify_client_id, secret
    return None, None


@router.get("/login")
async def login(request: Request) -> RedirectResponse:
    c = deps(request)
    user = await _signed_in(request)
    own_id, _ = _app_of(c, user)
    client_id = own_id or c.spotify.client_id
    verifier, challenge = make_pkce()
    state = secrets.token_urlsafe(32)
    request.session[PENDING] = {
        "state": state,
        "verifier": verifier,
        "user_id": user.id,
        "client_id": client_id,
    }
    accounts = browser_auth_urls(c.settings)[1]
    url = authorize_url(accounts, client_id, redirect_uri(c), state, challenge)
    log.info("accounts.spotify.sign_in_started", user_id=user.id, own_app=own_id is not None)
    return RedirectResponse(url, status_code=303)


def _check_pending(pending: Any, state: str, user: User) -> dict[str, Any]:
    valid = (
        isinstance(pending, dict)
        and bool(state)
        and isinstance(pending.get("state"), str)
        and hmac.compare_digest(pending["state"].encode(), state.encode())
        and pending.get("user_id") == user.id
    )
    if not valid:
        log.warning("accounts.spotify.state_refused", user_id=user.id)
        raise refuse(
            SignInRefused,
            N_(
                "This Spotify sign-in is not valid: it was already used, has expired or did "
                "not start in this browser. Connect Spotify again from your account page."
            ),
        )
    result: dict[str, Any] = pending
    return result


@router.get("/callback")
async def callback(
    request: Request, state: str = "", code: str = "", error: str = ""
) -> RedirectResponse:
    c = deps(request)
    user = await _signed_in(request)
    # Single use: the pending sign-in is gone whatever happens next.
    pending = _check_pending(request.session.pop(PENDING, None), state, user)
    if error:
        raise refuse(
            SignInRefused, N_("Spotify sign-in was not completed (%(error)s)."), error=error[:60]
        )
    if not code:
        raise refuse(
            SignInRefused, N_("Spotify sent no authorization code. Connect Spotify again.")
        )
    own_id, own_secret = _app_of(c, user)
    if (own_id or c.spotify.client_id) != pending.get("client_id"):
        raise refuse(
            SignInRefused, N_("Your Spotify app changed during sign-in. Connect Spotify again.")
        )
    client = c.spotify
    try:
        token = await client.exchange_code(
            code,
            redirect_uri=redirect_uri(c),
            code_verifier=str(pending.get("verifier", "")),
            client_id=own_id,
            client_secret=own_secret,
        )
    except SpotifyReconnectRequired as exc:
        raise refuse(
            SignInRefused,
            N_(
                "Spotify refused this sign-in (the code expired or was already used). "
                "Connect Spotify again."
            ),
        ) from exc
    external_id = None
    creds = SpotifyCredentials(
        user.id, token.access_token, token.refresh_token, token.expires_at, own_id, own_secret
    )
    try:
        external_id = (await client.current_user(creds)).id
    except ExternalServiceError as exc:
        log.info("accounts.spotify.profile_unavailable", user_id=user.id, error=exc.message)
    await c.bus.execute(
        LinkConnection(
            user_id=user.id,
            provider="spotify",
            external_id=external_id,
            access_token=token.access_token,
            refresh_token=token.refresh_token,
            expires_at=token.expires_at,
            scopes=token.scope,
        ),
        actor=user.login,
    )
    log.info("accounts.spotify.linked", user_id=user.id)
    return RedirectResponse(ACCOUNT_PAGE, status_code=303)


@router.post("/disconnect")
async def disconnect(request: Request) -> RedirectResponse:
    c = deps(request)
    user = await _signed_in(request)
    await checked_form(request)  # a cross-site form cannot unlink Spotify
    removed = await c.credentials.delete(user.id, "spotify")
    log.info("accounts.spotify.disconnected", user_id=user.id, removed=removed)
    return RedirectResponse(ACCOUNT_PAGE, status_code=303)
