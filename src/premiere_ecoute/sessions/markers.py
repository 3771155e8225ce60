"""Twitch stream markers at each track of an active session (``N. Title``), so the streamer
finds every track in the VOD.

Best effort, beside the show: a subscriber of the event dispatcher hears ``TrackChanged`` (a
start records one for the first track) once it is committed and marks the stream in a
background task, so a slow or refusing Twitch never delays a track change. A refusal
(offline channel, missing scope, rate limit, any other error) is shown on the control page
once: the session keeps the outcome of its last marker, and the same refusal again is not
told again."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from premiere_ecoute.core.kernel import Kernel
from premiere_ecoute.core.messages import Event
from premiere_ecoute.sessions import repository as repo
from premiere_ecoute.sessions.events import SessionChanged, TrackChanged
from premiere_ecoute.sessions.ports import MarkerRefused, StreamMarkers
from premiere_ecoute.sessions.scores.vod import marker_description

log = structlog.get_logger(__name__)

NOTICE_PREFIX = "No stream marker: "
NOTICES = {
    "offline": NOTICE_PREFIX
    + "Twitch only marks a live stream that keeps its VODs. The session goes on.",
    "scope": NOTICE_PREFIX
    + "allow Premiere Ecoute to mark your stream (Account page, Grant stream markers).",
    "rate_limited": NOTICE_PREFIX + "Twitch's rate limit was reached; the next track tries again.",
    "error": NOTICE_PREFIX + "Twitch failed (%(message)s).",
}


class StreamMarkerWriter:
    """A subscriber of ``TrackChanged`` on the event dispatcher."""

    def __init__(self, kernel: Kernel, markers: StreamMarkers) -> None:
        self._k = kernel
        self._markers = markers
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}  # lock, tasks using it
        self._pending: set[asyncio.Task[Any]] = set()

    def subscribe(self) -> None:
        # A start records the first track's TrackChanged too.
        self._k.dispatcher.subscribe(TrackChanged, self)

    async def __call__(self, event: Event) -> None:
        if not isinstance(event, TrackChanged):
            return
        task = self._k.spawn(self.mark(event.session_id, event.track_id), "sessions.marker")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        """Wait for the markers asked so far (tests, shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def mark(self, session_id: int, track_id: int) -> str | None:
        """Mark the stream for ``track_id`` if it is still the session's current track;
        returns the outcome (``ok`` or the refusal), None when there was nothing to mark."""
        lock, users = self._locks.get(session_id, (asyncio.Lock(), 0))
        self._locks[session_id] = (lock, users + 1)
        try:
            async with lock:  # one session's markers go out in the order of its tracks
                return await self._mark(session_id, track_id)
        finally:
            lock, users = self._locks[session_id]
            if users <= 1:
                del self._locks[session_id]
            else:
                self._locks[session_id] = (lock, users - 1)

    async def _mark(self, session_id: int, track_id: int) -> str | None:
        async with self._k.db.session() as s:
            row = await repo.get_session(s, session_id)
            if row.status != "active" or row.current_track_id != track_id:
                return None  # moved on meanwhile: the newer change marks its own track
            owner = await repo.owner_of(s, row)
            ref = next(r for r in await repo.track_refs(s, row) if r.track_id == track_id)
        if not owner.twitch_user_id:
            return None
        description = marker_description(ref.track_number, ref.name)
        outcome, message = "ok", ""
        try:
            await self._markers.create_marker(owner.twitch_user_id, description)
        except MarkerRefused as exc:
            outcome, message = exc.reason, exc.message
        except Exception as exc:  # best effort: nothing here may stop the show
            outcome, message = "error", str(exc) or type(exc).__name__
        log.info("sessions.marker", session_id=session_id, outcome=outcome, reason=message)
        await self._record(session_id, outcome, message)
        return outcome

    async def _record(self, session_id: int, outcome: str, message: str) -> None:
        async with self._k.unit_of_work(actor="markers") as uow:
            row = await repo.get_session(uow.session, session_id, lock=True)
            told = row.marker_status
            row.marker_status = outcome
            if outcome == "ok":
                if row.notice and row.notice.startswith(NOTICE_PREFIX):
                    row.notice = None
                    uow.record(SessionChanged(session_id=session_id))
            elif outcome != told:
                row.notice = (NOTICES[outcome] % {"message": message[:300]})[:500]
                uow.record(SessionChanged(session_id=session_id))
            await uow.commit()
