"""The vote hot path after the webhook: inbox batch -> routed votes -> one commit.

Chat messages are routed by the broadcaster id in the event (never by subscription id) to the
streamer's active session, or to the session that just stopped (votes sent before
``stopped_at + stream_delay_s`` still count)."""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.accounts.models import User
from premiere_ecoute.apis.twitch.eventsub import messages as m
from premiere_ecoute.apis.twitch.eventsub.parser import parse_payload
from premiere_ecoute.core.event_store import EventStore, NewEvent
from premiere_ecoute.core.inbox import Inbox, PendingMessage
from premiere_ecoute.core.messages import Event
from premiere_ecoute.sessions.events import SessionEvent, VoteAccepted
from premiere_ecoute.sessions.models import ListeningSession, Poll
from premiere_ecoute.sessions.repository import scale_of
from premiere_ecoute.sessions.scores import classify_chat, parse_vote
from premiere_ecoute.sessions.voting import IncomingVote, apply_votes, record_poll_update

log = structlog.get_logger(__name__)
# The longest stream delay (60 s) plus a margin for late deliveries.
RECENT_STOP = dt.timedelta(seconds=75)
MAX_ID = 40  # votes.viewer_id; Twitch user ids are short numbers
DETERMINISTIC_ERRORS = (DataError, IntegrityError, ValueError, TypeError, KeyError)
BOT_RECHECK_S = 60.0


@dataclass
class IngestResult:
    processed: int = 0
    accepted: int = 0
    rejected: int = 0
    ignored: int = 0
    sessions: dict[int, int] = field(default_factory=dict)  # session id -> streamer id
    revoked: list[str] = field(default_factory=list)
    rejected_reasons: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def inbox_payload(message_type: str, body: Any) -> dict[str, Any]:
    return {"type": message_type, "body": body}


async def _candidates(
    s: AsyncSession, broadcaster_id: str, sent_since: dt.datetime
) -> list[ListeningSession]:
    """The broadcaster's active session and those stopped recently enough that the stream
    delay may still owe them votes, newest start first (rows locked)."""
    rows = await s.scalars(
        select(ListeningSession)
        .join(User, User.id == ListeningSession.user_id)
        .where(
            User.twitch_user_id == broadcaster_id,
            or_(
                ListeningSession.status == "active",
                and_(
                    ListeningSession.status == "stopped",
                    ListeningSession.stopped_at >= sent_since - RECENT_STOP,
                ),
            ),
        )
        .order_by(ListeningSession.started_at.desc().nulls_last(), ListeningSession.id.desc())
        .with_for_update(of=ListeningSession)
        .execution_options(populate_existing=True)
    )
    return list(rows)


def _session_for(candidates: list[ListeningSession], sent_at: dt.datetime) -> ListeningSession:
    """The session a message belongs to: the latest one that had started at the moment the
    viewer heard (sent time minus that session's stream delay). A vote for a session that
    stopped a moment ago is not taken by the one that just started."""
    for row in candidates:
        heard = sent_at - dt.timedelta(seconds=row.stream_delay_s)
        if row.started_at is not None and heard >= row.started_at:
            return row
    return candidates[0]  # before every start: the newest rejects it (before_start)


def _earliest(chats: dict[str, list[tuple[PendingMessage, m.ChatMessage]]]) -> dt.datetime:
    times = [chat.sent_at for items in chats.values() for _, chat in items]
    return min(times) if times else dt.datetime.now(dt.UTC)


class Ingestor:
    def __init__(self, inbox: Inbox, store: EventStore, *, bot_login: str = "") -> None:
        self.inbox = inbox
        self.store = store
        self.bot_login = bot_login.lower()
        self._bot_id: str | None = None
        self._bot_missing_since: float | None = None  # not registered yet: asked again later

    async def _lock_sessions(
        self,
        s: AsyncSession,
        chats: dict[str, list[tuple[PendingMessage, m.ChatMessage]]],
        polls: list[tuple[m.PollUpdate, dt.datetime]],
        revocations: list[m.Revocation],
    ) -> None:
        """Lock every session row the batch may touch, in id order, before touching any: two
        ingest loops (web and worker) with overlapping channels then wait for each other
        instead of deadlocking."""
        broadcasters = set(chats) | {
            r.broadcaster_user_id for r in revocations if r.broadcaster_user_id
        }
        ids: set[int] = set()
        if broadcasters:
            found = await s.scalars(
                select(ListeningSession.id)
                .join(User, User.id == ListeningSession.user_id)
                .where(
                    User.twitch_user_id.in_(sorted(broadcasters)),
                    ListeningSession.status.in_(("active", "stopped")),
                    or_(
                        ListeningSession.status == "active",
                        ListeningSession.stopped_at >= _earliest(chats) - RECENT_STOP,
                    ),
                )
            )
            ids.update(found)
        if polls:
            found = await s.scalars(
                select(Poll.session_id).where(
                    Poll.twitch_poll_id.in_(sorted({u.poll_id for u, _ in polls}))
                )
            )
            ids.update(found)
        if ids:
            await s.execute(
                select(ListeningSession.id)
                .where(ListeningSession.id.in_(sorted(ids)))
                .order_by(ListeningSession.id)
                .with_for_update()
            )

    async def _bot_user_id(self, s: AsyncSession) -> str | None:
        if self._bot_id is not None or not self.bot_login:
            return self._bot_id
        missing = self._bot_missing_since
        if missing is not None and time.monotonic() - missing < BOT_RECHECK_S:
            return None  # not one query per batch while the bot is not registered
        self._bot_id = await s.scalar(
            select(User.twitch_user_id).where(User.login == self.bot_login)
        )
        self._bot_missing_since = None if self._bot_id else time.monotonic()
        return self._bot_id

    async def process_batch(self, s: AsyncSession, limit: int = 500) -> IngestResult:
        """Claim, apply and mark a batch inside ``s``'s transaction (the caller commits)."""
        res = IngestResult()
        batch = await self.inbox.claim(s, limit)
        if not batch:
            return res
        chats: dict[str, list[tuple[PendingMessage, m.ChatMessage]]] = defaultdict(list)
        polls: list[tuple[m.PollUpdate, dt.datetime]] = []
        revocations: list[m.Revocation] = []
        errors: dict[int, str] = {}
        for item in batch:
            try:
                parsed = parse_payload(
                    item.payload.get("type", "notification"),
                    item.kind,
                    item.payload.get("body"),
                    item.sent_at or dt.datetime.now(dt.UTC),
                )
            except m.MalformedMessage as exc:
                errors[item.id] = f"malformed: {exc.reason}"
                res.ignored += 1
                continue
            if isinstance(parsed, m.ChatMessage):
                if max(len(parsed.chatter_user_id), len(parsed.broadcaster_user_id)) > MAX_ID:
                    errors[item.id] = "malformed: user id too long"
                    res.ignored += 1
                    continue
                chats[parsed.broadcaster_user_id].append((item, parsed))
            elif isinstance(parsed, m.PollUpdate):
                polls.append((parsed, item.sent_at or dt.datetime.now(dt.UTC)))
            elif isinstance(parsed, m.Revocation):
                res.revoked.append(parsed.subscription_id)
                revocations.append(parsed)
            else:
                res.ignored += 1
        await self._lock_sessions(s, chats, polls, revocations)
        for revocation in revocations:
            await self._revoked(s, revocation, res)
        events: list[Event] = []
        bot_id = await self._bot_user_id(s)
        for broadcaster_id, items in chats.items():
            try:
                # A savepoint per channel: a message the database refuses fails its own
                # channel's share of the batch (marked with the error), never the whole loop.
                async with s.begin_nested():
                    events.extend(await self._apply_chats(s, broadcaster_id, items, bot_id, res))
            except DETERMINISTIC_ERRORS as exc:
                log.exception("sessions.ingest.chat_failed", broadcaster_id=broadcaster_id)
                for item, _ in items:
                    errors[item.id] = f"failed: {type(exc).__name__}"
                res.ignored += len(items)
        for update_, at in polls:
            try:
                async with s.begin_nested():
                    polled = await self._poll(s, update_, at)
            except DETERMINISTIC_ERRORS:
                log.exception("sessions.ingest.poll_failed", poll_id=update_.poll_id)
                polled = None
            if polled is not None:
                events.append(polled[0])
                res.sessions[polled[1].id] = polled[1].user_id
            else:
                res.ignored += 1
        if events:
            now = dt.datetime.now(dt.UTC)
            await self.store.append(
                s,
                [NewEvent(e.stream, e.type, e.payload(), now, {"actor": "twitch"}) for e in events],
            )
        await self.inbox.mark_done(s, [item.id for item in batch], errors)
        res.processed = len(batch)
        return res

    async def _apply_chats(
        self,
        s: AsyncSession,
        broadcaster_id: str,
        items: list[tuple[PendingMessage, m.ChatMessage]],
        bot_id: str | None,
        res: IngestResult,
    ) -> list[VoteAccepted]:
        candidates = await _candidates(s, broadcaster_id, min(chat.sent_at for _, chat in items))
        if not candidates:
            res.ignored += len(items)
            return []
        by_session: dict[int, list[tuple[PendingMessage, m.ChatMessage]]] = defaultdict(list)
        for item, chat in items:
            by_session[_session_for(candidates, chat.sent_at).id].append((item, chat))
        accepted: list[VoteAccepted] = []
        for row in candidates:
            if row.id in by_session:
                accepted += await self._apply_to(
                    s, row, broadcaster_id, by_session[row.id], bot_id, res
                )
        return accepted

    async def _apply_to(
        self,
        s: AsyncSession,
        row: ListeningSession,
        broadcaster_id: str,
        items: list[tuple[PendingMessage, m.ChatMessage]],
        bot_id: str | None,
        res: IngestResult,
    ) -> list[VoteAccepted]:
        scale = scale_of(row)
        votes = []
        ignored = 0
        for _, chat in items:
            role = classify_chat(chat.chatter_user_id, broadcaster_id, bot_id)
            option = parse_vote(chat.text, scale) if role != "ignored" else None
            if option is None:
                ignored += 1
                continue
            votes.append(
                IncomingVote(
                    viewer_id=chat.chatter_user_id,
                    option=option,
                    is_streamer=role == "streamer",
                    source="chat",
                    sent_at=chat.sent_at,
                )
            )
        outcome = await apply_votes(s, row, votes)
        # Counted only once the channel's share applied (the caller may roll it back).
        res.ignored += ignored
        res.accepted += len(outcome.accepted)
        res.rejected += len(outcome.rejected)
        for _, reason in outcome.rejected:
            res.rejected_reasons[reason] += 1
        if outcome.accepted:
            res.sessions[row.id] = row.user_id
        return outcome.accepted

    async def _poll(
        self, s: AsyncSession, upd: m.PollUpdate, at: dt.datetime
    ) -> tuple[SessionEvent, ListeningSession] | None:
        counts: dict[str, int] = {}
        for choice in upd.choices:
            counts[choice.title] = counts.get(choice.title, 0) + int(choice.votes)
        result = await record_poll_update(s, upd.poll_id, counts, final=upd.kind == "end", at=at)
        if result is None:
            log.info("sessions.poll.unknown", poll_id=upd.poll_id)
        return result

    async def _revoked(self, s: AsyncSession, rev: m.Revocation, res: IngestResult) -> None:
        """Mark the subscription revoked on the session that owns it and tell the streamer.
        Renewing it is an external call: the transport that received the revocation starts
        ``eventsub_runtime.renew_revoked`` beside the hot path (either may finish first)."""
        log.info(
            "twitch.eventsub.revoked",
            subscription_id=rev.subscription_id,
            type=rev.subscription_type,
            reason=rev.status,
        )
        if rev.broadcaster_user_id is None:
            return
        now = dt.datetime.now(dt.UTC)
        active = [
            r for r in await _candidates(s, rev.broadcaster_user_id, now) if r.status == "active"
        ]
        if not active:
            return
        row = active[0]
        if rev.subscription_id not in (row.subscriptions or []):
            return  # not (or no longer) ours: e.g. already renewed
        row.subscriptions = [x for x in row.subscriptions if x != rev.subscription_id]
        row.notice = revoked_notice(rev.subscription_type, rev.status)
        res.sessions[row.id] = row.user_id


def revoked_notice(subscription_type: str, reason: str) -> str:
    what = "chat" if subscription_type == m.CHAT_MESSAGE else "poll"
    return f"Twitch stopped sending {what} events ({reason}); renewing the subscription."
