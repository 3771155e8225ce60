"""The fake Twitch's memory: users seen, tokens, chat, polls, subscriptions, WebSocket sessions.

One ``FakeTwitch`` lives in the web process (built by ``bootstrap`` or a test, never at import).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import secrets
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import structlog

from premiere_ecoute.apis.twitch.eventsub import envelope
from premiere_ecoute.apis.twitch.eventsub.signing import format_twitch_timestamp
from premiere_ecoute.apis.twitch.fake import identity
from premiere_ecoute.apis.twitch.models import TWITCH_SCOPES

log = structlog.get_logger(__name__)

DEFAULT_DEMO_LOGINS = (
    "streamer",
    "partner_dj",
    "nonaffiliate_streamer",
    "viewer_alice",
    "viewer_bob",
    "premiere_bot",
)
USER_TOKEN_LIFETIME_S = 4 * 3600
APP_TOKEN_LIFETIME_S = 60 * 24 * 3600
CHAT_HISTORY = 200


@dataclass(frozen=True, slots=True)
class FakeUser:
    id: str
    login: str

    @property
    def display_name(self) -> str:
        return self.login.capitalize()

    @property
    def broadcaster_type(self) -> str:
        return identity.fake_broadcaster_type(self.login)


@dataclass(frozen=True, slots=True)
class Principal:
    kind: Literal["user", "app"]
    token: str
    user: FakeUser | None = None


@dataclass(slots=True)
class FakePollChoice:
    id: str
    title: str
    votes: int = 0


@dataclass(slots=True)
class FakePoll:
    id: str
    broadcaster: FakeUser
    title: str
    choices: list[FakePollChoice]
    duration: int
    started_at: dt.datetime
    status: str = "ACTIVE"
    ended_at: dt.datetime | None = None

    def event_choices(self) -> list[tuple[str, str, int]]:
        return [(c.id, c.title, c.votes) for c in self.choices]


@dataclass(slots=True)
class FakeSubscription:
    id: str
    type: str
    version: str
    condition: dict[str, str]
    method: str
    created_at: str
    status: str
    callback: str = ""
    secret: str = ""
    session_id: str = ""
    owner_id: str | None = None  # the user whose token created a WebSocket subscription

    def public_transport(self) -> dict[str, str]:
        if self.method == "webhook":
            return envelope.webhook_transport(self.callback)
        return envelope.websocket_transport(self.session_id)

    def public(self) -> dict[str, Any]:
        return envelope.subscription_dict(
            self.id,
            self.type,
            self.version,
            self.condition,
            self.public_transport(),
            self.status,
            self.created_at,
            cost=0 if self.method == "websocket" else 1,
        )


@dataclass(frozen=True, slots=True)
class ChatLine:
    broadcaster_id: str
    chatter: FakeUser
    text: str
    message_id: str
    at: dt.datetime
    via: str  # "chat page", "api", "burst"


@dataclass(frozen=True, slots=True)
class FakeMarker:
    id: str
    broadcaster_id: str
    description: str
    created_at: dt.datetime
    position_seconds: int


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    subscription_id: str
    message_type: str
    ok: bool
    detail: str


@dataclass(slots=True)
class WsSession:
    id: str
    connected_at: str
    reconnect_url: str = ""
    outbox: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)


class FakeTwitch:
    def __init__(
        self,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        demo_logins: Sequence[str] = DEFAULT_DEMO_LOGINS,
        clock: Callable[[], float] = time.time,
        delivery_http: httpx.AsyncClient | None = None,
        keepalive_timeout_s: int = 10,
        rate_limit_points: int = 800,
        rng: random.Random | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.clock = clock
        self.keepalive_timeout_s = keepalive_timeout_s
        self.rate_limit_points = rate_limit_points
        self.rng = rng or random.Random()
        self._delivery_http = delivery_http
        self._owns_http = delivery_http is None
        self.users: dict[str, FakeUser] = {}
        self.demo_logins = [self.user(login).login for login in demo_logins]
        self.app_tokens: set[str] = set()
        self.expired_tokens: set[str] = set()
        self.codes: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        self.refresh_generation: dict[str, int] = {}
        self.buckets: dict[str, tuple[int, float]] = {}
        self.chat: dict[str, list[ChatLine]] = {}
        self.polls: dict[str, FakePoll] = {}
        self.subscriptions: dict[str, FakeSubscription] = {}
        self.ws_sessions: dict[str, WsSession] = {}
        self.follows: dict[str, list[tuple[str, dt.datetime]]] = {}
        self.deliveries: list[DeliveryRecord] = []
        # Every channel streams (live, with VODs) unless a test takes it offline.
        self.offline: set[str] = set()
        self.live_since: dict[str, dt.datetime] = {}
        self.markers: list[FakeMarker] = []
        # Scopes each login granted at its last authorisation; a login never authorised
        # here (created by the command line) holds every scope the product asks.
        self.granted: dict[str, tuple[str, ...]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.list_page_size = 100

    # -- time and ids -------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)

    def timestamp(self) -> str:
        return format_twitch_timestamp(self.now())

    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid4())

    # -- users and tokens ---------------------------------------------------------------------

    def user(self, login: str) -> FakeUser:
        """The user with ``login``, remembered so that its id can be looked up later."""
        normal = identity.normalise_login(login)
        if normal is None:
            raise ValueError(f"not a Twitch login: {login!r}")
        user = FakeUser(id=identity.fake_user_id(normal), login=normal)
        self.users.setdefault(user.id, user)
        return user

    def user_by_id(self, user_id: str) -> FakeUser | None:
        return self.users.get(user_id)

    def principal(self, token: str) -> Principal | None:
        if not token or token in self.expired_tokens:
            return None
        if token in self.app_tokens:
            return Principal(kind="app", token=token)
        login = identity.login_from_user_token(token)
        if login is None:
            return None
        return Principal(kind="user", token=token, user=self.user(login))

    def expire_token(self, token: str) -> None:
        """Test hook: Twitch answers 401 to this token from now on."""
        self.expired_tokens.add(token)

    def issue_code(self, login: str, redirect_uri: str, scopes: Sequence[str]) -> str:
        code = secrets.token_urlsafe(16)
        self.codes[code] = (self.user(login).login, redirect_uri, tuple(scopes))
        return code

    def redeem_code(self, code: str, redirect_uri: str) -> tuple[str, tuple[str, ...]] | None:
        entry = self.codes.pop(code, None)
        if entry is None or entry[1] != redirect_uri:
            return None
        self.granted[entry[0]] = entry[2]
        return entry[0], entry[2]

    def scopes_of(self, login: str) -> tuple[str, ...]:
        return self.granted.get(login, TWITCH_SCOPES)

    def grant(self, login: str, scopes: Sequence[str]) -> None:
        """Test hook: ``login``'s tokens carry exactly ``scopes`` from now on."""
        self.granted[self.user(login).login] = tuple(scopes)

    def go_offline(self, login: str) -> None:
        """Test hook: the channel stops streaming (Twitch then refuses markers)."""
        user = self.user(login)
        self.offline.add(user.id)
        self.live_since.pop(user.id, None)

    def go_live(self, login: str) -> None:
        self.offline.discard(self.user(login).id)

    def add_marker(self, broadcaster_id: str, description: str) -> FakeMarker:
        now = self.now()
        since = self.live_since.setdefault(broadcaster_id, now)
        marker = FakeMarker(
            id=self.new_id(),
            broadcaster_id=broadcaster_id,
            description=description,
            created_at=now,
            position_seconds=int((now - since).total_seconds()),
        )
        self.markers.append(marker)
        return marker

    def markers_of(self, login: str) -> list[str]:
        """Test hook: the descriptions of the channel's markers, oldest first."""
        user = self.user(login)
        return [m.description for m in self.markers if m.broadcaster_id == user.id]

    def user_tokens(self, login: str, scopes: Sequence[str] = TWITCH_SCOPES) -> dict[str, Any]:
        generation = self.refresh_generation.get(login, 0)
        return {
            "access_token": identity.user_token(login, generation),
            "refresh_token": f"{identity.REFRESH_TOKEN_PREFIX}{login}.{secrets.token_hex(4)}",
            "expires_in": USER_TOKEN_LIFETIME_S,
            "scope": list(scopes),
            "token_type": "bearer",
        }

    def refreshed_tokens(self, login: str) -> dict[str, Any]:
        self.refresh_generation[login] = self.refresh_generation.get(login, 0) + 1
        return self.user_tokens(login, self.scopes_of(login))

    def app_token(self) -> dict[str, Any]:
        token = identity.APP_TOKEN_PREFIX + secrets.token_hex(12)
        self.app_tokens.add(token)
        return {"access_token": token, "expires_in": APP_TOKEN_LIFETIME_S, "token_type": "bearer"}

    def take_point(self, token: str) -> tuple[bool, dict[str, str]]:
        """Spend one point of the token's minute bucket; False when it is empty (429)."""
        now = self.clock()
        remaining, reset_at = self.buckets.get(token, (self.rate_limit_points, now + 60.0))
        if now >= reset_at:
            remaining, reset_at = self.rate_limit_points, now + 60.0
        allowed = remaining > 0
        if allowed:
            remaining -= 1
        self.buckets[token] = (remaining, reset_at)
        headers = {
            "Ratelimit-Limit": str(self.rate_limit_points),
            "Ratelimit-Remaining": str(remaining),
            "Ratelimit-Reset": str(int(reset_at)),
        }
        return allowed, headers

    # -- chat and follows ---------------------------------------------------------------------

    def record_chat(self, broadcaster_id: str, chatter: FakeUser, text: str, via: str) -> ChatLine:
        line = ChatLine(broadcaster_id, chatter, text, self.new_id(), self.now(), via)
        lines = self.chat.setdefault(broadcaster_id, [])
        lines.append(line)
        del lines[:-CHAT_HISTORY]
        return line

    def follow(self, user_login: str, broadcaster_login: str) -> None:
        """Test hook: ``user_login`` follows ``broadcaster_login`` from now on."""
        user, broadcaster = self.user(user_login), self.user(broadcaster_login)
        follows = self.follows.setdefault(user.id, [])
        if all(bid != broadcaster.id for bid, _ in follows):
            follows.insert(0, (broadcaster.id, self.now()))

    def followed(self, user: FakeUser) -> list[tuple[FakeUser, dt.datetime]]:
        """Explicit follows, else every demo streamer (so a fresh viewer has some)."""
        if user.id in self.follows:
            return [(self.users[bid], at) for bid, at in self.follows[user.id]]
        epoch = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        streamers = [self.user(login) for login in self.demo_logins]
        return [
            (s, epoch + dt.timedelta(days=i))
            for i, s in enumerate(streamers)
            if s.broadcaster_type and s.id != user.id
        ]

    def subscriptions_for(self, broadcaster_id: str, type_: str) -> list[FakeSubscription]:
        return [
            sub
            for sub in self.subscriptions.values()
            if sub.type == type_
            and sub.status == "enabled"
            and sub.condition.get("broadcaster_user_id") == broadcaster_id
        ]

    def active_poll(self, broadcaster_id: str) -> FakePoll | None:
        for poll in self.polls.values():
            if poll.broadcaster.id == broadcaster_id and poll.status == "ACTIVE":
                return poll
        return None

    # -- background work ----------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any], *, timer: bool = False) -> None:
        name = ("timer-" if timer else "task-") + self.new_id()
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self, *, include_timers: bool = False) -> None:
        """Wait for background deliveries (tests); poll timers only with ``include_timers``."""
        while True:
            pending = [
                t for t in self._tasks if include_timers or not t.get_name().startswith("timer")
            ]
            if not pending:
                return
            await asyncio.gather(*pending, return_exceptions=True)

    def use_delivery_http(self, http: httpx.AsyncClient) -> None:
        """Deliver through ``http`` (e.g. an ASGI client of the app under test); not closed here."""
        self._delivery_http, self._owns_http = http, False

    def delivery_http(self) -> httpx.AsyncClient:
        if self._delivery_http is None:
            self._delivery_http = httpx.AsyncClient(timeout=10.0)
        return self._delivery_http

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for session in self.ws_sessions.values():
            session.outbox.put_nowait(None)
        if self._owns_http and self._delivery_http is not None:
            await self._delivery_http.aclose()
            self._delivery_http = None
