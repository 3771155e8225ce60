"""Live announcements: once a unit of work has committed, one broker message per session
whose live view changed, however many events the commit recorded.

Every web process follows the one ``live`` topic and refreshes the pages, overlays and API
streams it serves for that session and its streamer (``web.live``)."""

from __future__ import annotations

from collections.abc import Sequence

from premiere_ecoute.core.broker import Broker
from premiere_ecoute.core.db import Database
from premiere_ecoute.core.messages import Event
from premiere_ecoute.sessions import queries
from premiere_ecoute.sessions.events import (
    SessionEvent,
    SessionPrepared,
    SessionStarted,
    SessionStopped,
)
from premiere_ecoute.telemetry.metrics import Metrics

LIVE_TOPIC = "live"
MAX_REMEMBERED = 10_000


class SessionAnnouncer:
    """A batch subscriber of the event dispatcher (``EventDispatcher.subscribe_batch``)."""

    def __init__(self, db: Database, broker: Broker, metrics: Metrics) -> None:
        self._db = db
        self._broker = broker
        self._metrics = metrics
        # session id -> streamer id: it never changes, so it is asked once per session.
        self._owners: dict[int, int | None] = {}

    async def __call__(self, events: Sequence[Event]) -> None:
        # session id -> whether it started or stopped (its streamer went live or off air)
        changed: dict[int, bool] = {}
        for event in events:
            if isinstance(event, SessionEvent):
                lifecycle = isinstance(event, SessionStarted | SessionStopped)
                changed[event.session_id] = changed.get(event.session_id, False) or lifecycle
                if isinstance(event, SessionPrepared):
                    self._owners[event.session_id] = event.user_id
        for session_id, lifecycle in changed.items():
            await self.announce(session_id, lifecycle=lifecycle)

    async def announce(self, session_id: int, *, lifecycle: bool = False) -> None:
        """``lifecycle``: the session started or stopped, which the dashboards of the
        streamer's followers show ("Live now")."""
        if session_id not in self._owners:
            if len(self._owners) >= MAX_REMEMBERED:
                self._owners.clear()
            async with self._db.session() as s:
                self._owners[session_id] = await queries.owner_of(s, session_id)
        user_id = self._owners[session_id]
        self._metrics.broadcasts.inc()
        message: dict[str, object] = {"session_id": session_id, "user_id": user_id}
        if lifecycle:
            message["lifecycle"] = True
        await self._broker.publish(LIVE_TOPIC, message)
