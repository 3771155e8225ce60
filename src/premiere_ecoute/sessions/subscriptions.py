"""Keeping EventSub flowing for active sessions (SPEC §6): subscribe again after a new
WebSocket session, renew a revoked subscription, and restore the ones Twitch no longer lists.

Every failure is shown to the streamer on the session and logged, never raised: these run
in the background, beside the hot path."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog

from premiere_ecoute.core.errors import DomainError
from premiere_ecoute.core.kernel import Kernel
from premiere_ecoute.sessions import queries
from premiere_ecoute.sessions import repository as repo
from premiere_ecoute.sessions.events import SessionChanged
from premiere_ecoute.sessions.inbound import SubscriptionRevoked
from premiere_ecoute.sessions.ports import EventSub, Subscription

log = structlog.get_logger(__name__)


def _reason(exc: Exception) -> str:
    return exc.message if isinstance(exc, DomainError) else str(exc) or type(exc).__name__


class SubscriptionKeeper:
    def __init__(self, kernel: Kernel, eventsub: EventSub) -> None:
        self._k = kernel
        self._eventsub = eventsub

    async def _record(
        self,
        session_id: int,
        subs: Sequence[Subscription],
        *,
        dropped: Sequence[str] = (),
        replace: bool = False,
        notice: str | None = None,
    ) -> bool:
        """Record ``subs`` on the session (replacing its list, or beside the kept ones minus
        ``dropped``); False when it is no longer active, and then ``subs`` are removed."""
        stale: list[str] = []
        async with self._k.unit_of_work(actor="eventsub") as uow:
            row = await repo.get_session(uow.session, session_id, lock=True)
            if row.status != "active":
                stale = [x.id for x in subs]
            else:
                old = list(row.subscriptions or [])
                kept = [] if replace else [x for x in old if x not in dropped]
                row.subscriptions = kept + [x.id for x in subs if x.id not in kept]
                if replace:
                    stale = [x for x in old if x not in row.subscriptions]
                if notice is not None:
                    row.notice = notice[:500]
                uow.record(SessionChanged(session_id=session_id))
            await uow.commit()
        await self._forget(stale)
        return not (subs and stale == [x.id for x in subs])

    async def _tell(self, session_id: int, notice: str) -> None:
        async with self._k.unit_of_work(actor="eventsub") as uow:
            row = await repo.get_session(uow.session, session_id, lock=True)
            row.notice = notice[:500]
            uow.record(SessionChanged(session_id=session_id))
            await uow.commit()

    async def _subscribe_or_tell(
        self, session_id: int, broadcaster_id: str, types: Sequence[str], step: str
    ) -> list[Subscription] | None:
        try:
            return await self._eventsub.subscribe(broadcaster_id, types)
        except Exception as exc:
            await self._tell(session_id, f"Twitch events unavailable: {_reason(exc)}")
            log.warning(f"twitch.eventsub.{step}_failed", session_id=session_id)
            return None

    async def _forget(self, subscription_ids: Sequence[str]) -> None:
        if not subscription_ids:
            return
        try:
            await self._eventsub.unsubscribe(list(subscription_ids))
        except Exception as exc:
            log.info("twitch.eventsub.cleanup_failed", reason=_reason(exc))

    async def _active(self) -> list[queries.ActiveTwitchSession]:
        async with self._k.db.session() as s:
            return await queries.active_twitch_sessions(s)

    async def resubscribe_active(self) -> int:
        """After a new WebSocket session: subscriptions of the old one are gone, so every
        active session subscribes again. Returns how many sessions were resubscribed."""
        renewed = 0
        for active in await self._active():
            subs = await self._subscribe_or_tell(
                active.session_id, active.broadcaster_id, active.types, "resubscribe"
            )
            if subs is None:
                continue
            if await self._record(active.session_id, subs, replace=True):
                renewed += 1
            log.info(
                "twitch.eventsub.resubscribed",
                session_id=active.session_id,
                types=list(active.types),
            )
        return renewed

    async def _session_needing(self, broadcaster_id: str, type_: str) -> int | None:
        async with self._k.db.session() as s:
            return await queries.active_session_needing(s, broadcaster_id, type_)

    async def renew_revoked(
        self, revocation: SubscriptionRevoked, *, attempts: int = 3, delay_s: float = 1.0
    ) -> bool:
        """Subscribe again to a revoked type while the broadcaster's session is active and
        needs it, retrying with backoff; the streamer sees the outcome. True when renewed."""
        broadcaster_id = revocation.broadcaster_id
        type_ = revocation.subscription_type
        if broadcaster_id is None:
            return False
        last_error = ""
        for attempt in range(attempts):
            session_id = await self._session_needing(broadcaster_id, type_)
            if session_id is None:
                return False
            try:
                subs = await self._eventsub.subscribe(broadcaster_id, [type_])
            except Exception as exc:  # e.g. the WebSocket is reconnecting: retried below
                last_error = _reason(exc)
                log.warning("twitch.eventsub.renew_failed", attempt=attempt + 1, reason=last_error)
                await asyncio.sleep(delay_s * 2**attempt)
                continue
            if all(x.id == revocation.subscription_id for x in subs):
                last_error = "Twitch still lists the revoked subscription"
                await asyncio.sleep(delay_s * 2**attempt)
                continue
            renewed = await self._record(
                session_id,
                subs,
                dropped=[revocation.subscription_id],
                notice=f"Twitch revoked the {type_} subscription ({revocation.reason}); "
                "it was renewed.",
            )
            if renewed:
                log.info("twitch.eventsub.renewed", session_id=session_id)
            return renewed
        session_id = await self._session_needing(broadcaster_id, type_)
        if session_id is not None:
            await self._tell(
                session_id,
                f"Twitch revoked the {type_} subscription ({revocation.reason}) and it could "
                f"not be renewed: {last_error}. Reconnect Twitch, then stop and start the "
                "session.",
            )
        return False

    async def restore_lost(self) -> int:
        """Webhook transport: give every active session back the subscriptions Twitch no
        longer lists as live: revoked while no process was left to renew them, deleted, or
        never verified. The worker runs it every minute, so a restart loses chat for a minute
        at most. Returns how many sessions got subscriptions back."""
        if self._k.settings.twitch_eventsub_transport != "webhook":
            return 0  # the process holding the WebSocket subscribes again on every welcome
        recorded = await self._active()
        if not recorded:
            return 0
        # Listed after the rows were read: a subscription recorded by then is on Twitch.
        try:
            live = await self._eventsub.live()
        except Exception as exc:
            log.warning("twitch.eventsub.list_failed", reason=_reason(exc))
            return 0
        restored = 0
        for active in recorded:
            ids = active.subscriptions
            dead = [x for x in ids if x not in live]
            missing = [t for t in active.types if t not in {live[x] for x in ids if x in live}]
            if not missing and not dead:
                continue
            subs: list[Subscription] = []
            if missing:
                made = await self._subscribe_or_tell(
                    active.session_id, active.broadcaster_id, missing, "restore"
                )
                if made is None:
                    continue
                subs = made
            notice = (
                f"Twitch had stopped sending {', '.join(missing)} events; "
                "the subscription was made again."
                if subs
                else None
            )
            if await self._record(active.session_id, subs, dropped=dead, notice=notice) and subs:
                restored += 1
                log.info("twitch.eventsub.restored", session_id=active.session_id, types=missing)
        return restored
