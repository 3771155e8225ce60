"""What a running show adds to the live views: the vote feed (display names, votes heard
before the start), the current track's Twitch poll, and the track the audience hears (the
session's timeline shifted by the stream delay)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.discography.models import Track
from premiere_ecoute.sessions.models import EarlyVote, ListeningSession, Poll, Vote
from premiere_ecoute.sessions.repository import get_session, scale_of, timeline_of
from premiere_ecoute.sessions.scores import TrackRef

# How notices about Spotify begin (the control page offers to reconnect or to switch).
SPOTIFY_DISCONNECTED = "Spotify disconnected"
SPOTIFY_FAILED = "Spotify did not respond"


def spotify_problem(row: ListeningSession) -> str | None:
    """``disconnected`` (the account is unlinked or refused: reconnecting helps),
    ``unreachable`` (failing for now), or None: what the control page offers to fix."""
    state = (row.player or {}).get("state") if row.playback == "spotify" else None
    notice = row.notice or ""
    if state == "disconnected" or notice.startswith(SPOTIFY_DISCONNECTED):
        return "disconnected"
    if state == "degraded" or notice.startswith(SPOTIFY_FAILED):
        return "unreachable"
    return None


def masked_id(viewer_id: str) -> str:
    """Enough of a viewer id to tell voters apart in a live feed, not to identify them."""
    return f"…{viewer_id[-4:]}"


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _numbers(row: ListeningSession) -> dict[int, int]:
    """The number shown for each track of the session (the first entry of a repeated one)."""
    numbers = row.track_numbers or []
    out: dict[int, int] = {}
    for index, track_id in enumerate(row.track_ids):
        if index < len(numbers):
            out.setdefault(track_id, int(numbers[index]))
        else:
            out.setdefault(track_id, index + 1)
    return out


async def latest_votes(s: AsyncSession, session_id: int, limit: int = 15) -> list[dict[str, Any]]:
    """The session's latest chat/web/API ratings, newest first (a changed rating counts as
    new), with the chat votes heard before the start (``early``: counted nowhere). Viewers
    show by their display name when known; ``vote_id`` of a counted viewer rating lets the
    streamer remove that voter."""
    row = await get_session(s, session_id)
    limit = max(1, min(limit, 100))
    numbers = _numbers(row)
    fallback = {tid: number for tid, number in numbers.items()}
    if row.source_kind == "album" and not row.track_numbers:
        album_numbers = await s.execute(
            select(Track.id, Track.track_number).where(Track.id.in_(row.track_ids))
        )
        fallback.update({tid: n for tid, n in album_numbers.all() if n})
    counted = await s.execute(
        select(
            Vote.id,
            Vote.viewer_id,
            Vote.viewer_name,
            Vote.is_streamer,
            Vote.value,
            Vote.source,
            Vote.sent_at,
            Vote.track_id,
            Track.name,
        )
        .join(Track, Track.id == Vote.track_id, isouter=True)
        .where(Vote.session_id == session_id)
        .order_by(Vote.sent_at.desc(), Vote.id.desc())
        .limit(limit)
    )
    feed: list[dict[str, Any]] = []
    for vote_id, viewer_id, name, is_streamer, value, source, sent_at, track_id, title in counted:
        feed.append(
            {
                "id": vote_id,
                "viewer": "streamer" if is_streamer else (name or f"viewer {masked_id(viewer_id)}"),
                "viewer_name": None if is_streamer else name,
                "masked_id": None if is_streamer else masked_id(viewer_id),
                "is_streamer": bool(is_streamer),
                "early": False,
                "value": value,
                "track_number": fallback.get(track_id),
                "track_name": title or "",
                "source": source,
                "sent_at": _iso(sent_at),
            }
        )
    early = await s.execute(
        select(
            EarlyVote.id,
            EarlyVote.viewer_id,
            EarlyVote.viewer_name,
            EarlyVote.value,
            EarlyVote.source,
            EarlyVote.sent_at,
        )
        .where(EarlyVote.session_id == session_id)
        .order_by(EarlyVote.sent_at.desc(), EarlyVote.id.desc())
        .limit(limit)
    )
    for early_id, viewer_id, name, value, source, sent_at in early:
        feed.append(
            {
                "id": f"early-{early_id}",
                "viewer": name or f"viewer {masked_id(viewer_id)}",
                "viewer_name": name,
                "masked_id": masked_id(viewer_id),
                "is_streamer": False,
                "early": True,
                "value": value,
                "track_number": None,
                "track_name": "",
                "source": source,
                "sent_at": _iso(sent_at),
            }
        )
    feed.sort(key=lambda v: str(v["sent_at"] or ""), reverse=True)
    return feed[:limit]


async def voter_of_vote(s: AsyncSession, session_id: int, vote_id: int) -> str | None:
    """The viewer who cast one counted rating of the session (None for the streamer's)."""
    return await s.scalar(
        select(Vote.viewer_id).where(
            Vote.session_id == session_id, Vote.id == vote_id, Vote.is_streamer.is_(False)
        )
    )


async def poll_view(
    s: AsyncSession, row: ListeningSession, refs: list[TrackRef], now: dt.datetime
) -> dict[str, Any] | None:
    """The current (or last) Twitch poll of the session: its choices with live counts and
    percentages, and how long it still runs (``remaining_ms``; the page counts down)."""
    if row.vote_mode == "chat" or not row.current_poll_id:
        return None
    poll = await s.scalar(select(Poll).where(Poll.twitch_poll_id == row.current_poll_id))
    if poll is None:
        return None
    options = scale_of(row).options
    ballots = poll.ballots or {}
    counts = [int(ballots.get(o, 0)) for o in options]
    total = sum(counts)
    started = poll.started_at
    ends_at = started + dt.timedelta(seconds=row.poll_duration_s)
    running = poll.status == "ACTIVE" and row.status == "active" and now < ends_at
    names = {ref.track_id: ref.name for ref in refs}
    return {
        "id": poll.twitch_poll_id,
        "track_id": poll.track_id,
        "track_name": names.get(poll.track_id, ""),
        "status": "running" if running else "ended",
        "choices": [
            {
                "option": option,
                "votes": count,
                "percent": round(100 * count / total) if total else 0,
            }
            for option, count in zip(options, counts, strict=True)
        ],
        "total": total,
        "duration_s": row.poll_duration_s,
        "started_at": _iso(started),
        "ends_at": _iso(ends_at),
        "remaining_ms": max(0, int((ends_at - now).total_seconds() * 1000)) if running else 0,
    }


@dataclass(frozen=True, slots=True)
class Heard:
    """What the audience hears now: the stream lags ``stream_delay_s`` behind the streamer."""

    index: int | None  # position in the session's track list (0-based); None before the start
    votes_open: bool  # whether a vote sent now counts (for that track)
    refresh_in_s: float | None  # when what they hear changes next, if it is already known


def heard(row: ListeningSession, now: dt.datetime) -> Heard:
    """The session's timeline at ``now - stream_delay_s``: the track a vote sent now is
    attributed to (SPEC §4.3), and whether its window was open then."""
    timeline = timeline_of(row)
    if timeline is None or row.status != "active":
        return Heard(row.current_index, bool(row.votes_open), None)
    delay = dt.timedelta(seconds=row.stream_delay_s)
    moment = now - delay
    track_id = timeline.track_at(moment)
    if track_id is None:
        index: int | None = None
        votes_open = False
    else:
        current = row.current_index or 0
        if row.track_ids[current] == track_id:
            index = current
        else:
            index = _position_before(row, timeline.entries, moment, track_id)
        votes_open = timeline.window_open_at(track_id, moment)
    upcoming = timeline.changes_between(moment, now)
    refresh = (upcoming[0] + delay - now).total_seconds() if upcoming else None
    return Heard(index, votes_open, max(0.05, refresh) if refresh is not None else None)


def _position_before(
    row: ListeningSession, entries: list[tuple[int, dt.datetime]], moment: dt.datetime, tid: int
) -> int:
    """The position of ``tid`` in the track list; a track listed twice is the occurrence the
    timeline reached (counting the entries up to ``moment``)."""
    seen = sum(1 for track_id, at in entries if track_id == tid and at <= moment)
    found = -1
    for index, track_id in enumerate(row.track_ids):
        if track_id == tid:
            found = index
            seen -= 1
            if seen <= 0:
                break
    return max(found, 0)


async def track_name(s: AsyncSession, track_id: int) -> str | None:
    return await s.scalar(select(Track.name).where(Track.id == track_id))
