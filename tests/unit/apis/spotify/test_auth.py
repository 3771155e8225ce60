from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from premiere_ecoute.apis.spotify import (
    InMemoryTokenStore,
    SpotifyClient,
    SpotifyCredentials,
    SpotifyReconnectRequired,
)
from premiere_ecoute.apis.spotify.fake import FakeSpotify
from premiere_ecoute.apis.spotify.oauth import (
    SCOPES,
    authorize_url,
    exchange_code,
    make_pkce,
    pkce_challenge,
)
from premiere_ecoute.core.clock import FakeClock
from premiere_ecoute.core.errors import ExternalServiceError

from .conftest import BASE

REDIRECT = "http://127.0.0.1:8000/account/spotify/callback"


def test_pkce_challenge_is_the_s256_of_the_verifier() -> None:
    # The worked example of RFC 7636, appendix B.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    made_verifier, made_challenge = make_pkce()
    assert 43 <= len(made_verifier) <= 128
    assert pkce_challenge(made_verifier) == made_challenge


def test_authorize_url_carries_state_challenge_and_scopes() -> None:
    url = authorize_url("https://accounts.example", "cid", REDIRECT, "st4te", "chal")
    parsed = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    assert parsed.path == "/authorize"
    assert query["state"] == "st4te"
    assert query["code_challenge"] == "chal"
    assert query["code_challenge_method"] == "S256"
    assert query["scope"].split() == list(SCOPES)
    assert "playlist-read-private" in SCOPES


async def _authorize(http: httpx.AsyncClient, challenge: str) -> str:
    page = await http.get(
        "/authorize",
        params={
            "client_id": "cid",
            "response_type": "code",
            "redirect_uri": REDIRECT,
            "state": "abc",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert page.status_code == 200 and "Authorize" in page.text
    answer = await http.post(
        "/authorize",
        data={
            "client_id": "cid",
            "redirect_uri": REDIRECT,
            "state": "abc",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "account": "dora",
            "decision": "allow",
        },
    )
    assert answer.status_code == 303
    location = urlparse(answer.headers["location"])
    query = parse_qs(location.query)
    assert query["state"] == ["abc"]
    return query["code"][0]


async def test_code_exchange_with_the_right_verifier_gives_tokens(
    http: httpx.AsyncClient,
) -> None:
    verifier, challenge = make_pkce()
    code = await _authorize(http, challenge)
    token = await exchange_code(
        http,
        BASE,
        client_id="cid",
        client_secret=None,
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    assert token.access_token.startswith("fake-spotify-")
    assert token.refresh_token


async def test_code_exchange_with_a_wrong_verifier_is_refused(http: httpx.AsyncClient) -> None:
    _, challenge = make_pkce()
    code = await _authorize(http, challenge)
    other_verifier, _ = make_pkce()
    with pytest.raises(SpotifyReconnectRequired):
        await exchange_code(
            http,
            BASE,
            client_id="cid",
            client_secret="secret",
            code=code,
            redirect_uri=REDIRECT,
            code_verifier=other_verifier,
        )


async def test_expired_token_is_refreshed_once_and_the_call_retried(
    client: SpotifyClient,
    creds: SpotifyCredentials,
    fake: FakeSpotify,
    store: InMemoryTokenStore,
) -> None:
    fake.expire_token(creds.access_token)
    devices = await client.devices(creds)
    assert devices[0].name == "Fake Speaker"
    assert fake.requests.count(("POST", "/api/token")) == 1
    saved_access, saved_refresh, saved_expiry = store.saved[creds.user_id]
    assert saved_access != creds.access_token
    assert saved_refresh == creds.refresh_token
    assert saved_expiry is not None
    # The refreshed token controls the same player and is reused by later calls.
    await client.devices(creds)
    assert fake.requests.count(("POST", "/api/token")) == 1


async def test_a_second_401_after_refresh_is_reported_not_looped(
    client: SpotifyClient, creds: SpotifyCredentials, fake: FakeSpotify
) -> None:
    fake.fail_next("GET /me/player/devices", 401, times=2)
    with pytest.raises(ExternalServiceError, match="reconnect Spotify"):
        await client.devices(creds)
    assert fake.requests.count(("GET", "/v1/me/player/devices")) == 2
    assert fake.requests.count(("POST", "/api/token")) == 1


async def test_refused_refresh_asks_to_reconnect(client: SpotifyClient, fake: FakeSpotify) -> None:
    creds = SpotifyCredentials(7, "fake-spotify-erin", "not-a-fake-token", None)
    fake.expire_token(creds.access_token)
    with pytest.raises(SpotifyReconnectRequired):
        await client.devices(creds)


async def test_token_close_to_expiry_is_refreshed_before_the_call(
    client: SpotifyClient, fake: FakeSpotify, clock: FakeClock, store: InMemoryTokenStore
) -> None:
    creds = SpotifyCredentials(
        9, "fake-spotify-frank", "fake-spotify-frank", clock.now() + dt.timedelta(seconds=10)
    )
    await client.devices(creds)
    assert 9 in store.saved
    assert fake.requests.count(("GET", "/v1/me/player/devices")) == 1
