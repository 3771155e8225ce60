"""The Helix API facade: one method per call the product makes, returning domain objects.

Policy (tokens, rate limit, breaker "twitch", retries of GET/DELETE, metrics) lives in
``transport.HelixTransport``; this module only builds requests and parses answers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx

from premiere_ecoute.accounts.models import UserToken
from premiere_ecoute.apis.twitch import parser
from premiere_ecoute.apis.twitch.models import (
    MARKER_DESCRIPTION_MAX,
    EventSubSubscription,
    FollowedChannel,
    Poll,
    SentChatMessage,
    StreamMarker,
    TwitchUser,
)
from premiere_ecoute.apis.twitch.oauth import DEFAULT_AUTH_URL, TwitchOAuth
from premiere_ecoute.apis.twitch.transport import Credential, HelixTransport, TwitchTokenStore
from premiere_ecoute.core.errors import N_, ExternalServiceError, ValidationFailed, refuse
from premiere_ecoute.core.resilience.breaker import BreakerRegistry
from premiere_ecoute.core.resilience.metrics import ApiCallMetrics

DEFAULT_API_URL = "https://api.twitch.tv/helix"
BREAKER_NAME = "twitch"
CHAT_MESSAGE_MAX = 500
USERS_PER_REQUEST = 100
# A revoked or failed subscription is no use to reuse after a 409.
LIVE_SUBSCRIPTION_STATUSES = ("enabled", "webhook_callback_verification_pending")


class HelixRefused(ExternalServiceError):
    """Twitch answered a refusal the caller tells apart by its ``status``."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message, service="twitch")
        self.status = status


class TwitchClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_url: str = DEFAULT_API_URL,
        auth_url: str = DEFAULT_AUTH_URL,
        client_id: str,
        client_secret: str,
        breakers: BreakerRegistry,
        metrics: ApiCallMetrics | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        token_store: TwitchTokenStore | None = None,
        retry_attempts: int = 3,
    ) -> None:
        self.oauth = TwitchOAuth(
            http, auth_url=auth_url, client_id=client_id, client_secret=client_secret, clock=clock
        )
        self._transport = HelixTransport(
            http,
            api_url=api_url,
            oauth=self.oauth,
            breaker=breakers.get(BREAKER_NAME),
            metrics=metrics,
            clock=clock,
            sleep=sleep,
            token_store=token_store,
            retry_attempts=retry_attempts,
        )

    # -- chat ---------------------------------------------------------------------------------

    async def send_chat_message(
        self, broadcaster_id: str, sender_id: str, text: str, user_token: Credential
    ) -> SentChatMessage:
        """Post ``text`` in the broadcaster's chat as ``sender_id``. ``user_token=None`` uses the
        app token, which needs ``user:bot`` from the sender and ``channel:bot`` from the channel."""
        body = {
            "broadcaster_id": broadcaster_id,
            "sender_id": sender_id,
            "message": text[:CHAT_MESSAGE_MAX],
        }
        response = await self._transport.request(
            "POST",
            "/chat/messages",
            credential=user_token,
            json=body,
            refusal=N_("Twitch refused the chat message"),
        )
        sent = parser.parse_sent_chat_message(response.json())
        if not sent.is_sent:
            raise refuse(
                ExternalServiceError,
                N_("Twitch dropped the chat message: %(detail)s"),
                extra={"service": "twitch"},
                detail=sent.drop_reason or "no reason given",
            )
        return sent

    # -- stream markers ------------------------------------------------------------------------

    async def create_stream_marker(
        self, user_id: str, description: str, user_token: Credential
    ) -> StreamMarker:
        """Mark the live stream of ``user_id`` now. Needs the broadcaster's token with
        ``channel:manage:broadcast``. Raises ``HelixRefused`` with the status on 401/403
        (scope or rights) and 404 (not live, or no VODs), ExternalServiceError otherwise."""
        body = {"user_id": user_id, "description": description[:MARKER_DESCRIPTION_MAX]}
        refusal = "Twitch refused the stream marker"
        response = await self._transport.request(
            "POST",
            "/streams/markers",
            credential=user_token,
            json=body,
            refusal=refusal,
            accept=(401, 403, 404),
        )
        if response.status_code in (401, 403, 404):
            message = parser.error_message(
                parser.json_body(response), f"HTTP {response.status_code}"
            )
            raise refuse(
                HelixRefused,
                N_("%(refusal)s: %(message)s"),
                extra={"status": response.status_code},
                refusal=refusal,
                message=message,
            )
        return parser.parse_stream_marker(response.json())

    # -- polls --------------------------------------------------------------------------------

    async def create_poll(
        self,
        broadcaster_id: str,
        title: str,
        choices: Sequence[str],
        duration: int,
        user_token: Credential,
    ) -> Poll:
        if not 2 <= len(choices) <= 5:
            raise refuse(ValidationFailed, N_("A Twitch poll needs 2 to 5 choices"))
        body = {
            "broadcaster_id": broadcaster_id,
            "title": title,
            "choices": [{"title": choice} for choice in choices],
            "duration": duration,
        }
        response = await self._transport.request(
            "POST",
            "/polls",
            credential=user_token,
            json=body,
            refusal=N_("Twitch refused the poll"),
        )
        return parser.parse_first_poll(response.json())

    async def end_poll(
        self, broadcaster_id: str, poll_id: str, user_token: Credential, *, archive: bool = False
    ) -> Poll:
        body = {
            "broadcaster_id": broadcaster_id,
            "id": poll_id,
            "status": "ARCHIVED" if archive else "TERMINATED",
        }
        response = await self._transport.request(
            "PATCH",
            "/polls",
            credential=user_token,
            json=body,
            refusal=N_("Twitch could not end the poll"),
        )
        return parser.parse_first_poll(response.json())

    async def get_poll(
        self, broadcaster_id: str, poll_id: str, user_token: Credential
    ) -> Poll | None:
        response = await self._transport.request(
            "GET",
            "/polls",
            credential=user_token,
            params={"broadcaster_id": broadcaster_id, "id": poll_id},
            refusal=N_("Twitch could not read the poll"),
        )
        polls = parser.parse_polls(response.json())
        return polls[0] if polls else None

    # -- EventSub -----------------------------------------------------------------------------

    async def create_eventsub_subscription(
        self,
        type: str,
        version: str,
        condition: Mapping[str, str],
        transport: Mapping[str, str],
        user_token: Credential = None,
    ) -> EventSubSubscription:
        """Webhook subscriptions use the app token; WebSocket ones need the user's token."""
        if transport.get("method") == "websocket" and user_token is None:
            raise refuse(
                ValidationFailed, N_("A WebSocket EventSub subscription needs a user token")
            )
        credential = user_token if transport.get("method") == "websocket" else None
        body = {
            "type": type,
            "version": version,
            "condition": dict(condition),
            "transport": dict(transport),
        }
        response = await self._transport.request(
            "POST",
            "/eventsub/subscriptions",
            credential=credential,
            json=body,
            refusal=N_("Twitch refused the EventSub subscription"),
            accept=(409,),
        )
        if response.status_code == 409:
            existing = await self._find_subscription(type, condition, transport, credential)
            if existing is None:
                raise refuse(
                    ExternalServiceError,
                    N_("Twitch refused the %(type)s subscription: it already exists"),
                    extra={"service": "twitch"},
                    type=type,
                )
            return existing
        return parser.parse_first_subscription(response.json())

    async def _find_subscription(
        self,
        type: str,
        condition: Mapping[str, str],
        transport: Mapping[str, str],
        credential: Credential,
    ) -> EventSubSubscription | None:
        # A 409 means the same subscription exists (e.g. made by an earlier deployment): reuse it.
        for sub in await self.list_eventsub_subscriptions(type=type, user_token=credential):
            if (
                dict(sub.condition) == dict(condition)
                and sub.method == transport.get("method")
                and sub.status in LIVE_SUBSCRIPTION_STATUSES
            ):
                return sub
        return None

    async def list_eventsub_subscriptions(
        self,
        *,
        status: str | None = None,
        type: str | None = None,
        user_id: str | None = None,
        user_token: Credential = None,
        max_pages: int = 20,
    ) -> list[EventSubSubscription]:
        # Twitch accepts at most one filter per request.
        filters = {"status": status, "type": type, "user_id": user_id}
        params: dict[str, str] = {k: v for k, v in filters.items() if v}
        if len(params) > 1:
            raise refuse(
                ValidationFailed, N_("Filter EventSub subscriptions by one of status, type, user")
            )
        found: list[EventSubSubscription] = []
        for _ in range(max_pages):
            response = await self._transport.request(
                "GET",
                "/eventsub/subscriptions",
                credential=user_token,
                params=params,
                refusal=N_("Twitch could not list the EventSub subscriptions"),
            )
            page = parser.parse_subscription_page(response.json())
            found.extend(page.items)
            if page.cursor is None:
                break
            params = {**params, "after": page.cursor}
        return found

    async def delete_eventsub_subscription(
        self, subscription_id: str, user_token: Credential = None
    ) -> bool:
        """Delete a subscription; False when Twitch no longer knows it (nothing left to do)."""
        response = await self._transport.request(
            "DELETE",
            "/eventsub/subscriptions",
            credential=user_token,
            params={"id": subscription_id},
            refusal=N_("Twitch could not delete the EventSub subscription"),
            accept=(404,),
        )
        return response.status_code != 404

    # -- users and follows --------------------------------------------------------------------

    async def get_current_user(self, user_token: UserToken | str) -> TwitchUser:
        """The user who owns ``user_token`` (used right after login)."""
        response = await self._transport.request(
            "GET", "/users", credential=user_token, refusal=N_("Twitch could not read the user")
        )
        users = parser.parse_users(response.json())
        if not users:
            raise ExternalServiceError(
                N_("Twitch returned no user for the token"), service="twitch"
            )
        return users[0]

    async def get_followed_channels(
        self, user_id: str, user_token: Credential, *, page_size: int = 100, max_pages: int = 50
    ) -> list[FollowedChannel]:
        params: dict[str, Any] = {"user_id": user_id, "first": page_size}
        found: list[FollowedChannel] = []
        for _ in range(max_pages):
            response = await self._transport.request(
                "GET",
                "/channels/followed",
                credential=user_token,
                params=params,
                refusal=N_("Twitch could not list followed channels"),
            )
            page = parser.parse_followed_page(response.json())
            found.extend(page.items)
            if page.cursor is None:
                break
            params = {**params, "after": page.cursor}
        return found
