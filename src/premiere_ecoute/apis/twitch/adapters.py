"""Adapters from the session ports (``sessions.ports``) to the Twitch client and chat queue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

import structlog

from premiere_ecoute.accounts.models import UserToken
from premiere_ecoute.accounts.repository import CredentialRepository
from premiere_ecoute.apis.twitch.chat_queue import ChatQueue
from premiere_ecoute.apis.twitch.client import (
    LIVE_SUBSCRIPTION_STATUSES,
    HelixRefused,
    TwitchClient,
)
from premiere_ecoute.apis.twitch.models import TokenSet
from premiere_ecoute.core.errors import ExternalServiceError, ServiceUnavailable, refuse_as
from premiere_ecoute.sessions.ports import MarkerRefused, Subscription

log = structlog.get_logger(__name__)

# Loads the stored token of a Twitch user (by Twitch user id); raises when there is none.
TokenLoader = Callable[[str], Awaitable[UserToken | str]]

SUBSCRIPTION_VERSIONS: dict[str, str] = {
    "channel.chat.message": "1",
    "channel.poll.begin": "1",
    "channel.poll.progress": "1",
    "channel.poll.end": "1",
}
WEBHOOK_PATH = "/webhooks/twitch"
POLL_TITLE_MAX = 60
POLL_CHOICE_MAX = 25
POLL_DURATION_RANGE = (15, 1800)


class TwitchEventSub:
    """``EventSub`` port. Webhook subscriptions call back ``base_url + /webhooks/twitch``;
    WebSocket ones use the session id of our live connection (``session_id``)."""

    def __init__(
        self,
        client: TwitchClient,
        *,
        transport: Literal["webhook", "websocket"] = "webhook",
        base_url: str = "",
        webhook_secret: str = "",
        reader_id: Callable[[str], Awaitable[str]] | None = None,
        session_id: Callable[[], Awaitable[str]] | None = None,
        token_loader: TokenLoader | None = None,
    ) -> None:
        if transport == "webhook" and len(webhook_secret) < 10:
            raise ValueError("Twitch needs a webhook secret of 10 to 100 characters")
        if transport == "websocket" and (session_id is None or token_loader is None):
            raise ValueError("WebSocket EventSub needs a session id provider and a token loader")
        self._client = client
        self._transport = transport
        self._callback = base_url.rstrip("/") + WEBHOOK_PATH
        self._secret = webhook_secret
        self._reader_id = reader_id
        self._session_id = session_id
        self._token_loader = token_loader
        # Who authorised each WebSocket subscription: deleting one needs that user's token.
        self._owners: dict[str, str] = {}

    async def subscribe(self, broadcaster_id: str, types: Sequence[str]) -> list[Subscription]:
        """Create every subscription or none: on a failure the ones made are deleted again."""
        created: list[Subscription] = []
        try:
            for type_ in types:
                created.append(await self._subscribe_one(broadcaster_id, type_))
        except Exception:
            await self._undo(created)
            raise
        return created

    async def _subscribe_one(self, broadcaster_id: str, type_: str) -> Subscription:
        version = SUBSCRIPTION_VERSIONS.get(type_)
        if version is None:
            raise ValueError(f"unsupported EventSub type {type_!r}")
        condition = {"broadcaster_user_id": broadcaster_id}
        authoriser = broadcaster_id
        if type_ == "channel.chat.message":
            reader = await self._reader_id(broadcaster_id) if self._reader_id else broadcaster_id
            condition["user_id"] = reader
            authoriser = reader
        if self._transport == "webhook":
            transport = {"method": "webhook", "callback": self._callback, "secret": self._secret}
            sub = await self._client.create_eventsub_subscription(
                type_, version, condition, transport
            )
        else:
            assert self._session_id is not None and self._token_loader is not None
            transport = {"method": "websocket", "session_id": await self._session_id()}
            token = await self._token_loader(authoriser)
            sub = await self._client.create_eventsub_subscription(
                type_, version, condition, transport, user_token=token
            )
            self._owners[sub.id] = authoriser
        log.info("twitch.eventsub.subscribed", type=type_, broadcaster_id=broadcaster_id)
        return Subscription(id=sub.id, type=sub.type)

    async def _undo(self, created: Sequence[Subscription]) -> None:
        try:
            await self.unsubscribe([sub.id for sub in created])
        except ExternalServiceError:
            log.warning("twitch.eventsub.undo_failed", ids=[sub.id for sub in created])

    async def unsubscribe(self, subscription_ids: Sequence[str]) -> None:
        """Delete each subscription (already-gone ones count as done); raise the first failure
        only after trying them all."""
        failure: ExternalServiceError | None = None
        for sub_id in subscription_ids:
            try:
                owner = self._owners.pop(sub_id, None)
                token = await self._token_loader(owner) if owner and self._token_loader else None
                await self._client.delete_eventsub_subscription(sub_id, user_token=token)
            except ExternalServiceError as exc:
                log.warning("twitch.eventsub.unsubscribe_failed", id=sub_id, reason=exc.message)
                failure = failure or exc
        if failure is not None:
            raise failure

    async def live(self) -> dict[str, str]:
        """Webhook subscriptions belong to the app, so one listing (app token) shows them all.
        WebSocket ones are renewed by the process holding the connection, on every welcome."""
        if self._transport != "webhook":
            raise ValueError("only webhook subscriptions are listed by the app")
        subs = await self._client.list_eventsub_subscriptions()
        return {s.id: s.type for s in subs if s.status in LIVE_SUBSCRIPTION_STATUSES}


class TwitchPolls:
    """``Polls`` port: polls run with the broadcaster's own token (``channel:manage:polls``)."""

    def __init__(self, client: TwitchClient, token_loader: TokenLoader) -> None:
        self._client = client
        self._token_loader = token_loader

    async def create_poll(
        self, broadcaster_id: str, title: str, choices: Sequence[str], duration_s: int
    ) -> str:
        token = await self._token_loader(broadcaster_id)
        low, high = POLL_DURATION_RANGE
        poll = await self._client.create_poll(
            broadcaster_id,
            title[:POLL_TITLE_MAX],
            [choice[:POLL_CHOICE_MAX] for choice in choices],
            min(max(duration_s, low), high),
            token,
        )
        return poll.id

    async def end_poll(self, broadcaster_id: str, poll_id: str) -> None:
        token = await self._token_loader(broadcaster_id)
        try:
            await self._client.end_poll(broadcaster_id, poll_id, token)
        except ExternalServiceError:
            # Twitch refuses to end a poll that already ended on its own; that is success here.
            poll = await self._client.get_poll(broadcaster_id, poll_id, token)
            if poll is not None and poll.is_active:
                raise


class TwitchMarkers:
    """``StreamMarkers`` port: a marker is made with the broadcaster's own token."""

    def __init__(self, client: TwitchClient, token_loader: TokenLoader) -> None:
        self._client = client
        self._token_loader = token_loader

    async def create_marker(self, broadcaster_id: str, description: str) -> None:
        try:
            token = await self._token_loader(broadcaster_id)
            await self._client.create_stream_marker(broadcaster_id, description, token)
        except HelixRefused as exc:
            if exc.status == 404:
                raise refuse_as(MarkerRefused, exc, reason="offline") from exc
            raise refuse_as(MarkerRefused, exc, reason="scope") from exc
        except ExternalServiceError as exc:
            if exc.retry_after_s is not None and not isinstance(exc, ServiceUnavailable):
                raise refuse_as(MarkerRefused, exc, reason="rate_limited") from exc
            raise refuse_as(MarkerRefused, exc, reason="error") from exc


class TwitchChat:
    """``Chat`` port: announcements go through the queue and never block or raise."""

    def __init__(self, queue: ChatQueue) -> None:
        self._queue = queue

    def announce(self, broadcaster_id: str, text: str) -> None:
        self._queue.enqueue(broadcaster_id, text)


class ChatSender:
    """The chat queue's sender: speaks as the bot when one is connected, else (or when Twitch
    refuses the bot) as the broadcaster's own account."""

    def __init__(
        self,
        client: TwitchClient,
        token_loader: TokenLoader,
        bot_id: Callable[[], Awaitable[str | None]],
    ) -> None:
        self._client = client
        self._token_loader = token_loader
        self._bot_id = bot_id

    async def __call__(self, broadcaster_id: str, text: str) -> None:
        bot_id = await self._bot_id()
        if bot_id is not None and bot_id != broadcaster_id:
            try:
                token = await self._token_loader(bot_id)
                await self._client.send_chat_message(broadcaster_id, bot_id, text, token)
                return
            except Exception as exc:  # any bot failure: the broadcaster's account still works
                log.info("twitch.chat.bot_fallback", broadcaster_id=broadcaster_id, reason=str(exc))
        token = await self._token_loader(broadcaster_id)
        await self._client.send_chat_message(broadcaster_id, broadcaster_id, text, token)


class TwitchStore:
    """``TwitchTokenStore`` over the accounts repository (users are known by Twitch id)."""

    def __init__(self, repo: CredentialRepository) -> None:
        self._repo = repo

    async def save(self, user_id: str, tokens: TokenSet) -> None:
        await self._repo.save_twitch(
            user_id, tokens.access_token, tokens.refresh_token, tokens.expires_at
        )

    async def needs_reconnect(
        self, user_id: str, reason: str, refresh_token: str | None = None
    ) -> None:
        await self._repo.mark_twitch_needs_reconnect(user_id, refresh_token)
