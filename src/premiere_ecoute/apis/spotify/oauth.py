"""Spotify OAuth: authorization code with PKCE, refresh, client credentials (SPEC §1, §7)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

import httpx

from premiere_ecoute.apis.spotify.models import TokenSet
from premiere_ecoute.core.errors import N_, AccountNotConnected, ExternalServiceError, refuse

SCOPES: tuple[str, ...] = (
    "user-read-private",
    "user-read-email",
    "user-read-playback-state",
    "user-modify-playback-state",
    "user-read-currently-playing",
    "playlist-read-private",
)

Now = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SpotifyReconnectRequired(ExternalServiceError, AccountNotConnected):
    """The refresh token was refused for good: the user must link Spotify again."""


def make_pkce() -> tuple[str, str]:
    """Return ``(verifier, challenge)``: a 64-char verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    return verifier, pkce_challenge(verifier)


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    accounts_url: str,
    client_id: str,
    redirect_uri: str,
    state: str,
    code_challenge: str,
    scopes: Sequence[str] = SCOPES,
) -> str:
    query = urlencode(
        {
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge_method": "S256",
            "code_challenge": code_challenge,
            "scope": " ".join(scopes),
        }
    )
    return f"{accounts_url.rstrip('/')}/authorize?{query}"


def _basic(client_id: str, client_secret: str) -> str:
    raw = f"{client_id}:{client_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


async def _token_request(
    http: httpx.AsyncClient,
    accounts_url: str,
    client_id: str,
    client_secret: str | None,
    form: dict[str, str],
    now: Now,
) -> tuple[TokenSet, dict[str, Any]]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if client_secret:
        headers["Authorization"] = _basic(client_id, client_secret)
    else:
        # A public PKCE client identifies itself in the body instead.
        form = {**form, "client_id": client_id}
    try:
        response = await http.post(
            f"{accounts_url.rstrip('/')}/api/token", data=form, headers=headers
        )
    except httpx.HTTPError as exc:
        raise ExternalServiceError(
            N_("Spotify's sign-in service did not answer; please try again"), service="spotify"
        ) from exc
    if response.status_code >= 500:
        raise ExternalServiceError(
            N_("Spotify's sign-in service is having trouble; please try again"),
            service="spotify",
        )
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or "access_token" not in body:
        error = str(body.get("error", "")) if isinstance(body, dict) else ""
        if error in ("invalid_grant", "invalid_client", "unauthorized_client"):
            raise SpotifyReconnectRequired(
                N_("Spotify refused our access; please reconnect Spotify on your account page"),
                service="spotify",
            )
        raise refuse(
            ExternalServiceError,
            N_("Spotify refused the sign-in request (%(detail)s)"),
            extra={"service": "spotify"},
            detail=error or response.status_code,
        )
    token = TokenSet(
        access_token=str(body["access_token"]),
        refresh_token=body.get("refresh_token"),
        expires_at=now() + dt.timedelta(seconds=int(body.get("expires_in", 3600))),
        scope=str(body.get("scope", "")),
    )
    return token, body


async def exchange_code(
    http: httpx.AsyncClient,
    accounts_url: str,
    *,
    client_id: str,
    client_secret: str | None,
    code: str,
    redirect_uri: str,
    code_verifier: str,
    now: Now = utcnow,
) -> TokenSet:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    token, _ = await _token_request(http, accounts_url, client_id, client_secret, form, now)
    return token


async def refresh(
    http: httpx.AsyncClient,
    accounts_url: str,
    *,
    client_id: str,
    client_secret: str | None,
    refresh_token: str,
    now: Now = utcnow,
) -> TokenSet:
    """Refresh a user token. Spotify may omit a new refresh token: the old one stays valid."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    token, _ = await _token_request(http, accounts_url, client_id, client_secret, form, now)
    if token.refresh_token is None:
        token = TokenSet(token.access_token, refresh_token, token.expires_at, token.scope)
    return token


async def client_credentials(
    http: httpx.AsyncClient,
    accounts_url: str,
    *,
    client_id: str,
    client_secret: str,
    now: Now = utcnow,
) -> TokenSet:
    form = {"grant_type": "client_credentials"}
    token, _ = await _token_request(http, accounts_url, client_id, client_secret, form, now)
    return token
