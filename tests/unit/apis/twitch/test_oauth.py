"""Twitch OAuth helpers: the authorize URL, the state, and the token endpoint calls."""

from __future__ import annotations

import re

import httpx
import pytest

from premiere_ecoute.apis.twitch.client import TwitchClient
from premiere_ecoute.apis.twitch.oauth import TokenRefused, authorize_url, new_state

SPEC_SCOPES = (
    "user:read:chat user:write:chat user:bot channel:bot channel:read:polls "
    "channel:manage:polls moderator:manage:announcements user:read:follows "
    "channel:manage:broadcast"  # stream markers (issue 13)
)


def test_authorize_url_asks_for_a_code_with_every_scope_and_the_state() -> None:
    url = httpx.URL(authorize_url("cid", "http://127.0.0.1:8000/auth/twitch/callback", "st-1"))
    assert (url.host, url.path) == ("id.twitch.tv", "/oauth2/authorize")
    assert url.params["response_type"] == "code"
    assert url.params["client_id"] == "cid"
    assert url.params["state"] == "st-1"
    assert url.params["scope"] == SPEC_SCOPES
    assert url.params["redirect_uri"] == "http://127.0.0.1:8000/auth/twitch/callback"


def test_new_state_is_random_and_url_safe() -> None:
    states = {new_state() for _ in range(50)}
    assert len(states) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{40,}", s) for s in states)


async def test_refresh_returns_a_new_access_token(client: TwitchClient) -> None:
    tokens = await client.oauth.refresh("fake-refresh-streamer.abc")
    assert tokens.access_token == "fake-twitch-streamer.1"
    assert tokens.refresh_token is not None and tokens.expires_at is not None


async def test_an_unknown_code_is_refused_for_good(client: TwitchClient) -> None:
    with pytest.raises(TokenRefused, match="Invalid authorization code"):
        await client.oauth.exchange_code("made-up", "http://app.test/cb")
