"""The composition root: the only module that builds engines, clients and registries, and
the only one that knows every layer. Nothing imports it but the command line and the tests.

``build(settings, ...)`` returns a ``Container``: the kernel plus every adapter and domain
service, each a typed field. The web app, the worker, the CLI and the tests all go through
it; tests pass replacements (a fake clock, an in-memory broker, in-memory ports) as keyword
arguments instead of patching import paths. The process runners at the bottom say which
loops run in which process."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import structlog
from fastapi import FastAPI
from procrastinate import App
from starlette.types import ASGIApp

from premiere_ecoute.accounts.handlers import register_account_handlers
from premiere_ecoute.accounts.models import RolePolicy
from premiere_ecoute.accounts.repository import CredentialRepository
from premiere_ecoute.apis.fakes import Fakes, build_fakes, eventsub_ws_url, in_process_http
from premiere_ecoute.apis.spotify.adapters import SpotifyCatalog, SpotifyPlayback, SpotifyStore
from premiere_ecoute.apis.spotify.client import SpotifyClient
from premiere_ecoute.apis.twitch.adapters import (
    ChatSender,
    TwitchChat,
    TwitchEventSub,
    TwitchMarkers,
    TwitchPolls,
    TwitchStore,
)
from premiere_ecoute.apis.twitch.chat_queue import ChatQueue
from premiere_ecoute.apis.twitch.client import TwitchClient
from premiere_ecoute.apis.twitch.eventsub.inbound import store_ws_message
from premiere_ecoute.apis.twitch.eventsub.websocket import EventSubWebSocketClient
from premiere_ecoute.config import Settings
from premiere_ecoute.core.broker import Broker, PostgresBroker, RedisBroker, channel_for
from premiere_ecoute.core.clock import Clock, SystemClock
from premiere_ecoute.core.command_bus import CommandBus
from premiere_ecoute.core.crypto import Encryptor
from premiere_ecoute.core.db import Database, embedded_database_url
from premiere_ecoute.core.event_bus import EventDispatcher
from premiere_ecoute.core.event_store import EventStore
from premiere_ecoute.core.inbox import GroupCommitWriter, Inbox
from premiere_ecoute.core.jobs import STARTUP_SOURCE, build_job_app, record_heartbeat
from premiere_ecoute.core.kernel import Kernel
from premiere_ecoute.core.resilience.breaker import BreakerRegistry
from premiere_ecoute.core.resilience.metrics import ApiCallMetrics
from premiere_ecoute.jobs.deps import JobDeps
from premiere_ecoute.jobs.worker import WORKER_NAME, run_worker
from premiere_ecoute.sessions.chat_commands import ChatCommands
from premiere_ecoute.sessions.events import ChatCommandAsked
from premiere_ecoute.sessions.handlers import register_session_handlers
from premiere_ecoute.sessions.ingest import INBOX_TOPIC, Ingestor, run_ingest
from premiere_ecoute.sessions.live import SessionAnnouncer
from premiere_ecoute.sessions.markers import StreamMarkerWriter
from premiere_ecoute.sessions.monitor import MonitorSupervisor
from premiere_ecoute.sessions.ports import SessionPorts
from premiere_ecoute.sessions.subscriptions import SubscriptionKeeper
from premiere_ecoute.sessions.user_activity import SessionsOfUser
from premiere_ecoute.telemetry.metrics import Metrics
from premiere_ecoute.web.app import WEB_DIR, create_app
from premiere_ecoute.web.deps import WebDeps
from premiere_ecoute.web.i18n import CatalogTranslator

log = structlog.get_logger(__name__)
FAKE_SPOTIFY = "http://spotify.fake"
FAKE_TWITCH = "http://twitch.fake"


@dataclass
class Container:
    kernel: Kernel
    encryptor: Encryptor
    credentials: CredentialRepository
    breakers: BreakerRegistry
    spotify: SpotifyClient
    twitch: TwitchClient
    chat_queue: ChatQueue
    ports: SessionPorts
    inbox_writer: GroupCommitWriter
    ingestor: Ingestor
    subscriptions: SubscriptionKeeper
    monitors: MonitorSupervisor
    chat_commands: ChatCommands
    jobs: App
    api_http: httpx.AsyncClient
    http: httpx.AsyncClient
    fakes: Fakes | None
    markers: StreamMarkerWriter
    eventsub_ws: EventSubWebSocketClient | None = None
    started: bool = False

    # The kernel's pieces, for the command line and the tests.
    @property
    def settings(self) -> Settings:
        return self.kernel.settings

    @property
    def clock(self) -> Clock:
        return self.kernel.clock

    @property
    def db(self) -> Database:
        return self.kernel.db

    @property
    def store(self) -> EventStore:
        return self.kernel.store

    @property
    def inbox(self) -> Inbox:
        return self.kernel.inbox

    @property
    def bus(self) -> CommandBus:
        return self.kernel.bus

    @property
    def dispatcher(self) -> EventDispatcher:
        return self.kernel.dispatcher

    @property
    def broker(self) -> Broker:
        return self.kernel.broker

    @property
    def metrics(self) -> Metrics:
        return self.kernel.metrics

    @property
    def stopping(self) -> asyncio.Event:
        return self.kernel.stopping

    @property
    def database_url(self) -> str:
        return self.kernel.db.url

    def web_deps(self) -> WebDeps:
        mounts: dict[str, ASGIApp] = {}
        if self.fakes is not None:
            mounts = {
                "/_fake/spotify": self.fakes.spotify_app,
                "/_fake/twitch": self.fakes.twitch_app,
            }
        return WebDeps(
            kernel=self.kernel,
            ports=self.ports,
            credentials=self.credentials,
            encryptor=self.encryptor,
            breakers=self.breakers,
            spotify=self.spotify,
            twitch=self.twitch,
            inbox_writer=self.inbox_writer,
            jobs=self.jobs,
            mounts=mounts,
        )

    def job_deps(self) -> JobDeps:
        return JobDeps(
            kernel=self.kernel,
            ports=self.ports,
            credentials=self.credentials,
            spotify=self.spotify,
            twitch=self.twitch,
            subscriptions=self.subscriptions,
            jobs=self.jobs,
        )

    async def start(self) -> None:
        if not self.started:
            await self.kernel.broker.start()
            self.started = True

    async def stop(self) -> None:
        await self.kernel.stop_background()
        with contextlib.suppress(Exception):
            await self.kernel.broker.stop()
        await self.inbox_writer.close()
        if self.fakes is not None:
            with contextlib.suppress(Exception):
                await self.fakes.twitch.aclose()
        if self.api_http is not self.http:
            await self.api_http.aclose()
        await self.http.aclose()
        with contextlib.suppress(Exception):
            await self.jobs.close_async()
        await self.kernel.db.dispose()
        self.started = False


def resolve_database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return embedded_database_url(settings.premiere_data_dir)


def build(
    settings: Settings,
    *,
    database_url: str | None = None,
    pool_size: int = 10,
    clock: Clock | None = None,
    broker: Broker | None = None,
    http: httpx.AsyncClient | None = None,
    api_http: httpx.AsyncClient | None = None,
    breakers: BreakerRegistry | None = None,
    fakes: Fakes | None = None,
    ports: SessionPorts | None = None,
    fakes_at: str | None = None,
) -> Container:
    """Build every component from ``settings``. Tests replace some: ``ports`` (in-memory
    session ports), ``fakes`` (fake providers they can steer), ``api_http`` (transport to the
    providers), a fake ``clock``, an in-memory ``broker``.

    ``fakes_at``: with the fakes on, use the ones a web process serves at that base URL
    instead of fakes of this process (a separate ``worker``: the fake Twitch must be the one
    that holds the sessions' subscriptions, or the worker takes them for lost)."""
    s = settings
    clock = clock or SystemClock()
    db = Database(database_url or resolve_database_url(s), pool_size=pool_size)
    store = EventStore()
    dispatcher = EventDispatcher()
    bus = CommandBus(db.sessionmaker, store, dispatcher, clock)
    if broker is None:
        broker = (
            RedisBroker(s.redis_url, channel_for(s.broker_prefix, db.url))
            if s.redis_url
            else PostgresBroker(db.url)
        )
    metrics = Metrics()
    kernel = Kernel(
        settings=s,
        clock=clock,
        db=db,
        store=store,
        inbox=Inbox(),
        dispatcher=dispatcher,
        bus=bus,
        broker=broker,
        metrics=metrics,
    )
    http = http or httpx.AsyncClient(timeout=httpx.Timeout(10.0))
    encryptor = Encryptor(s.secret_key, s.previous_secret_keys)
    credentials = CredentialRepository(db.sessionmaker, encryptor)
    breakers = breakers or BreakerRegistry()
    remote_fakes = s.use_fakes and fakes is None and fakes_at is not None
    if fakes is None and s.use_fakes and not remote_fakes:
        fakes = build_fakes(s)
    if api_http is None:
        # Server-side calls to the fakes stay in-process, so the CLI, the worker and the web
        # process can all use them; browsers reach the same fakes under /_fake/.
        api_http = in_process_http(fakes, FAKE_SPOTIFY, FAKE_TWITCH) if fakes else http
    fake_spotify = f"{fakes_at}/_fake/spotify" if remote_fakes else FAKE_SPOTIFY
    fake_twitch = f"{fakes_at}/_fake/twitch" if remote_fakes else FAKE_TWITCH
    faked = fakes is not None or remote_fakes
    call_metrics = ApiCallMetrics(metrics.registry)
    spotify = SpotifyClient(
        api_http,
        api_url=f"{fake_spotify}/v1" if faked else s.spotify_api_url,
        accounts_url=fake_spotify if faked else s.spotify_accounts_url,
        client_id=s.spotify_client_id or "fake-spotify-client",
        client_secret=s.spotify_client_secret or "fake-spotify-secret",
        token_store=SpotifyStore(credentials),
        breakers=breakers,
        metrics=call_metrics,
    )
    twitch = TwitchClient(
        api_http,
        api_url=f"{fake_twitch}/helix" if faked else s.twitch_api_url,
        auth_url=f"{fake_twitch}/oauth2" if faked else s.twitch_auth_url,
        client_id=s.twitch_client_id or "fake-twitch-client",
        client_secret=s.twitch_client_secret or "fake-twitch-secret",
        breakers=breakers,
        metrics=call_metrics,
        token_store=TwitchStore(credentials),
    )

    async def bot_id() -> str | None:
        return await credentials.bot_twitch_id(s.bot_login)

    chat_queue = ChatQueue(ChatSender(twitch, credentials.twitch, bot_id))
    ws_client: list[EventSubWebSocketClient] = []

    async def ws_session_id() -> str:
        if not ws_client or not ws_client[0].session_id:
            raise RuntimeError("the EventSub WebSocket is not connected yet")
        return str(ws_client[0].session_id)

    async def reader_id(broadcaster_id: str) -> str:
        return (await bot_id()) or broadcaster_id

    websocket = s.twitch_eventsub_transport == "websocket"
    if ports is None:
        ports = SessionPorts(
            catalog=SpotifyCatalog(spotify, credentials.spotify),
            playback=SpotifyPlayback(spotify, credentials.spotify),
            eventsub=TwitchEventSub(
                twitch,
                transport=s.twitch_eventsub_transport,
                base_url=s.base_url,
                webhook_secret=s.twitch_webhook_secret,
                reader_id=reader_id,
                session_id=ws_session_id if websocket else None,
                token_loader=credentials.twitch if websocket else None,
            ),
            polls=TwitchPolls(twitch, credentials.twitch),
            chat=TwitchChat(chat_queue),
            clock=clock,
            markers=TwitchMarkers(twitch, credentials.twitch),
            translator=CatalogTranslator(WEB_DIR / "locale"),
        )
    register_account_handlers(
        bus,
        encryptor=encryptor,
        roles=RolePolicy(s.admin_login_set, s.bot_login.lower()),
        activity=SessionsOfUser(),
    )
    register_session_handlers(bus, ports)
    dispatcher.subscribe_batch(SessionAnnouncer(db, broker, metrics))
    markers = StreamMarkerWriter(kernel, ports.markers)
    markers.subscribe()
    chat_commands = ChatCommands(db, ports.chat, ports.translator, clock)
    dispatcher.subscribe(ChatCommandAsked, chat_commands)

    # Each shared commit of webhooks wakes the ingest loops (they also look every second).
    wake_ingest = functools.partial(broker.publish, INBOX_TOPIC, {})
    inbox_writer = GroupCommitWriter(db.sessionmaker, kernel.inbox, on_commit=wake_ingest)
    subscriptions = SubscriptionKeeper(kernel, ports.eventsub)
    container = Container(
        kernel=kernel,
        encryptor=encryptor,
        credentials=credentials,
        breakers=breakers,
        spotify=spotify,
        twitch=twitch,
        chat_queue=chat_queue,
        ports=ports,
        inbox_writer=inbox_writer,
        ingestor=Ingestor(kernel.inbox, bot_login=s.bot_login),
        subscriptions=subscriptions,
        monitors=MonitorSupervisor(kernel, ports.playback),
        chat_commands=chat_commands,
        jobs=build_job_app(db.url),
        markers=markers,
        api_http=api_http,
        http=http,
        fakes=fakes,
    )
    if websocket:

        async def on_welcome(_session_id: str) -> None:
            # The old WebSocket session's subscriptions are gone: every active session
            # subscribes again with this one.
            await subscriptions.resubscribe_active()

        client = EventSubWebSocketClient(
            eventsub_ws_url(s),
            on_message=functools.partial(store_ws_message, inbox_writer, metrics),
            on_welcome=on_welcome,
        )
        ws_client.append(client)
        container.eventsub_ws = client
    return container


# Processes --------------------------------------------------------------------------------


def start_loops(c: Container, *, ingest: bool = True) -> None:
    """What long-running processes run beside their main job: the chat queue, the chat
    commands' answers, and the vote ingest (safe in several processes at once) where it is
    wanted."""
    if ingest:
        start_ingest(c)
    c.kernel.spawn(c.chat_queue.run(c.kernel.stopping), "chat.queue")
    c.kernel.spawn(c.chat_commands.run(c.kernel.stopping), "chat.commands")


def start_ingest(c: Container) -> None:
    """The loop that turns stored webhooks into votes."""
    c.kernel.spawn(run_ingest(c.kernel, c.ingestor, c.subscriptions), "ingest")


async def start_web_background(c: Container, *, with_worker: bool | None = None) -> None:
    """The web process: the chat queue, the player monitors, the EventSub WebSocket (when it
    is the transport), and in development the job worker and the vote ingest too.

    Otherwise the ingest runs in ``worker`` processes only: a web process that also ingested
    spent about a quarter of its CPU there, time taken from acknowledging webhooks and
    fanning out live updates."""
    k = c.kernel
    if with_worker is None:
        with_worker = k.settings.environment == "development"
    if with_worker:
        # Say alive before answering /ready, so a fresh start is ready at once.
        async with k.db.sessionmaker() as s, s.begin():
            await record_heartbeat(s, WORKER_NAME, STARTUP_SOURCE)
        k.spawn(run_worker(c.job_deps()), "worker")
    start_loops(c, ingest=with_worker)
    c.monitors.start()
    if c.eventsub_ws is not None:
        # Subscriptions carry this process's WebSocket session id: the process that runs
        # session commands must hold the connection.
        k.spawn(c.eventsub_ws.run(k.stopping), "eventsub.websocket")


async def run_worker_process(c: Container) -> None:
    """``premiere-ecoute worker``: the job worker and the loops, until ``stopping`` is set."""
    await c.start()
    start_loops(c)
    work = asyncio.create_task(run_worker(c.job_deps()))
    await c.stopping.wait()
    work.cancel()
    await asyncio.gather(work, return_exceptions=True)


def web_app(
    c: Container,
    *,
    run_background: bool = True,
    on_started: Callable[[Container], Awaitable[None]] | None = None,
) -> FastAPI:
    """The web app over ``c``; ``run_background`` also runs the web process's loops;
    ``on_started`` runs once the container is up (the demo seed)."""

    async def on_start() -> None:
        await c.start()
        if on_started is not None:
            await on_started(c)
        if run_background:
            await start_web_background(c)

    return create_app(c.web_deps(), on_start=on_start, on_stop=c.stop)
