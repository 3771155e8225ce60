"""SSE endpoints: the session stream (API), the public page and the overlay."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from sse_starlette.sse import EventSourceResponse

from premiere_ecoute.accounts.models import User
from premiere_ecoute.accounts.queries import user_by_login
from premiere_ecoute.core.errors import NotFound
from premiere_ecoute.sessions import queries
from premiere_ecoute.sessions.models import ListeningSession
from premiere_ecoute.web.auth import api_user
from premiere_ecoute.web.deps import container_of

router = APIRouter()


def hub(request: Request) -> Any:
    return request.app.state.live


async def snapshot(c: Any, topic: str) -> dict[str, Any]:
    """The full state a live page shows (contract at the top of static/app.js), plus the
    session detail and the report for API clients."""
    kind, _, ident = topic.partition(":")
    async with c.db.session() as s:
        if kind == "session":
            row = await s.get(ListeningSession, int(ident))
        else:
            row = await queries.active_session_of(s, int(ident))
        if row is None:
            return {
                "active": False,
                "status": None,
                "votes_open": False,
                "session": None,
                "report": None,
                "detail": None,
                "track": None,
                "album": None,
                "latest_votes": [],
            }
        # One read of the track list serves the detail and the report (each live update).
        refs = await queries.track_refs(s, row)
        detail = await queries.session_view(s, row, refs)
        report = queries.report_of(row, refs)
        latest = await queries.latest_votes(s, row.id)
        current = detail["current_track"]
        duration = await queries.track_duration_ms(s, current["track_id"]) if current else None
    live = c.services.get("live")
    overlays = live.count(f"streamer:{row.user_id}", "overlay") if live else 0
    track = None
    if current is not None:
        entry: dict[str, Any] = next(
            (t for t in report["tracks"] if t["track_id"] == current["track_id"]), {}
        )
        track = {
            "number": current["position"],
            "total": detail["track_count"],
            "name": current["name"],
            "viewer_score": entry.get("viewer_score"),
            "streamer_score": entry.get("streamer_score"),
            "votes": entry.get("votes"),
            "distribution": entry.get("distribution"),
            **player_progress(
                c.services.get("player_status", {}).get(row.id), current["position"], duration
            ),
        }
    return {
        "active": row.status == "active",
        "status": row.status,
        "votes_open": detail["votes_open"],
        "scale": detail["scale"],
        "album": {
            "name": detail["source"]["name"],
            "artist": detail["source"]["artist"],
            "cover_url": detail["source"]["cover_url"],
        },
        "track": track,
        "session": {
            "id": row.id,
            **{
                k: report[k]
                for k in (
                    "viewer_score",
                    "streamer_score",
                    "votes",
                    "voters",
                    "poll_votes",
                    "tracks_rated",
                )
            },
        },
        "overlays": overlays,
        "notice": detail["notice"],
        "detail": detail,
        "report": report,
        "latest_votes": latest,
    }


def player_progress(
    status: dict[str, Any] | None, position: int, duration_ms: int | None
) -> dict[str, Any]:
    """``progress_ms``/``duration_ms``/``is_playing`` of the current track: from the player
    monitor's last reading (moved on by the time since, when playing) when Spotify is on that
    track, else the track's duration with progress and state unknown (None)."""
    unknown = {"progress_ms": None, "duration_ms": duration_ms or None, "is_playing": None}
    if not status or status.get("position") != position or status.get("progress_ms") is None:
        return unknown
    progress = int(status["progress_ms"])
    total = int(status.get("duration_ms") or duration_ms or 0) or None
    playing = bool(status.get("is_playing"))
    if playing and status.get("checked_at"):
        try:
            checked = dt.datetime.fromisoformat(str(status["checked_at"]))
        except ValueError:
            checked = None
        if checked is not None:
            elapsed = (dt.datetime.now(dt.UTC) - checked).total_seconds()
            progress += int(max(0.0, elapsed) * 1000)
    if total is not None:
        progress = min(progress, total)
    return {"progress_ms": progress, "duration_ms": total, "is_playing": playing}


@router.get("/api/v1/sessions/{session_id}/stream", tags=["v1"])
async def session_stream(
    request: Request, session_id: int, user: User = Depends(api_user)
) -> EventSourceResponse:
    c = container_of(request)
    async with c.db.session() as s:
        await queries.check_readable(s, session_id, user.id, user.is_admin)
    return EventSourceResponse(hub(request).events(f"session:{session_id}", "api"), ping=15)


async def _streamer(request: Request, login: str) -> User:
    async with container_of(request).db.session() as s:
        user = await user_by_login(s, login)
    if user is None:
        raise NotFound(f"no streamer named {login[:40]!r}")
    return user


@router.get("/live/{login}/stream")
async def live_stream(request: Request, login: str) -> EventSourceResponse:
    user = await _streamer(request, login)
    return EventSourceResponse(hub(request).events(f"streamer:{user.id}", "live"), ping=15)


@router.get("/overlay/{login}/stream")
async def overlay_stream(request: Request, login: str) -> EventSourceResponse:
    user = await _streamer(request, login)
    return EventSourceResponse(hub(request).events(f"streamer:{user.id}", "overlay"), ping=15)
