"""Answering ``!score``, ``!myvote`` and ``!top`` in chat, off the vote path.

The ingest only notices a command (``ChatCommandAsked``, recorded on its unit of work); once
its batch has committed, the dispatcher hands the question to ``ChatCommands``, which checks
the rate limits at once (in memory, no I/O) and queues it. Its own loop then reads the report
in a separate read-only session and hands the answer to the chat queue, which keeps Twitch's
limits. A slow answer never holds the ingest's transaction or its loop.

Limits (per process): a viewer gets at most one answer per ``viewer_interval_s`` in a channel,
and a channel at most ``channel_max`` answers per ``channel_window_s``; what goes beyond is
ignored silently, as Twitch bots do. A full queue drops the question.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from dataclasses import dataclass

import structlog

from premiere_ecoute.core.clock import Clock
from premiere_ecoute.core.db import Database
from premiere_ecoute.core.errors import NotFound
from premiere_ecoute.core.messages import Event
from premiere_ecoute.core.resilience.ratelimit import SlidingWindowLimiter
from premiere_ecoute.sessions import queries
from premiere_ecoute.sessions import repository as repo
from premiere_ecoute.sessions.events import ChatCommandAsked
from premiere_ecoute.sessions.models import ListeningSession
from premiere_ecoute.sessions.ports import Chat, Translator
from premiere_ecoute.sessions.scores import Timeline
from premiere_ecoute.sessions.scores.chat_answers import answer_myvote, answer_score, answer_top

log = structlog.get_logger(__name__)
MAX_REMEMBERED = 10_000


@dataclass(frozen=True, slots=True)
class CommandLimits:
    viewer_interval_s: float = 30.0
    channel_max: int = 3
    channel_window_s: float = 30.0
    queue_size: int = 200


class ChatCommands:
    """A subscriber of ``ChatCommandAsked`` (``EventDispatcher.subscribe``) and the loop that
    answers (``run``)."""

    def __init__(
        self,
        db: Database,
        chat: Chat,
        translator: Translator,
        clock: Clock,
        limits: CommandLimits | None = None,
    ) -> None:
        self._db = db
        self._chat = chat
        self._translator = translator
        self._clock = clock
        self.limits = limits or CommandLimits()
        self._queue: asyncio.Queue[ChatCommandAsked] = asyncio.Queue(self.limits.queue_size)
        self._viewers: dict[tuple[str, str], float] = {}
        self._channels: dict[str, SlidingWindowLimiter] = {}
        self.limited = 0
        self.dropped = 0

    async def __call__(self, event: Event) -> None:
        if not isinstance(event, ChatCommandAsked):
            return
        if not self.admit(event):
            self.limited += 1
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("sessions.chat_command.dropped", session_id=event.session_id)

    def admit(self, event: ChatCommandAsked) -> bool:
        """Within the viewer's and the channel's limits? (Takes the slots when it is.)"""
        now = self._clock.monotonic()
        key = (event.broadcaster_id, event.viewer_id)
        last = self._viewers.get(key)
        if last is not None and now - last < self.limits.viewer_interval_s:
            return False
        limiter = self._channels.get(event.broadcaster_id)
        if limiter is None:
            limiter = self._channels[event.broadcaster_id] = SlidingWindowLimiter(
                self.limits.channel_max, self.limits.channel_window_s, self._clock.monotonic
            )
        if limiter.try_acquire() > 0:
            return False
        if len(self._viewers) >= MAX_REMEMBERED:
            horizon = now - self.limits.viewer_interval_s
            self._viewers = {k: t for k, t in self._viewers.items() if t > horizon}
        self._viewers[key] = now
        return True

    def pending(self) -> int:
        return self._queue.qsize()

    async def run(self, stop: asyncio.Event) -> None:
        """Answer queued questions until ``stop`` is set."""
        while not stop.is_set():
            event = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    event = await self._queue.get()
            if event is not None:
                await self.answer_logged(event)

    async def drain(self) -> list[str]:
        """Answer every queued question now (tests, and a process that stops)."""
        answers = []
        while not self._queue.empty():
            text = await self.answer_logged(self._queue.get_nowait())
            if text is not None:
                answers.append(text)
        return answers

    async def answer_logged(self, event: ChatCommandAsked) -> str | None:
        try:
            return await self.answer(event)
        except Exception:
            log.exception("sessions.chat_command.failed", session_id=event.session_id)
            return None

    async def answer(self, event: ChatCommandAsked) -> str | None:
        """Say the answer in the session's chat; None when there is nothing to say (the
        session ended or the command was switched off meanwhile)."""
        async with self._db.session() as s:
            try:
                row = await repo.get_session(s, event.session_id)
            except NotFound:
                return None
            if row.status != "active" or not (row.chat_commands or {}).get(event.command):
                return None
            track_id = heard_track(row, event)
            if track_id is None:
                return None
            gettext = functools.partial(self._translator.gettext, row.chat_language)
            if event.command == "myvote":
                refs = await repo.track_refs(s, row)
                name = next((r.name for r in refs if r.track_id == track_id), "")
                rating = await queries.rating_of(s, row.id, track_id, event.viewer_id)
                text: str | None = answer_myvote(event.viewer_name, name, rating, gettext)
            else:
                report = await queries.report(s, row.id)
                if event.command == "top":
                    text = answer_top(report, gettext, row.chat_language)
                else:
                    text = answer_score(report, track_id, gettext, row.chat_language)
        if text is not None:
            self._chat.announce(event.broadcaster_id, text)
        return text


def heard_track(row: ListeningSession, event: ChatCommandAsked) -> int | None:
    """The track the asker was hearing (sent time minus the stream delay, as for a vote),
    else the current one."""
    if row.timeline:
        attribution = Timeline.from_json(row.timeline).attribute(event.sent_at, row.stream_delay_s)
        if attribution.track_id is not None:
            return attribution.track_id
    return row.current_track_id
