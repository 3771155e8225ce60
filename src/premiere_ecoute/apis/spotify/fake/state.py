"""``FakeSpotify``: all the fake's state (tokens, codes, players, injected failures).

Any bearer token of the form ``fake-spotify-<anything>`` is accepted, because users are created
by a separate CLI process that cannot register tokens here; each unknown token lazily gets its
own player with one active device. Tokens this fake issues map back to the owner that asked
for them, so a refreshed token keeps controlling the same player.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from premiere_ecoute.apis.spotify.fake.catalogue import Catalogue
from premiere_ecoute.apis.spotify.fake.player import FakePlayer
from premiere_ecoute.apis.spotify.oauth import pkce_challenge

TOKEN_PREFIX = "fake-spotify-"
TOKEN_LIFETIME_S = 3600


@dataclass(slots=True)
class InjectedFailure:
    key: str
    status: int | str  # an HTTP status, or "timeout"
    reason: str | None
    retry_after: float | None
    times: int


@dataclass(slots=True)
class _Code:
    owner: str
    client_id: str
    redirect_uri: str
    challenge: str | None


@dataclass(slots=True)
class _Issued:
    owner: str
    expires_at: float | None
    is_app: bool = False


class OAuthError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class FakeSpotify:
    def __init__(
        self,
        *,
        catalogue: Catalogue | None = None,
        clock: Callable[[], float] = time.monotonic,
        speed: float = 1.0,
        album_tracks_page: int = 50,
        timeout_s: float = 30.0,
    ) -> None:
        self.catalogue = catalogue or Catalogue.load()
        self.clock = clock
        self.speed = speed
        # Size of the track page embedded in an album; tests lower it to exercise paging.
        self.album_tracks_page = album_tracks_page
        self.timeout_s = timeout_s
        self.players: dict[str, FakePlayer] = {}
        self.failures: list[InjectedFailure] = []
        self.requests: list[tuple[str, str]] = []
        self._tokens: dict[str, _Issued] = {}
        self._refresh: dict[str, str] = {}
        self._codes: dict[str, _Code] = {}

    # Test hooks ----------------------------------------------------------------------

    def fail_next(
        self,
        path_or_method: str,
        status: int | str,
        reason: str | None = None,
        retry_after: float | None = None,
        *,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` matching requests fail. The key is a method (``PUT``), a
        path (``/me/player/play``, with or without ``/v1``) or both (``PUT /me/player``)."""
        self.failures.append(InjectedFailure(path_or_method, status, reason, retry_after, times))

    def take_failure(self, method: str, path: str) -> InjectedFailure | None:
        path = path.removeprefix("/v1")
        for failure in self.failures:
            method_part, _, path_part = failure.key.partition(" ")
            if not path_part and method_part.startswith("/"):
                method_part, path_part = "", method_part
            path_part = path_part.removeprefix("/v1")
            if (not method_part or method_part.upper() == method) and (
                not path_part or path_part == path
            ):
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
                return failure
        return None

    def player_for(self, token: str) -> FakePlayer:
        owner = self.owner_of(token)
        if owner is None:
            raise KeyError("not a fake Spotify token")
        return self.player(owner)

    def skip_to(self, token: str, position: int) -> None:
        """Simulate the streamer jumping to track ``position`` (0-based) inside Spotify."""
        self.player_for(token).skip_to(position)

    def expire_token(self, token: str) -> None:
        """Make ``token`` answer 401 from now on, as an expired access token does."""
        issued = self._tokens.get(token) or _Issued(owner=token, expires_at=None)
        issued.expires_at = self.clock() - 1
        self._tokens[token] = issued

    # Tokens --------------------------------------------------------------------------

    def owner_of(self, token: str) -> str | None:
        """The player owner for a bearer token, or ``None`` when it must get a 401."""
        issued = self._tokens.get(token)
        if issued is not None:
            if issued.expires_at is not None and issued.expires_at <= self.clock():
                return None
            return issued.owner
        return token if token.startswith(TOKEN_PREFIX) else None

    def is_app_token(self, token: str) -> bool:
        issued = self._tokens.get(token)
        return issued is not None and issued.is_app

    def player(self, owner: str) -> FakePlayer:
        player = self.players.get(owner)
        if player is None:
            player = self.players[owner] = FakePlayer(owner, self.clock, self.speed)
        return player

    def _issue(self, owner: str, *, with_refresh: bool, is_app: bool = False) -> dict[str, object]:
        access = f"{TOKEN_PREFIX}at-{secrets.token_urlsafe(12)}"
        self._tokens[access] = _Issued(owner, self.clock() + TOKEN_LIFETIME_S, is_app)
        body: dict[str, object] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_S,
            "scope": "" if is_app else "user-read-private user-modify-playback-state",
        }
        if with_refresh:
            refresh = f"{TOKEN_PREFIX}rt-{secrets.token_urlsafe(12)}"
            self._refresh[refresh] = owner
            body["refresh_token"] = refresh
        return body

    def issue_code(
        self, owner: str, client_id: str, redirect_uri: str, challenge: str | None
    ) -> str:
        code = f"fake-code-{secrets.token_urlsafe(12)}"
        self._codes[code] = _Code(owner, client_id, redirect_uri, challenge)
        return code

    def exchange_code(
        self, code: str, redirect_uri: str, verifier: str | None, client_id: str
    ) -> dict[str, object]:
        grant = self._codes.pop(code, None)
        if grant is None:
            raise OAuthError("invalid_grant", "Invalid authorization code")
        if grant.redirect_uri != redirect_uri:
            raise OAuthError("invalid_grant", "Invalid redirect URI")
        if client_id and grant.client_id != client_id:
            raise OAuthError("invalid_client", "Invalid client")
        if grant.challenge is not None and (
            not verifier or pkce_challenge(verifier) != grant.challenge
        ):
            raise OAuthError("invalid_grant", "code_verifier was incorrect")
        return self._issue(grant.owner, with_refresh=True)

    def refresh(self, refresh_token: str) -> dict[str, object]:
        owner = self._refresh.get(refresh_token)
        if owner is None and refresh_token.startswith(TOKEN_PREFIX):
            # A token made up by the CLI: by convention its owner is the token itself, so the
            # CLI should give the same string as access and refresh token.
            owner = refresh_token
        if owner is None:
            raise OAuthError("invalid_grant", "Invalid refresh token")
        body = self._issue(owner, with_refresh=False)
        return body

    def client_credentials(self, client_id: str) -> dict[str, object]:
        return self._issue(f"app:{client_id}", with_refresh=False, is_app=True)
