"""The vote hot path after the edge: inbox batch -> routed votes -> one commit.

Chat lines are routed by the broadcaster id in the message (never by subscription id) to the
streamer's active session, or to the session that just stopped (votes sent before
``stopped_at + stream_delay_s`` still count). One unit of work per batch: its commit appends
the events and announces each changed session once."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass, field

import structlog
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.accounts.queries import twitch_id_of
from premiere_ecoute.core.inbox import Inbox, PendingMessage
from premiere_ecoute.core.kernel import Kernel
from premiere_ecoute.core.unit_of_work import UnitOfWork
from premiere_ecoute.sessions import repository as repo
from premiere_ecoute.sessions.events import ChatCommandAsked, SessionChanged
from premiere_ecoute.sessions.inbound import (
    BadInbound,
    ChatLine,
    PollTally,
    SubscriptionRevoked,
    from_inbox,
)
from premiere_ecoute.sessions.models import ListeningSession
from premiere_ecoute.sessions.ports import CHAT_TYPES
from premiere_ecoute.sessions.scores import classify_chat, parse_command, parse_vote
from premiere_ecoute.sessions.subscriptions import SubscriptionKeeper
from premiere_ecoute.sessions.voting import IncomingVote, apply_votes, record_poll_tally

log = structlog.get_logger(__name__)
INBOX_TOPIC = "inbox"  # the inbox writer wakes the ingest loops through the broker
MAX_ID = 40  # votes.viewer_id; Twitch user ids are short numbers
DETERMINISTIC_ERRORS = (DataError, IntegrityError, ValueError, TypeError, KeyError)
BOT_RECHECK_S = 60.0
Chats = dict[str, list[tuple[PendingMessage, ChatLine]]]


@dataclass
class IngestResult:
    processed: int = 0
    accepted: int = 0
    rejected: int = 0
    ignored: int = 0
    revoked: list[SubscriptionRevoked] = field(default_factory=list)


def _session_for(candidates: list[ListeningSession], sent_at: dt.datetime) -> ListeningSession:
    """The session a message belongs to: the latest one that had started at the moment the
    viewer heard (sent time minus that session's stream delay). A vote for a session that
    stopped a moment ago is not taken by the one that just started."""
    for row in candidates:
        heard = sent_at - dt.timedelta(seconds=row.stream_delay_s)
        if row.started_at is not None and heard >= row.started_at:
            return row
    return candidates[0]  # before every start: the newest rejects it (before_start)


class Ingestor:
    def __init__(self, inbox: Inbox, *, bot_login: str = "") -> None:
        self.inbox = inbox
        self.bot_login = bot_login.lower()
        self._bot_id: str | None = None
        self._bot_missing_since: float | None = None  # not registered yet: asked again later

    async def _bot_user_id(self, s: AsyncSession) -> str | None:
        if self._bot_id is not None or not self.bot_login:
            return self._bot_id
        missing = self._bot_missing_since
        if missing is not None and time.monotonic() - missing < BOT_RECHECK_S:
            return None  # not one query per batch while the bot is not registered
        self._bot_id = await twitch_id_of(s, self.bot_login)
        self._bot_missing_since = None if self._bot_id else time.monotonic()
        return self._bot_id

    async def process_batch(self, uow: UnitOfWork, limit: int = 500) -> IngestResult:
        """Claim, apply and mark a batch inside ``uow`` (the caller commits)."""
        s = uow.session
        res = IngestResult()
        batch = await self.inbox.claim(s, limit)
        if not batch:
            return res
        chats: Chats = defaultdict(list)
        polls: list[PollTally] = []
        errors: dict[int, str] = {}
        for item in batch:
            try:
                message = from_inbox(item.kind, item.payload, item.sent_at)
            except BadInbound as exc:
                errors[item.id] = str(exc)[:200]
                res.ignored += 1
                continue
            if isinstance(message, ChatLine):
                if max(len(message.chatter_id), len(message.broadcaster_id)) > MAX_ID:
                    errors[item.id] = "malformed: user id too long"
                    res.ignored += 1
                    continue
                chats[message.broadcaster_id].append((item, message))
            elif isinstance(message, PollTally):
                polls.append(message)
            else:
                res.revoked.append(message)
        earliest = min(
            (chat.sent_at for items in chats.values() for _, chat in items),
            default=dt.datetime.now(dt.UTC),
        )
        owed = await repo.lock_batch_sessions(
            s,
            [*chats, *(r.broadcaster_id for r in res.revoked if r.broadcaster_id)],
            earliest,
            [p.poll_id for p in polls],
        )
        for revocation in res.revoked:
            self._revoked(uow, revocation, owed)
        bot_id = await self._bot_user_id(s)
        for broadcaster_id, items in chats.items():
            try:
                # A savepoint per channel: a message the database refuses fails its own
                # channel's share of the batch (marked with the error), never the whole loop.
                async with s.begin_nested():
                    await self._apply_chats(
                        uow, broadcaster_id, items, owed.get(broadcaster_id, []), bot_id, res
                    )
            except DETERMINISTIC_ERRORS as exc:
                log.exception("sessions.ingest.chat_failed", broadcaster_id=broadcaster_id)
                for item, _ in items:
                    errors[item.id] = f"failed: {type(exc).__name__}"
                res.ignored += len(items)
        for tally in polls:
            try:
                async with s.begin_nested():
                    event = await record_poll_tally(
                        s, tally.poll_id, tally.counts, final=tally.final, at=tally.at
                    )
            except DETERMINISTIC_ERRORS:
                log.exception("sessions.ingest.poll_failed", poll_id=tally.poll_id)
                event = None
            if event is None:
                log.info("sessions.poll.unknown", poll_id=tally.poll_id)
                res.ignored += 1
            else:
                uow.record(event)
        await self.inbox.mark_done(s, [item.id for item in batch], errors)
        res.processed = len(batch)
        return res

    async def _apply_chats(
        self,
        uow: UnitOfWork,
        broadcaster_id: str,
        items: list[tuple[PendingMessage, ChatLine]],
        candidates: list[ListeningSession],
        bot_id: str | None,
        res: IngestResult,
    ) -> None:
        if not candidates:
            res.ignored += len(items)
            return
        by_session: dict[int, list[ChatLine]] = defaultdict(list)
        for _, chat in items:
            by_session[_session_for(candidates, chat.sent_at).id].append(chat)
        for row in candidates:
            if row.id in by_session:
                await self._apply_to(uow, row, broadcaster_id, by_session[row.id], bot_id, res)

    async def _apply_to(
        self,
        uow: UnitOfWork,
        row: ListeningSession,
        broadcaster_id: str,
        chats: list[ChatLine],
        bot_id: str | None,
        res: IngestResult,
    ) -> None:
        scale = repo.scale_of(row)
        votes = []
        asked: list[ChatCommandAsked] = []
        ignored = 0
        # In "poll" mode viewers vote in the Twitch poll only: their chat ratings are not
        # counted (the streamer's own rating in chat still is).
        polls_only = row.vote_mode == "poll"
        for chat in chats:
            role = classify_chat(chat.chatter_id, broadcaster_id, bot_id)
            option = parse_vote(chat.text, scale) if role != "ignored" else None
            if option is None or (polls_only and role != "streamer"):
                ignored += 1
                command = parse_command(chat.text) if role != "ignored" else None
                if command is not None and row.status == "active" and _enabled(row, command):
                    asked.append(
                        ChatCommandAsked(
                            session_id=row.id,
                            broadcaster_id=broadcaster_id,
                            command=command,
                            viewer_id=chat.chatter_id,
                            viewer_name=chat.chatter_name or chat.chatter_login,
                            is_streamer=role == "streamer",
                            sent_at=chat.sent_at,
                        )
                    )
                continue
            votes.append(
                IncomingVote(
                    viewer_id=chat.chatter_id,
                    option=option,
                    is_streamer=role == "streamer",
                    source="chat",
                    sent_at=chat.sent_at,
                    viewer_name=chat.chatter_name or chat.chatter_login or None,
                )
            )
        outcome = await apply_votes(uow.session, row, votes)
        early = [
            {
                "viewer_id": vote.viewer_id,
                "viewer_name": (vote.viewer_name or "")[:100] or None,
                "value": vote.option,
                "source": vote.source,
                "sent_at": vote.sent_at,
            }
            for vote, reason in outcome.rejected
            if reason == "before_start" and row.status == "active"
        ]
        if early:
            # Heard before the start (the stream delay): shown in the feed, counted nowhere.
            await repo.add_early_votes(uow.session, row.id, early)
            if not outcome.accepted:
                uow.record(SessionChanged(session_id=row.id))
        # Counted only once the channel's share applied (the caller may roll it back).
        res.ignored += ignored
        res.accepted += len(outcome.accepted)
        res.rejected += len(outcome.rejected)
        for event in outcome.accepted:
            uow.record(event)
        for question in asked:  # answered after the commit, off this transaction
            uow.record(question)

    def _revoked(
        self, uow: UnitOfWork, rev: SubscriptionRevoked, owed: dict[str, list[ListeningSession]]
    ) -> None:
        """Forget the subscription on the session that owns it and tell the streamer.
        Renewing it is an external call: the ingest loop starts it after the commit."""
        log.info(
            "twitch.eventsub.revoked",
            subscription_id=rev.subscription_id,
            type=rev.subscription_type,
            reason=rev.reason,
        )
        if rev.broadcaster_id is None:
            return
        active = [r for r in owed.get(rev.broadcaster_id, []) if r.status == "active"]
        if not active:
            return
        row = active[0]
        if rev.subscription_id not in (row.subscriptions or []):
            return  # not (or no longer) ours: e.g. already renewed
        row.subscriptions = [x for x in row.subscriptions if x != rev.subscription_id]
        row.notice = revoked_notice(rev.subscription_type, rev.reason)
        uow.record(SessionChanged(session_id=row.id))


def _enabled(row: ListeningSession, command: str) -> bool:
    return bool((row.chat_commands or {}).get(command, False))


def revoked_notice(subscription_type: str, reason: str) -> str:
    what = "chat" if subscription_type in CHAT_TYPES else "poll"
    return f"Twitch stopped sending {what} events ({reason}); renewing the subscription."


async def ingest_once(kernel: Kernel, ingestor: Ingestor, limit: int = 500) -> IngestResult:
    async with kernel.unit_of_work(actor="twitch") as uow:
        res = await ingestor.process_batch(uow, limit)
        await uow.commit()
    if res.processed:
        m = kernel.metrics
        m.inbox_batch.observe(res.processed)
        m.votes.labels("chat", "accepted").inc(res.accepted)
        m.votes.labels("chat", "rejected").inc(res.rejected)
        m.votes.labels("chat", "ignored").inc(res.ignored)
    return res


async def run_ingest(kernel: Kernel, ingestor: Ingestor, keeper: SubscriptionKeeper) -> None:
    """Process the inbox until the process stops: woken by the inbox writer's commits, and
    looking on its own every second. Safe to run in several processes at once."""
    wake = kernel.broker.subscribe(INBOX_TOPIC)
    try:
        while not kernel.stopping.is_set():
            try:
                res = await ingest_once(kernel, ingestor)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("ingest.batch.failed")
                await asyncio.sleep(1)
                continue
            for revocation in res.revoked:
                kernel.spawn(
                    keeper.renew_revoked(revocation),
                    f"eventsub.renew.{revocation.subscription_id}",
                )
            if res.processed == 0:
                with contextlib.suppress(TimeoutError):
                    await wake.get(timeout=1.0)
                while not wake.queue.empty():
                    wake.queue.get_nowait()
    finally:
        wake.close()
