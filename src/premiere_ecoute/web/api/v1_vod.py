"""JSON API v1, the session after the stream: its timeline (votes per minute, running score,
track spans, highlights), its YouTube chapters, and the VOD it was recorded in."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from premiere_ecoute.accounts.models import User
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions import queries
from premiere_ecoute.sessions.scores.vod import parse_offset, vod_of
from premiere_ecoute.web.api.v1_schema import COMMAND, READ, Text, error_responses
from premiere_ecoute.web.auth import api_user
from premiere_ecoute.web.deps import deps

router = APIRouter(prefix="/api/v1", tags=["v1"], responses=error_responses(400, 401, 422))
Caller = Annotated[User, Depends(api_user)]
Offset = Annotated[
    str | None,
    Query(
        max_length=20,
        description="Where the session starts in the video (1:02:03, 62:03 or seconds); "
        "the saved VOD offset by default",
    ),
]
Score = float | str | None


class TrackRef(BaseModel):
    track_id: int
    track_number: int
    name: str


class TrackSpanOut(TrackRef):
    index: int = Field(description="Position in the session, from 0")
    start_s: float = Field(description="Seconds from the session start")
    end_s: float
    start_clock: str = Field(description="start_s as mm:ss (hh:mm:ss from an hour)")
    votes: int = Field(description="Viewer votes placed in this span")
    viewer_score: Score
    score_label: str | None = Field(description="The score as chapters write it: 7.4/10")
    vod_link: str | None = Field(description="The VOD at this track, when a VOD is saved")


class MinuteOut(BaseModel):
    minute: int
    start_s: int
    votes: int
    score: float | None = Field(description="Running viewer score at the end of the minute")


class BurstOut(BaseModel):
    start_s: float
    at_clock: str
    votes: int
    window_s: int
    track: TrackRef | None
    vod_link: str | None


class SwingOut(BaseModel):
    from_s: int
    at_s: int
    at_clock: str
    before: float
    after: float
    delta: float
    track: TrackRef | None
    vod_link: str | None


class SilenceOut(BaseModel):
    from_s: float
    to_s: float
    from_clock: str
    to_clock: str
    seconds: float
    vod_link: str | None


class HighlightsOut(BaseModel):
    burst: BurstOut | None = Field(description="Most viewer votes within 10 seconds")
    swing: SwingOut | None = Field(description="Largest minute-to-minute running score change")
    silence: SilenceOut | None = Field(description="Longest stretch without a viewer vote")


class VodOut(BaseModel):
    kind: str = Field(description="twitch or youtube")
    url: str
    offset_s: int


class ScaleOut(BaseModel):
    kind: str
    options: list[str]


class SavedVodOut(BaseModel):
    session_id: int
    kind: str | None = Field(description="twitch or youtube; null when no VOD is saved")
    url: str | None
    offset_s: int = Field(description="Where the session starts in the video, in seconds")


class TimelineOut(BaseModel):
    session_id: int
    status: str
    offset_s: int = Field(description="Where the session starts in the video, in seconds")
    started_at: str | None
    ended_at: str | None
    duration_s: float
    stream_delay_s: int
    scale: ScaleOut
    viewer_score: Score
    vod: VodOut | None
    tracks: list[TrackSpanOut]
    minutes: list[MinuteOut]
    highlights: HighlightsOut
    chapters: list[str]


class ChaptersOut(BaseModel):
    session_id: int
    offset_s: int
    chapters: list[str]
    text: str = Field(description="The chapter lines, ready to paste in a YouTube description")


class VodBody(BaseModel):
    url: Annotated[Text, Field(max_length=500)] = Field(
        "", description="A Twitch (twitch.tv/videos/ID) or YouTube video link; empty clears it"
    )
    offset: Annotated[Text, Field(max_length=20)] | int = Field(
        "", description="Where the session starts in the video: 1:02:03, 62:03 or seconds"
    )


async def _after(
    request: Request, user: User, session_id: int, offset: str | None
) -> dict[str, Any]:
    c = deps(request)
    offset_s = parse_offset(offset) if offset is not None else None
    async with c.db.session() as s:
        await queries.check_timeline_readable(s, session_id, user.id, user.is_admin)
        after = await queries.session_after(s, c.kernel.store, session_id, now=c.clock.now())
    return after.as_json(offset_s)


@router.get("/sessions/{session_id}/timeline", responses=READ, response_model=TimelineOut)
async def timeline(
    request: Request, user: Caller, session_id: int, offset: Offset = None
) -> dict[str, Any]:
    """Rebuilt from the session's event log. Public once the session is stopped."""
    return await _after(request, user, session_id, offset)


@router.get("/sessions/{session_id}/chapters", responses=READ, response_model=ChaptersOut)
async def chapters(
    request: Request, user: Caller, session_id: int, offset: Offset = None
) -> dict[str, Any]:
    data = await _after(request, user, session_id, offset)
    lines = data["chapters"]
    return {
        "session_id": session_id,
        "offset_s": data["offset_s"],
        "chapters": lines,
        "text": "\n".join(lines) + ("\n" if lines else ""),
    }


@router.put("/sessions/{session_id}/vod", responses=COMMAND, response_model=SavedVodOut)
async def set_vod(request: Request, user: Caller, session_id: int, body: VodBody) -> dict[str, Any]:
    """Save the video the session was recorded in (its streamer or an admin); an empty
    ``url`` clears it."""
    row = await deps(request).bus.execute(
        cmd.SetVod(session_id=session_id, actor_id=user.id, url=body.url, offset=str(body.offset)),
        actor=user.login,
    )
    vod = vod_of(row.vod_url)
    return {
        "session_id": row.id,
        "kind": vod.kind if vod else None,
        "url": vod.url if vod else None,
        "offset_s": row.vod_offset_s,
    }
