"""Twitch OAuth: the authorize URL, code exchange, refresh, client credentials, validation.

The ``state`` is random and url-safe; the web layer stores it in the signed session and compares
it on callback (SPEC §1: never a user id).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

import httpx

from premiere_ecoute.apis.twitch import parser
from premiere_ecoute.apis.twitch.models import TWITCH_SCOPES, TokenSet
from premiere_ecoute.core.errors import N_, ExternalServiceError, Msg, refuse

DEFAULT_AUTH_URL = "https://id.twitch.tv/oauth2"


class TokenRefused(ExternalServiceError):
    """Twitch refused a code or refresh token for good: the user must connect again."""

    status_code = 401
    code = "twitch_token_refused"


def new_state() -> str:
    """A fresh OAuth ``state``: 256 random bits, url-safe."""
    return secrets.token_urlsafe(32)


def authorize_url(
    client_id: str,
    redirect_uri: str,
    state: str,
    scopes: Sequence[str] = TWITCH_SCOPES,
    *,
    auth_url: str = DEFAULT_AUTH_URL,
    force_verify: bool = False,
) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
    }
    if force_verify:
        query["force_verify"] = "true"
    return f"{auth_url.rstrip('/')}/authorize?{urlencode(query)}"


class TwitchOAuth:
    """Calls to the Twitch identity server (``auth_url``, e.g. ``https://id.twitch.tv/oauth2``)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        auth_url: str = DEFAULT_AUTH_URL,
        client_id: str,
        client_secret: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._auth_url = auth_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self._clock = clock

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), dt.UTC)

    async def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        return await self._token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        )

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def client_credentials(self) -> TokenSet:
        return await self._token({"grant_type": "client_credentials"})

    async def _token(self, form: dict[str, str]) -> TokenSet:
        body = {"client_id": self.client_id, "client_secret": self._client_secret, **form}
        response = await self._call("POST", "/token", data=body)
        if response.status_code in (400, 401, 403):
            message = parser.error_message(parser.json_body(response), "invalid grant")
            raise refuse(
                TokenRefused,
                N_("Twitch refused the authorization: %(detail)s"),
                extra={"service": "twitch"},
                detail=message,
            )
        self._raise_for_status(response, N_("Twitch could not issue a token"))
        return parser.parse_token_set(response.json(), self._now())

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, self._auth_url + path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ExternalServiceError(
                N_("Twitch login did not answer in time"), service="twitch"
            ) from exc
        except httpx.TransportError as exc:
            raise ExternalServiceError(
                N_("Twitch login could not be reached"), service="twitch"
            ) from exc

    @staticmethod
    def _raise_for_status(response: httpx.Response, what: str) -> None:
        if response.is_success:
            return
        message = parser.error_message(parser.json_body(response), f"HTTP {response.status_code}")
        raise refuse(
            ExternalServiceError,
            N_("%(refusal)s: %(detail)s"),
            extra={"service": "twitch"},
            refusal=Msg(what),
            detail=message,
        )
