"""Keeping EventSub flowing: the WebSocket transport's connection (SPEC §6) and the renewal of
subscriptions of active sessions (after a new WebSocket session, or a revocation).

Frames received on the WebSocket go into the same inbox rows as webhook deliveries, so the
ingest loop processes both transports alike."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select

from premiere_ecoute.accounts.models import User
from premiere_ecoute.apis.twitch.eventsub import messages as m
from premiere_ecoute.apis.twitch.eventsub.websocket import Delivery, EventSubWebSocketClient
from premiere_ecoute.core.errors import DomainError
from premiere_ecoute.core.inbox import InboxMessage
from premiere_ecoute.sessions.handlers import CHAT_TYPES, POLL_TYPES
from premiere_ecoute.sessions.ingest import inbox_payload
from premiere_ecoute.sessions.models import ListeningSession
from premiere_ecoute.sessions.ports import Subscription
from premiere_ecoute.sessions.repository import get_session

if TYPE_CHECKING:
    from premiere_ecoute.bootstrap import Container
    from premiere_ecoute.config import Settings

log = structlog.get_logger(__name__)
FAKE_WS_PATH = "/_fake/twitch/ws"


def eventsub_ws_url(settings: Settings) -> str:
    """Twitch's EventSub WebSocket, or with the fakes on the fake's, served by this app."""
    if settings.use_fakes:
        base = settings.base_url
        scheme = "wss://" if base.startswith("https://") else "ws://"
        return scheme + base.split("://", 1)[1] + FAKE_WS_PATH
    return settings.twitch_eventsub_ws_url


async def start_eventsub_websocket(c: Container) -> None:
    """Connect (and stay connected) to EventSub over WebSocket in the background. The client
    is ``c.services["eventsub_ws"]``; its ``session_id`` is what new subscriptions use."""

    async def on_delivery(delivery: Delivery, parsed: m.ParsedMessage) -> None:
        await store_ws_delivery(c, delivery, parsed)

    async def on_welcome(session_id: str) -> None:
        await resubscribe_active_sessions(c)

    client = EventSubWebSocketClient(
        eventsub_ws_url(c.settings), on_delivery=on_delivery, on_welcome=on_welcome
    )
    c.services["eventsub_ws"] = client
    c.spawn(client.run(c.stopping), "eventsub.websocket")


async def store_ws_delivery(c: Container, delivery: Delivery, parsed: m.ParsedMessage) -> bool:
    """Store a frame in the inbox (the writer wakes ingest on commit); True when it was new."""
    if isinstance(parsed, m.Ignored | m.Verification):
        return False
    stored: bool = await c.services["inbox_writer"].store(
        InboxMessage(
            source="twitch",
            external_id=delivery.message_id,
            kind=delivery.subscription_type or delivery.message_type,
            payload=inbox_payload(delivery.message_type, delivery.payload),
            sent_at=delivery.timestamp,
        )
    )
    c.metrics.webhooks.labels("ws_stored" if stored else "ws_duplicate").inc()
    if stored and isinstance(parsed, m.Revocation):
        start_renewal(c, parsed)
    return stored


def start_renewal(c: Container, revocation: m.Revocation) -> None:
    """Renew a revoked subscription in the background; never delays an acknowledgement."""
    c.spawn(renew_revoked(c, revocation), f"eventsub.renew.{revocation.subscription_id}")


def needed_types(row: ListeningSession) -> tuple[str, ...]:
    return CHAT_TYPES + (POLL_TYPES if row.vote_mode != "chat" else ())


@dataclasses.dataclass(frozen=True, slots=True)
class _Active:
    session_id: int
    broadcaster_id: str
    subscriptions: list[str]
    types: tuple[str, ...]


async def _active_sessions(c: Container) -> list[_Active]:
    """Every active session of a Twitch streamer, with what its subscriptions need (one query)."""
    async with c.db.session() as s:
        rows = await s.execute(
            select(ListeningSession, User.twitch_user_id)
            .join(User, User.id == ListeningSession.user_id)
            .where(ListeningSession.status == "active", User.twitch_user_id.is_not(None))
            .order_by(ListeningSession.id)
        )
        return [
            _Active(row.id, str(tid), list(row.subscriptions or []), needed_types(row))
            for row, tid in rows
        ]


async def _publish(c: Container, row: ListeningSession) -> None:
    from premiere_ecoute.web.live import publish_session

    await publish_session(c, row.id, row.user_id)


async def resubscribe_active_sessions(c: Container) -> int:
    """After a new WebSocket session: subscriptions of the old one are gone, so every active
    session subscribes again. A failure is shown on that session, never raised. Returns how
    many sessions were resubscribed."""
    renewed = 0
    for active in await _active_sessions(c):
        session_id, broadcaster_id = active.session_id, active.broadcaster_id
        types, old = active.types, active.subscriptions
        subs = await _subscribe_or_tell(c, session_id, broadcaster_id, types, "resubscribe")
        if subs is None:
            continue
        async with c.db.session() as s, s.begin():
            row = await get_session(s, session_id, lock=True)
            if row.status != "active":
                stale = [x.id for x in subs]
            else:
                row.subscriptions = [x.id for x in subs]
                stale = [x for x in old if x not in row.subscriptions]
                renewed += 1
        await _forget(c, stale)
        log.info("twitch.eventsub.resubscribed", session_id=session_id, types=list(types))
    return renewed


async def renew_revoked(
    c: Container, revocation: m.Revocation, *, attempts: int = 3, delay_s: float = 1.0
) -> bool:
    """Subscribe again to a revoked type while the broadcaster's session is active and needs
    it, retrying with backoff; the streamer sees the outcome. True when renewed."""
    broadcaster_id = revocation.broadcaster_user_id
    if broadcaster_id is None:
        return False
    last_error = ""
    for attempt in range(attempts):
        session_id = await _active_session_of(c, broadcaster_id, revocation.subscription_type)
        if session_id is None:
            return False
        try:
            subs = await c.ports.eventsub.subscribe(broadcaster_id, [revocation.subscription_type])
        except Exception as exc:  # e.g. the WebSocket is reconnecting: retried below
            last_error = _reason(exc)
            log.warning("twitch.eventsub.renew_failed", attempt=attempt + 1, reason=last_error)
            await asyncio.sleep(delay_s * 2**attempt)
            continue
        if all(x.id == revocation.subscription_id for x in subs):
            last_error = "Twitch still lists the revoked subscription"
            await asyncio.sleep(delay_s * 2**attempt)
            continue
        async with c.db.session() as s, s.begin():
            row = await get_session(s, session_id, lock=True)
            if row.status != "active":
                stale = [x.id for x in subs]
            else:
                kept = [x for x in row.subscriptions or [] if x != revocation.subscription_id]
                row.subscriptions = kept + [x.id for x in subs if x.id not in kept]
                row.notice = (
                    f"Twitch revoked the {revocation.subscription_type} subscription "
                    f"({revocation.status}); it was renewed."
                )
                stale = []
        await _forget(c, stale)
        if not stale:
            await _publish(c, row)
            log.info("twitch.eventsub.renewed", session_id=session_id)
            return True
        return False
    session_id = await _active_session_of(c, broadcaster_id, revocation.subscription_type)
    if session_id is not None:
        await _set_notice(
            c,
            session_id,
            f"Twitch revoked the {revocation.subscription_type} subscription "
            f"({revocation.status}) and it could not be renewed: {last_error}. "
            "Reconnect Twitch, then stop and start the session.",
        )
    return False


async def _subscribe_or_tell(
    c: Container, session_id: int, broadcaster_id: str, types: Sequence[str], step: str
) -> list[Subscription] | None:
    """Subscribe for a session; a background step, so a failure is shown to the streamer on
    the session and logged, never raised (None)."""
    try:
        return await c.ports.eventsub.subscribe(broadcaster_id, types)
    except Exception as exc:
        await _set_notice(c, session_id, f"Twitch events unavailable: {_reason(exc)}")
        log.warning(f"twitch.eventsub.{step}_failed", session_id=session_id)
        return None


async def restore_lost_subscriptions(c: Container) -> int:
    """Webhook transport: give every active session back the subscriptions Twitch no longer
    lists as live: revoked while no process was left to renew them (a revocation is renewed
    by the process that received it), deleted, or never verified. The worker runs it every
    minute, so a restart loses chat for a minute at most. Returns how many sessions got
    subscriptions back; failures are shown on the session, never raised."""
    if c.settings.twitch_eventsub_transport != "webhook":
        return 0  # the process holding the WebSocket subscribes again on every welcome
    recorded = await _active_sessions(c)
    if not recorded:
        return 0
    # Listed after the rows were read: a subscription recorded by then is already on Twitch.
    try:
        live = await c.ports.eventsub.live()
    except Exception as exc:
        log.warning("twitch.eventsub.list_failed", reason=_reason(exc))
        return 0
    restored = 0
    for active in recorded:
        session_id, broadcaster_id = active.session_id, active.broadcaster_id
        ids, types = active.subscriptions, active.types
        dead = [x for x in ids if x not in live]
        missing = [t for t in types if t not in {live[x] for x in ids if x in live}]
        if not missing and not dead:
            continue
        subs: list[Subscription] = []
        if missing:
            made = await _subscribe_or_tell(c, session_id, broadcaster_id, missing, "restore")
            if made is None:
                continue
            subs = made
        async with c.db.session() as s, s.begin():
            row = await get_session(s, session_id, lock=True)
            if row.status != "active":
                stale = [x.id for x in subs]
            else:
                kept = [x for x in row.subscriptions or [] if x not in dead]
                row.subscriptions = kept + [x.id for x in subs if x.id not in kept]
                if subs:
                    row.notice = (
                        f"Twitch had stopped sending {', '.join(missing)} events; "
                        "the subscription was made again."
                    )[:500]
                stale = []
        await _forget(c, stale)
        if subs and not stale:
            restored += 1
            await _publish(c, row)
            log.info("twitch.eventsub.restored", session_id=session_id, types=missing)
    return restored


async def _active_session_of(c: Container, broadcaster_id: str, type_: str) -> int | None:
    async with c.db.session() as s:
        row = await s.scalar(
            select(ListeningSession)
            .join(User, User.id == ListeningSession.user_id)
            .where(User.twitch_user_id == broadcaster_id, ListeningSession.status == "active")
        )
        if row is None or type_ not in needed_types(row):
            return None
        return row.id


async def _set_notice(c: Container, session_id: int, notice: str) -> None:
    async with c.db.session() as s, s.begin():
        row = await get_session(s, session_id, lock=True)
        row.notice = notice[:500]
    await _publish(c, row)


async def _forget(c: Container, subscription_ids: Sequence[str]) -> None:
    if not subscription_ids:
        return
    try:
        await c.ports.eventsub.unsubscribe(list(subscription_ids))
    except Exception as exc:
        log.info("twitch.eventsub.cleanup_failed", reason=_reason(exc))


def _reason(exc: Exception) -> str:
    return exc.message if isinstance(exc, DomainError) else str(exc) or type(exc).__name__
