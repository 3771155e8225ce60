"""The built-in fakes of Twitch and Spotify, for development and tests (SPEC §12): building
them, reaching them in-process, and linking a new user to them.

Server-side calls reach the fakes through ASGI mounts on ``http://*.fake`` hosts, so every
process (CLI, worker, web) can use them; browsers reach the same apps under ``/_fake/``."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from premiere_ecoute.accounts.commands import LinkConnection
from premiere_ecoute.accounts.models import User
from premiere_ecoute.apis.spotify.fake.routes import create_fake_spotify_app
from premiere_ecoute.apis.spotify.fake.state import FakeSpotify
from premiere_ecoute.apis.spotify.fake.testing import ASGITransportWithTimeouts
from premiere_ecoute.apis.twitch.fake.app import create_fake_twitch_app
from premiere_ecoute.apis.twitch.fake.identity import fake_user_id, user_token
from premiere_ecoute.apis.twitch.fake.state import DEFAULT_DEMO_LOGINS, FakeTwitch
from premiere_ecoute.config import Settings
from premiere_ecoute.core.command_bus import CommandBus

# The accounts the demo seed creates; the fake login page lists them first.
DEMO_USERS = (
    ("demostreamer", "streamer"),
    ("demoviewer", "viewer"),
    ("demoadmin", "admin"),
    ("demobot", "bot"),
)
FAKE_WS_PATH = "/_fake/twitch/ws"


@dataclass
class Fakes:
    spotify: FakeSpotify
    twitch: FakeTwitch
    spotify_app: FastAPI
    twitch_app: FastAPI


def build_fakes(settings: Settings) -> Fakes:
    spotify = FakeSpotify()
    logins = [login for login, _ in DEMO_USERS]
    twitch = FakeTwitch(
        client_id=settings.twitch_client_id or None,
        client_secret=settings.twitch_client_secret or None,
        demo_logins=[*logins, *(x for x in DEFAULT_DEMO_LOGINS if x not in logins)],
    )
    spotify_app = create_fake_spotify_app(spotify)
    spotify_app.state.public_base_url = f"{settings.base_url}/_fake/spotify"
    return Fakes(spotify, twitch, spotify_app, create_fake_twitch_app(twitch))


def in_process_http(fakes: Fakes, spotify_base: str, twitch_base: str) -> httpx.AsyncClient:
    # ASGITransport alone ignores timeouts; the wrapper applies them, so a slow fake behaves
    # like a slow service.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(10.0),
        mounts={
            spotify_base: ASGITransportWithTimeouts(fakes.spotify_app),
            twitch_base: ASGITransportWithTimeouts(fakes.twitch_app),
        },
    )


def eventsub_ws_url(settings: Settings) -> str:
    """Twitch's EventSub WebSocket, or with the fakes on the fake's, served by this app."""
    if settings.use_fakes:
        base = settings.base_url
        scheme = "wss://" if base.startswith("https://") else "ws://"
        return scheme + base.split("://", 1)[1] + FAKE_WS_PATH
    return settings.twitch_eventsub_ws_url


def fake_twitch_id(login: str) -> str:
    """The Twitch id the fake gives ``login`` (computed from the login alone)."""
    return fake_user_id(login)


async def link_to_fakes(bus: CommandBus, user: User, *, actor: str) -> None:
    """Link a new user to the fake Twitch and to the fake Spotify (one active device), so a
    streamer can start a session at once."""
    login = user.login
    await bus.execute(
        LinkConnection(
            user_id=user.id,
            provider="twitch",
            external_id=fake_user_id(login),
            access_token=user_token(login),
            refresh_token=f"fake-refresh-{login}",
            expires_at=None,
        ),
        actor=actor,
    )
    token = f"fake-spotify-{login}"
    await bus.execute(
        LinkConnection(
            user_id=user.id,
            provider="spotify",
            external_id=login,
            access_token=token,
            refresh_token=token,
            expires_at=None,
        ),
        actor=actor,
    )
