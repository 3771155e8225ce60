"""Follow playback (SPEC §3): one monitor per active Spotify session reads the player every
``player_poll_s`` and moves the session when the streamer changes track in Spotify.

A supervisor rescans active sessions every few seconds (sooner when ``sessions:changed`` is
published). It holds a PostgreSQL advisory lock per followed session on one dedicated
connection, so across all processes exactly one monitor follows a session; if the connection
dies, every lock is gone and its monitors stop before another process takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog

from premiere_ecoute.core.broker import Subscription
from premiere_ecoute.core.errors import AccountNotConnected, DomainError, ExternalServiceError
from premiere_ecoute.core.kernel import Kernel
from premiere_ecoute.core.locks import LockHolder
from premiere_ecoute.sessions import events, queries
from premiere_ecoute.sessions import repository as repo
from premiere_ecoute.sessions.commands import ChangeTrack
from premiere_ecoute.sessions.monitor_logic import (
    FINISHED,
    FOLLOW,
    HOLD,
    Memory,
    Sighting,
    decide,
    sight,
)
from premiere_ecoute.sessions.ports import Playback
from premiere_ecoute.sessions.queries.show import SPOTIFY_DISCONNECTED

log = structlog.get_logger(__name__)
CHANGED_TOPIC = "sessions:changed"
RESCAN_S = 2.0
MAX_BACKOFF_S = 30.0
DEGRADED = "Spotify unreachable, retrying"
# The account is unlinked or its access was refused for good: retrying will not help.
DISCONNECTED = f"{SPOTIFY_DISCONNECTED}: reconnect it, or switch this session to manual playback"
OUTSIDE = "Spotify is playing something else: following is paused until the album plays again"
FINISHED_NOTICE = "Album finished: stop the session to post the results"
HOLDING = "Track finished: press Next when the chat has rated it"
OUR_NOTICES = (DEGRADED, DISCONNECTED, OUTSIDE, FINISHED_NOTICE, HOLDING)
# First half of the two-key advisory lock; the session id is the second ("PE" in ASCII).
MONITOR_LOCK_CLASS = 0x5045


async def _pause(stopping: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds``; True when the process is stopping."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stopping.wait()
    return stopping.is_set()


# A reading this far from where the last one predicts means the streamer sought.
SEEK_TOLERANCE_MS = 3000


class PlayerMonitor:
    def __init__(self, kernel: Kernel, playback: Playback, followed: queries.Followed) -> None:
        self.k = kernel
        self.playback = playback
        self.f = followed
        self.memory = Memory()
        self.failures = 0
        self._last_signature: tuple[str, bool, int | None] | None = None
        self._last_progress: tuple[int | None, float] = (None, 0.0)
        self.degraded: str | None = None
        self.notice: str | None = None  # the notice this monitor last wrote
        self.reading: dict[str, Any] | None = None  # the player reading last stored
        self.poll_s = kernel.settings.player_poll_s

    @property
    def session_id(self) -> int:
        return self.f.session_id

    async def run(self) -> None:
        log.info("sessions.monitor.started", session_id=self.session_id)
        try:
            while not self.k.stopping.is_set():
                try:
                    delay = await self.tick()
                except asyncio.CancelledError:
                    raise
                except Exception:  # the monitor must outlive any bug or outage
                    log.exception("sessions.monitor.tick_failed", session_id=self.session_id)
                    delay = self._backoff(None)
                if delay is None or await _pause(self.k.stopping, delay):
                    return
        finally:
            log.info("sessions.monitor.stopped", session_id=self.session_id)

    async def tick(self) -> float | None:
        """One reading; returns the delay before the next, or None when the session ended."""
        async with self.k.db.sessionmaker() as s:
            now = await queries.progress(s, self.session_id)
        if now is None or now.status != "active" or now.playback != "spotify":
            return None  # stopped, or switched to manual playback: nothing to follow
        if self.notice is None and now.notice and now.notice.startswith(OUR_NOTICES):
            self.notice = now.notice  # left by an earlier monitor of this session
        try:
            state = await self.playback.state(self.f.user_id)
        except Exception as exc:
            delay = self._backoff(exc)
            trouble = "disconnected" if isinstance(exc, AccountNotConnected) else "degraded"
            await self._show(self._wanted_notice(), self._status(trouble, None, delay))
            return delay
        self.failures, self.degraded = 0, None
        seen = sight(self.f, state, now.current_index)
        actions = decide(
            self.f,
            seen,
            now.current_index,
            self.memory,
            now=self.k.clock.monotonic(),
            settle_s=max(3 * self.poll_s, 1.0),
            near_end_ms=max(2 * self.poll_s * 1000, 3000),
        )
        for action in actions:
            if action.kind == FOLLOW and action.index is not None:
                await self._follow(action.index)
            elif action.kind == HOLD:
                await self._hold()
            elif action.kind == FINISHED:
                log.info("sessions.monitor.album_finished", session_id=self.session_id)
        reading = self._status(self._state_name(seen), seen)
        # Paused, resumed or sought in Spotify itself: progress bars must follow.
        await self._show(self._wanted_notice(), reading, moved=self._player_moved(seen))
        return self.poll_s

    def _player_moved(self, seen: Sighting) -> bool:
        """True when the player changed in a way a live page cannot extrapolate."""
        at = self.k.clock.monotonic()
        signature = (self._state_name(seen), bool(seen.is_playing), seen.index)
        previous, self._last_signature = self._last_signature, signature
        last_progress, last_at = self._last_progress
        self._last_progress = (seen.progress_ms, at)
        if previous is None or previous != signature:
            return previous is not None
        if seen.progress_ms is None or last_progress is None:
            return False
        expected = last_progress + ((at - last_at) * 1000 if seen.is_playing else 0)
        return abs(seen.progress_ms - expected) > SEEK_TOLERANCE_MS

    def _backoff(self, exc: Exception | None) -> float:
        self.failures += 1
        delay = min(MAX_BACKOFF_S, self.poll_s * 2**self.failures)
        if isinstance(exc, ExternalServiceError) and exc.retry_after_s:
            delay = max(delay, min(MAX_BACKOFF_S, exc.retry_after_s))
        reason = exc.message if isinstance(exc, DomainError) else "network error"
        if exc is not None and not isinstance(exc, DomainError | OSError):
            log.warning("sessions.monitor.unexpected_error", error=repr(exc))
        lost = isinstance(exc, AccountNotConnected)
        self.degraded = f"{DISCONNECTED} ({reason})" if lost else f"{DEGRADED}: {reason}"
        log.info(
            "sessions.monitor.degraded",
            session_id=self.session_id,
            reason=reason,
            retry_in_s=round(delay, 2),
        )
        return delay

    async def _follow(self, index: int) -> None:
        try:
            await self.k.bus.execute(
                ChangeTrack(
                    session_id=self.session_id,
                    actor_id=self.f.user_id,
                    direction="to",
                    position=index + 1,
                    source="spotify",
                    move_player=False,
                ),
                actor="spotify-monitor",
            )
            log.info("sessions.monitor.followed", session_id=self.session_id, position=index + 1)
        except DomainError as exc:
            # The session stopped or moved meanwhile: the next reading decides again.
            log.info("sessions.monitor.follow_refused", session_id=self.session_id, error=str(exc))
            self.memory.known_index = None

    async def _hold(self) -> None:
        """auto_advance is off: Spotify moved on by itself at the end of a track. Pause it
        there; the session stays on the track that ended until the streamer presses Next."""
        try:
            await self.playback.pause(self.f.user_id)
            log.info("sessions.monitor.held", session_id=self.session_id)
        except Exception as exc:
            log.warning("sessions.monitor.hold_failed", session_id=self.session_id, error=str(exc))

    def _wanted_notice(self) -> str | None:
        if self.degraded:
            return self.degraded
        if self.memory.holding is not None:
            return HOLDING
        if self.memory.outside:
            return OUTSIDE
        if self.memory.finished:
            return FINISHED_NOTICE
        return None

    async def _show(
        self, wanted: str | None, reading: dict[str, Any], *, moved: bool = True
    ) -> None:
        """Store the notice and the player reading when a live view must change: the notice
        changed, or the player moved in a way a page cannot extrapolate."""
        notice_changed = wanted != self.notice
        first = self.reading is None
        if not (notice_changed or moved or first):
            return
        async with self.k.unit_of_work(actor="spotify-monitor") as uow:
            s = uow.session
            if notice_changed:
                if wanted is None:
                    assert self.notice is not None
                    await repo.clear_notice(s, self.session_id, self.notice)
                else:
                    await repo.set_notice(s, self.session_id, wanted)
            await repo.set_player(s, self.session_id, {**reading, "message": wanted})
            uow.record(events.SessionChanged(session_id=self.session_id))
            await uow.commit()
        self.notice, self.reading = wanted, reading

    def _state_name(self, seen: Sighting) -> str:
        if self.memory.outside:
            return "outside_album"
        if self.memory.finished:
            return "finished"
        if seen.kind == "idle":
            return "idle"
        return "playing" if seen.is_playing else "paused"

    def _status(
        self, state: str, seen: Sighting | None, retry_in_s: float | None = None
    ) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "state": state,
            "position": seen.index + 1 if seen and seen.index is not None else None,
            "is_playing": bool(seen and seen.is_playing),
            "progress_ms": seen.progress_ms if seen else None,
            "duration_ms": seen.duration_ms if seen else None,
            "failures": self.failures,
            "retry_in_s": retry_in_s,
            "checked_at": self.k.clock.now().isoformat(),
        }


class MonitorSupervisor:
    """Keeps one ``PlayerMonitor`` per active Spotify session whose lock this process holds."""

    def __init__(self, kernel: Kernel, playback: Playback, rescan_s: float = RESCAN_S) -> None:
        self.k = kernel
        self.playback = playback
        self.rescan_s = rescan_s
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self._locks: LockHolder | None = None
        self._started = False

    def start(self) -> None:
        """Follow playback in this process (the web process, once at start): rescan when a
        session starts or stops anywhere, and every ``rescan_s``."""
        if self._started:
            return
        self._started = True

        async def wake(event: Any) -> None:
            await self.k.broker.publish(CHANGED_TOPIC, {"session_id": event.session_id})

        self.k.dispatcher.subscribe(events.SessionStarted, wake)
        self.k.dispatcher.subscribe(events.SessionStopped, wake)
        self.k.dispatcher.subscribe(events.PlaybackSwitched, wake)
        self.k.spawn(self.run(), "sessions.monitors")

    def monitored(self) -> set[int]:
        return {sid for sid, task in self.tasks.items() if not task.done()}

    async def run(self) -> None:
        wake = self.k.broker.subscribe(CHANGED_TOPIC)
        try:
            while not self.k.stopping.is_set():
                try:
                    await self.rescan()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("sessions.monitor.rescan_failed")
                    await self._drop_all()
                await self._wait(wake)
        finally:
            wake.close()
            await self._drop_all()

    async def _wait(self, wake: Subscription) -> None:
        getter = asyncio.ensure_future(wake.get())
        stopper = asyncio.ensure_future(self.k.stopping.wait())
        try:
            await asyncio.wait(
                {getter, stopper}, timeout=self.rescan_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            getter.cancel()
            stopper.cancel()

    async def rescan(self) -> None:
        locks = await self._holder()
        for sid, task in list(self.tasks.items()):
            if task.done():
                await self._release(sid)
        async with self.k.db.sessionmaker() as s:
            active = await queries.active_spotify_sessions(s)
        for sid in list(self.tasks):
            if sid not in active:
                await self._release(sid)
        await locks.ping()
        for sid in active:
            if sid in self.tasks or self.k.stopping.is_set():
                continue
            if not await locks.try_lock(sid):
                continue  # another process follows it
            async with self.k.db.sessionmaker() as s:
                followed = await queries.followed(s, sid)
            if followed is None:
                await locks.unlock(sid)
                continue
            monitor = PlayerMonitor(self.k, self.playback, followed)
            self.tasks[sid] = asyncio.create_task(monitor.run(), name=f"monitor:{sid}")

    async def _holder(self) -> LockHolder:
        if self._locks is not None and not self._locks.alive:
            await self._drop_all()  # its locks died with it
        if self._locks is None:
            self._locks = await LockHolder.connect(self.k.db.url, MONITOR_LOCK_CLASS)
        return self._locks

    async def _release(self, sid: int) -> None:
        """Stop one monitor and give its lock back (a failed unlock fails the rescan, which
        then drops the connection and with it every lock)."""
        task = self.tasks.pop(sid, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._locks is not None and not self._locks.conn.closed:
            await self._locks.unlock(sid)

    async def _drop_all(self) -> None:
        tasks, self.tasks = self.tasks, {}
        for task in tasks.values():
            task.cancel()
        for task in tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        locks, self._locks = self._locks, None
        if locks is not None:
            # Give the locks back before closing: the server frees a closed connection's
            # locks a moment later, when another process may already be looking for them.
            with contextlib.suppress(Exception):
                if locks.alive:
                    await asyncio.wait_for(locks.unlock_all(), timeout=2.0)
            with contextlib.suppress(Exception):
                await locks.close()
