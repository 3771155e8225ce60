"""The session after the stream, read from its event log: the timeline page, chapters and
highlights (``scores.vod`` holds the rules), with the VOD the streamer saved."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.core.errors import N_, NotFound, refuse
from premiere_ecoute.core.event_store import EventStore
from premiere_ecoute.sessions.models import ListeningSession
from premiere_ecoute.sessions.repository import get_session, track_refs
from premiere_ecoute.sessions.scores.vod import (
    LoggedEvent,
    SessionTimeline,
    Vod,
    build_timeline,
    timeline_json,
    vod_of,
)


@dataclass
class SessionAfter:
    row: ListeningSession
    timeline: SessionTimeline
    vod: Vod | None

    def as_json(self, offset_s: int | None = None) -> dict[str, Any]:
        """``offset_s``: where the session starts in the video; the saved one by default."""
        offset = self.row.vod_offset_s if offset_s is None else offset_s
        return {
            "session_id": self.row.id,
            "status": self.row.status,
            "offset_s": offset,
            **timeline_json(self.timeline, vod=self.vod, offset_s=offset),
        }


async def session_after(
    s: AsyncSession, store: EventStore, session_id: int, *, now: dt.datetime
) -> SessionAfter:
    row = await get_session(s, session_id)
    events = [
        LoggedEvent(e.type, e.payload, e.occurred_at)
        for e in await store.read_stream(s, f"session-{row.id}")
    ]
    timeline = build_timeline(events, await track_refs(s, row), now=now)
    return SessionAfter(row=row, timeline=timeline, vod=vod_of(row.vod_url))


async def check_timeline_readable(
    s: AsyncSession, session_id: int, user_id: int | None, is_admin: bool
) -> None:
    """A finished session's timeline is public; before that, its streamer's and the admins'.
    Others are told it does not exist."""
    row = await get_session(s, session_id)
    if row.status != "stopped" and row.user_id != user_id and not is_admin:
        raise refuse(NotFound, N_("session %(id)s does not exist"), id=session_id)
