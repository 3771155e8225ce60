"""Wires the domains into a built container: ports (real clients, against the real APIs or the
built-in fakes), command handlers, event subscribers and the hot-path writer."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from premiere_ecoute.accounts import commands as account_cmds
from premiere_ecoute.accounts import handlers as account_handlers
from premiere_ecoute.accounts.account import register_account_commands
from premiere_ecoute.accounts.tokens import CredentialRepository, SpotifyStore, TwitchStore
from premiere_ecoute.core.cache import TTLCache
from premiere_ecoute.core.crypto import Encryptor
from premiere_ecoute.core.inbox import GroupCommitWriter
from premiere_ecoute.core.resilience.breaker import BreakerRegistry
from premiere_ecoute.core.resilience.metrics import ApiCallMetrics
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions import handlers, playing
from premiere_ecoute.sessions.events import SessionEvent
from premiere_ecoute.sessions.handlers import SessionPorts
from premiere_ecoute.sessions.ingest import Ingestor

if TYPE_CHECKING:
    from premiere_ecoute.bootstrap import Container

FAKE_SPOTIFY = "http://spotify.fake"
FAKE_TWITCH = "http://twitch.fake"


@dataclass
class Fakes:
    spotify: Any
    twitch: Any
    spotify_app: Any
    twitch_app: Any


def build_fakes(c: Container) -> Fakes:
    from premiere_ecoute.apis.spotify.fake.routes import create_fake_spotify_app
    from premiere_ecoute.apis.spotify.fake.state import FakeSpotify
    from premiere_ecoute.apis.twitch.fake.app import create_fake_twitch_app
    from premiere_ecoute.apis.twitch.fake.state import FakeTwitch

    settings = c.settings
    spotify = FakeSpotify()
    from premiere_ecoute.apis.twitch.fake.state import DEFAULT_DEMO_LOGINS
    from premiere_ecoute.demo import DEMO_USERS

    # The login page lists the seeded demo accounts first, then the fake's own cast.
    logins = [login for login, _ in DEMO_USERS]
    twitch = FakeTwitch(
        client_id=settings.twitch_client_id or None,
        client_secret=settings.twitch_client_secret or None,
        demo_logins=[*logins, *(x for x in DEFAULT_DEMO_LOGINS if x not in logins)],
    )
    spotify_app = create_fake_spotify_app(spotify)
    spotify_app.state.public_base_url = f"{settings.base_url}/_fake/spotify"
    return Fakes(spotify, twitch, spotify_app, create_fake_twitch_app(twitch))


def _api_http(c: Container, fakes: Fakes | None) -> httpx.AsyncClient:
    """Server-side calls to the fakes stay in-process (ASGI), so every process (CLI, worker,
    web) can use them; browsers reach the same fakes under /_fake/."""
    if fakes is None:
        return c.http
    from premiere_ecoute.apis.spotify.fake.testing import ASGITransportWithTimeouts

    # ASGITransport alone ignores timeouts; the wrapper applies them, so a slow fake behaves
    # like a slow service.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(10.0),
        mounts={
            FAKE_SPOTIFY: ASGITransportWithTimeouts(fakes.spotify_app),
            FAKE_TWITCH: ASGITransportWithTimeouts(fakes.twitch_app),
        },
    )


def wire(c: Container, overrides: dict[str, Any]) -> None:
    s = c.settings
    encryptor = Encryptor(s.secret_key)
    c.services["encryptor"] = encryptor
    repo = CredentialRepository(c.db.sessionmaker, encryptor)
    c.services["credentials"] = repo
    breakers = overrides.pop("breakers", None) or BreakerRegistry()
    c.services["breakers"] = breakers
    ports = overrides.pop("ports", None)
    fakes = overrides.pop("fakes", None)
    if ports is None:
        if s.use_fakes and fakes is None:
            fakes = build_fakes(c)
        ports = build_ports(c, repo, breakers, fakes, overrides.pop("api_http", None))
    c.services["fakes"] = fakes
    c.ports = ports

    bus = c.bus
    bus.register(account_cmds.RegisterUser, account_handlers.register_user)
    bus.register(account_cmds.CreateApiToken, account_handlers.create_api_token)
    bus.register(account_cmds.LinkConnection, account_handlers.make_link_connection(encryptor))
    register_account_commands(bus, encryptor)
    bus.register(cmd.PrepareSession, functools.partial(handlers.prepare, ports=ports))
    bus.register(cmd.ChangeSettings, handlers.change_settings)
    bus.register(cmd.StartSession, functools.partial(handlers.start, ports=ports))
    bus.register(cmd.ChangeTrack, functools.partial(playing.change_track, ports=ports))
    bus.register(cmd.SetVoteWindow, functools.partial(playing.set_vote_window, ports=ports))
    bus.register(cmd.StopSession, functools.partial(playing.stop, ports=ports))
    bus.register(cmd.DeleteSession, playing.delete_session)
    bus.register(cmd.CastVote, functools.partial(playing.cast_vote, ports=ports))

    from premiere_ecoute.web.live import publish_session

    # session id -> streamer id, to publish on both topics; bounded, entries expire.
    published: TTLCache[int] = TTLCache(ttl_s=3600, max_items=10_000)

    async def on_session_event(event: Any) -> None:
        if isinstance(event, SessionEvent):

            async def owner() -> int | None:
                from premiere_ecoute.sessions.models import ListeningSession

                async with c.db.session() as session:
                    row = await session.get(ListeningSession, event.session_id)
                    return row.user_id if row else None

            user_id = await published.get_or_load(event.session_id, owner)
            await publish_session(c, event.session_id, user_id)

    c.dispatcher.subscribe(None, on_session_event)

    async def wake_ingest() -> None:
        await c.broker.publish("inbox", {})

    c.services["inbox_writer"] = GroupCommitWriter(
        c.db.sessionmaker, c.inbox, on_commit=wake_ingest
    )
    c.services["ingestor"] = Ingestor(c.inbox, c.store, bot_login=s.bot_login)


def build_ports(
    c: Container,
    repo: CredentialRepository,
    breakers: BreakerRegistry,
    fakes: Fakes | None,
    api_http: httpx.AsyncClient | None,
) -> SessionPorts:
    from premiere_ecoute.apis.spotify.adapters import SpotifyCatalog, SpotifyPlayback
    from premiere_ecoute.apis.spotify.client import SpotifyClient
    from premiere_ecoute.apis.twitch.adapters import (
        ChatSender,
        TwitchChat,
        TwitchEventSub,
        TwitchPolls,
    )
    from premiere_ecoute.apis.twitch.chat_queue import ChatQueue
    from premiere_ecoute.apis.twitch.client import TwitchClient

    s = c.settings
    http = api_http or _api_http(c, fakes)
    c.services["api_http"] = http
    metrics = ApiCallMetrics(c.metrics.registry)
    spotify = SpotifyClient(
        http,
        api_url=f"{FAKE_SPOTIFY}/v1" if fakes else s.spotify_api_url,
        accounts_url=FAKE_SPOTIFY if fakes else s.spotify_accounts_url,
        client_id=s.spotify_client_id or "fake-spotify-client",
        client_secret=s.spotify_client_secret or "fake-spotify-secret",
        token_store=SpotifyStore(repo),
        breakers=breakers,
        metrics=metrics,
    )
    twitch = TwitchClient(
        http,
        api_url=f"{FAKE_TWITCH}/helix" if fakes else s.twitch_api_url,
        auth_url=f"{FAKE_TWITCH}/oauth2" if fakes else s.twitch_auth_url,
        client_id=s.twitch_client_id or "fake-twitch-client",
        client_secret=s.twitch_client_secret or "fake-twitch-secret",
        breakers=breakers,
        metrics=metrics,
        token_store=TwitchStore(repo, c.db.sessionmaker),
    )
    c.services["spotify"] = spotify
    c.services["twitch"] = twitch

    async def bot_id() -> str | None:
        return await repo.bot_twitch_id(s.bot_login)

    async def reader_id(broadcaster_id: str) -> str:
        return (await bot_id()) or broadcaster_id

    queue = ChatQueue(ChatSender(twitch, repo.twitch, bot_id))
    c.services["chat_queue"] = queue

    async def ws_session_id() -> str:
        client = c.services.get("eventsub_ws")
        if client is None or not client.session_id:
            raise RuntimeError("the EventSub WebSocket is not connected yet")
        return str(client.session_id)

    websocket = s.twitch_eventsub_transport == "websocket"
    eventsub = TwitchEventSub(
        twitch,
        transport=s.twitch_eventsub_transport,
        base_url=s.base_url,
        webhook_secret=s.twitch_webhook_secret,
        reader_id=reader_id,
        session_id=ws_session_id if websocket else None,
        token_loader=repo.twitch if websocket else None,
    )
    return SessionPorts(
        catalog=SpotifyCatalog(spotify, repo.spotify),
        playback=SpotifyPlayback(spotify, repo.spotify),
        eventsub=eventsub,
        polls=TwitchPolls(twitch, repo.twitch),
        chat=TwitchChat(queue),
        clock=c.clock,
    )
