"""A session after the stream (pure rules, no I/O): its timeline rebuilt from the event log,
YouTube chapters, the moments worth a look, and links into the recording (VOD).

Times are seconds from the session start (``SessionStarted.at``). A viewer's vote is placed
at the moment it answers: its Twitch timestamp minus the session's stream delay (the moment
of the stream the viewer was watching, which is also where it is in the VOD). Poll ballots
count when their update was recorded. Ratings of erased viewers are left out entirely.

The running score is the session's viewer score as the report would have shown it at that
moment (mean of the track scores, each viewer's latest rating per track, poll ballots
included), so its last value is the report's ``viewer_score``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from premiere_ecoute.core.errors import N_, ValidationFailed, refuse
from premiere_ecoute.sessions.scores.facts import RatingFacts
from premiere_ecoute.sessions.scores.report import TrackRef
from premiere_ecoute.sessions.scores.scale import Scale

MINUTE_S = 60
BURST_WINDOW_S = 10
MARKER_DESCRIPTION_MAX = 140  # Twitch's limit for a stream marker's description
MAX_OFFSET_S = 48 * 3600  # Twitch VODs last at most 48 hours
INTRO = "Intro"


# -- the event log, as this module reads it ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One event of ``session-<id>``: its type, payload and the moment it was recorded."""

    type: str
    payload: Mapping[str, Any]
    occurred_at: dt.datetime


@dataclass(frozen=True, slots=True)
class TrackSpan:
    index: int  # position in the session (0-based)
    track_id: int
    track_number: int
    name: str
    start_s: float
    end_s: float
    votes: int  # viewer votes placed in this span (chat/web ratings and poll ballots)
    viewer_score: float | str | None  # the track's final viewer score (report)


@dataclass(frozen=True, slots=True)
class MinuteBucket:
    minute: int
    start_s: int
    votes: int
    score: float | None  # the running score at the end of this minute


@dataclass(frozen=True, slots=True)
class Burst:
    start_s: float
    votes: int
    track_id: int | None


@dataclass(frozen=True, slots=True)
class Swing:
    from_s: int
    at_s: int
    before: float
    after: float

    @property
    def delta(self) -> float:
        return self.after - self.before


@dataclass(frozen=True, slots=True)
class Silence:
    from_s: float
    to_s: float

    @property
    def seconds(self) -> float:
        return self.to_s - self.from_s


@dataclass(frozen=True, slots=True)
class Highlights:
    burst: Burst | None
    swing: Swing | None
    silence: Silence | None


@dataclass
class SessionTimeline:
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration_s: float
    scale: Scale
    stream_delay_s: int
    tracks: list[TrackSpan] = field(default_factory=list)
    minutes: list[MinuteBucket] = field(default_factory=list)
    vote_moments: list[tuple[float, int]] = field(default_factory=list)  # (moment, track_id)
    viewer_score: float | str | None = None

    def track_at(self, moment: float) -> TrackSpan | None:
        found = None
        for span in self.tracks:
            if span.start_s <= moment:
                found = span
        return found


# -- building the timeline ---------------------------------------------------------------------


@dataclass
class _Running:
    """The session viewer score, kept up to date vote by vote in O(1) (numeric scales)."""

    latest: dict[tuple[int, str], int] = field(default_factory=dict)
    polls: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)  # sum, count
    sums: dict[int, tuple[int, int]] = field(default_factory=dict)  # track -> sum, count
    total_of_means: float = 0.0
    rated: int = 0

    def _move(self, track_id: int, d_sum: int, d_count: int) -> None:
        old_sum, old_count = self.sums.get(track_id, (0, 0))
        new_sum, new_count = old_sum + d_sum, old_count + d_count
        self.sums[track_id] = (new_sum, new_count)
        if old_count:
            self.total_of_means -= old_sum / old_count
            self.rated -= 1
        if new_count:
            self.total_of_means += new_sum / new_count
            self.rated += 1

    def vote(self, track_id: int, viewer_id: str, value: int) -> None:
        old = self.latest.get((track_id, viewer_id))
        self.latest[(track_id, viewer_id)] = value
        if old is None:
            self._move(track_id, value, 1)
        else:
            self._move(track_id, value - old, 0)

    def ballots(self, track_id: int, poll_id: str, total: int, count: int) -> None:
        old_total, old_count = self.polls.get((track_id, poll_id), (0, 0))
        self.polls[(track_id, poll_id)] = (total, count)
        self._move(track_id, total - old_total, count - old_count)

    @property
    def score(self) -> float | None:
        return self.total_of_means / self.rated if self.rated else None


def _at(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def build_timeline(
    events: Iterable[LoggedEvent], refs: Sequence[TrackRef], *, now: dt.datetime
) -> SessionTimeline:
    """The session's timeline from its events alone; ``now`` ends a session still running."""
    events = list(events)
    by_id = {ref.track_id: ref for ref in refs}
    erased: set[str] = set()
    for ev in events:
        if ev.type == "ViewerRatingsErased":
            erased.update(str(v) for v in ev.payload["viewer_ids"])
    scale: Scale | None = None
    delay = 0
    started: dt.datetime | None = None
    first_track = 0
    stopped: dt.datetime | None = None
    changes: list[tuple[dt.datetime, int, int]] = []  # at, index, track_id
    points: list[tuple[float, int, str, Any]] = []  # moment, order, kind, data
    facts = RatingFacts()
    poll_counts: dict[str, int] = {}
    for order, ev in enumerate(events):
        p = ev.payload
        if ev.type == "SessionPrepared":
            scale, facts, delay = (
                Scale.from_json(p["scale"]),
                RatingFacts(),
                int(p["stream_delay_s"]),
            )
        elif ev.type == "SessionSettingsChanged":
            if "scale" in p["changes"]:
                scale, facts = Scale.from_json(p["changes"]["scale"]), RatingFacts()
            if "stream_delay_s" in p["changes"]:
                delay = int(p["changes"]["stream_delay_s"])
        elif ev.type == "SessionStarted":
            started, first_track = _at(p["at"]), int(p["track_id"])
        elif ev.type == "TrackChanged":
            changes.append((_at(p["at"]), int(p["index"]), int(p["track_id"])))
        elif ev.type == "SessionStopped":
            stopped = _at(p["at"])
        elif ev.type == "VoteAccepted":
            track_id, viewer = int(p["track_id"]), str(p["viewer_id"])
            if p["is_streamer"]:
                facts.streamer[track_id] = p["value"]
                continue
            if viewer in erased:
                continue
            facts.viewers.pop((track_id, viewer), None)
            facts.viewers[(track_id, viewer)] = p["value"]
            sent = _at(p["sent_at"]) - dt.timedelta(seconds=delay)
            points.append((sent.timestamp(), order, "vote", (track_id, viewer, p["value"])))
        elif ev.type == "PollBallotsUpdated":
            track_id, poll_id = int(p["track_id"]), str(p["poll_id"])
            counts = {str(k): int(v) for k, v in dict(p["counts"]).items()}
            facts.polls[(track_id, poll_id)] = counts
            added = sum(counts.values()) - poll_counts.get(poll_id, 0)
            poll_counts[poll_id] = sum(counts.values())
            at = ev.occurred_at.timestamp()
            points.append((at, order, "poll", (track_id, poll_id, counts, max(added, 0))))
    if scale is None:
        raise refuse(
            ValidationFailed, N_("the event log of this session has no SessionPrepared event")
        )
    report = facts.report(scale)
    summary = report.session_summary()
    timeline = SessionTimeline(
        started_at=started,
        ended_at=stopped if started else None,
        duration_s=0.0,
        scale=scale,
        stream_delay_s=delay,
        viewer_score=summary["viewer_score"],
    )
    if started is None:
        return timeline
    if not changes or changes[0][0] > started:  # the start's own TrackChanged is missing
        changes.insert(0, (started, 0, first_track))
    end = stopped or max(now, started)
    zero = started.timestamp()
    timeline.duration_s = max(0.0, end.timestamp() - zero)
    numeric = scale.kind == "numeric"
    running = _Running()
    minute_count = max(1, math.ceil(timeline.duration_s / MINUTE_S))
    votes_per_minute = [0] * minute_count
    score_at_minute: list[float | None] = [None] * minute_count
    span_votes: dict[int, int] = {}
    bounds = [(at.timestamp() - zero, index, track_id) for at, index, track_id in changes]
    points.sort(key=lambda point: (point[0], point[1]))
    last_minute = 0
    for stamp, _order, kind, data in points:
        moment = min(max(stamp - zero, 0.0), timeline.duration_s)
        minute = min(int(moment // MINUTE_S), minute_count - 1)
        for m in range(last_minute, minute):
            score_at_minute[m + 1] = running.score
        last_minute = max(last_minute, minute)
        span = _span_index(bounds, moment)
        if kind == "vote":
            track_id, viewer, value = data
            votes_per_minute[minute] += 1
            span_votes[span] = span_votes.get(span, 0) + 1
            timeline.vote_moments.append((moment, track_id))
            if numeric:
                running.vote(track_id, viewer, int(value))
        else:
            track_id, poll_id, counts, added = data
            votes_per_minute[minute] += added
            span_votes[span] = span_votes.get(span, 0) + added
            if numeric:
                total = sum(int(option) * n for option, n in counts.items())
                running.ballots(track_id, poll_id, total, sum(counts.values()))
        score_at_minute[minute] = running.score
    for m in range(last_minute, minute_count - 1):
        score_at_minute[m + 1] = running.score
    timeline.minutes = [
        MinuteBucket(
            minute=m,
            start_s=m * MINUTE_S,
            votes=votes_per_minute[m],
            score=score_at_minute[m] if numeric else None,
        )
        for m in range(minute_count)
    ]
    scores = {ref.track_id: report.track_entry(ref)["viewer_score"] for ref in refs}
    for i, (start_s, index, track_id) in enumerate(bounds):
        end_s = bounds[i + 1][0] if i + 1 < len(bounds) else timeline.duration_s
        ref = by_id.get(track_id)
        timeline.tracks.append(
            TrackSpan(
                index=index,
                track_id=track_id,
                track_number=ref.track_number if ref else index + 1,
                name=ref.name if ref else "",
                start_s=start_s,
                end_s=max(end_s, start_s),
                votes=span_votes.get(i, 0),
                viewer_score=scores.get(track_id),
            )
        )
    return timeline


def _span_index(bounds: Sequence[tuple[float, int, int]], moment: float) -> int:
    found = 0
    for i, (start_s, _index, _track) in enumerate(bounds):
        if start_s <= moment:
            found = i
    return found


# -- highlights --------------------------------------------------------------------------------


def highlights(timeline: SessionTimeline) -> Highlights:
    return Highlights(
        burst=fastest_burst(timeline),
        swing=biggest_swing(timeline),
        silence=longest_silence(timeline),
    )


def fastest_burst(timeline: SessionTimeline, window_s: float = BURST_WINDOW_S) -> Burst | None:
    """The most chat/web votes within ``window_s`` (a window starts at a vote); the earliest
    wins a tie. Its track is the one most of those votes went to (the earliest on a tie)."""
    moments = timeline.vote_moments
    if not moments:
        return None
    best_start, best_count, j = 0, 0, 0
    for i in range(len(moments)):
        if j < i:
            j = i
        while j < len(moments) and moments[j][0] < moments[i][0] + window_s:
            j += 1
        if j - i > best_count:
            best_start, best_count = i, j - i
    window = moments[best_start : best_start + best_count]
    tally: dict[int, int] = {}
    for _moment, track_id in window:
        tally[track_id] = tally.get(track_id, 0) + 1
    top = max(tally.values())
    track = next(track_id for _m, track_id in window if tally[track_id] == top)
    return Burst(start_s=window[0][0], votes=best_count, track_id=track)


def biggest_swing(timeline: SessionTimeline) -> Swing | None:
    """The largest change of the running score from one minute to the next (numeric scales),
    among minutes that both have a score; the earliest wins a tie."""
    best: Swing | None = None
    previous: MinuteBucket | None = None
    for bucket in timeline.minutes:
        if bucket.score is None:
            continue
        if previous is not None and previous.score is not None and bucket.score != previous.score:
            swing = Swing(
                from_s=previous.start_s,
                at_s=bucket.start_s,
                before=previous.score,
                after=bucket.score,
            )
            if best is None or abs(swing.delta) > abs(best.delta) + 1e-12:
                best = swing
        previous = bucket
    return best


def longest_silence(timeline: SessionTimeline) -> Silence | None:
    """The longest stretch without a chat/web vote, from the session start to its end; the
    earliest wins a tie. None for a session that never started."""
    if timeline.started_at is None:
        return None
    marks = [0.0, *(moment for moment, _track in timeline.vote_moments), timeline.duration_s]
    best: Silence | None = None
    for a, b in itertools.pairwise(marks):
        if best is None or b - a > best.seconds:
            best = Silence(from_s=a, to_s=b)
    return best if best is not None and best.seconds > 0 else None


# -- chapters, VOD links, offsets --------------------------------------------------------------


def format_score(score: float | str | None, scale: Scale) -> str | None:
    """``7.4/10`` on a numeric scale, the option itself (or ``tie``) on a categorical one."""
    if score is None:
        return None
    if isinstance(score, str):
        return score
    return f"{_half_up(score)}/{scale.max_option}"


def _half_up(value: float) -> str:
    tenths = math.floor(value * 10 + 0.5 + 1e-9)
    return f"{tenths // 10}.{tenths % 10}" if tenths >= 0 else f"{value:.1f}"


def clock(seconds: float) -> str:
    """``mm:ss`` below an hour, ``hh:mm:ss`` from an hour on (YouTube reads both)."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"


def chapters(timeline: SessionTimeline, offset_s: int = 0) -> list[str]:
    """YouTube chapter lines: ``00:00 Intro`` while the first track starts later in the video,
    then one line per track played (a track played again gets a line again):
    ``mm:ss N. Title — 7.4/10``. YouTube needs the first chapter at 00:00, so with no offset
    the first track is that chapter."""
    lines: list[str] = []
    for span in timeline.tracks:
        at = offset_s + span.start_s
        if not lines and int(at) > 0:
            lines.append(f"{clock(0)} {INTRO}")
        text = f"{clock(at)} {span.track_number}. {span.name}"
        score = format_score(span.viewer_score, timeline.scale)
        lines.append(f"{text} — {score}" if score else text)
    return lines


def marker_description(track_number: int, name: str) -> str:
    """A stream marker's description: ``N. Title``, cut to Twitch's 140 characters."""
    text = f"{track_number}. {name}"
    if len(text) <= MARKER_DESCRIPTION_MAX:
        return text
    return text[: MARKER_DESCRIPTION_MAX - 1] + "…"


_OFFSET = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2})$")
_TWITCH_T = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_offset(text: str | None) -> int:
    """Seconds from ``1:02:03``, ``62:03``, ``3723`` or ``1h2m3s``; empty means 0."""
    value = (text or "").strip().lower()
    if not value:
        return 0
    seconds: int | None = None
    if value.isdigit():
        seconds = int(value)
    elif match := _OFFSET.match(value):
        hours, minutes, secs = (int(g) if g else 0 for g in match.groups())
        if secs < 60 and (match.group(1) is None or minutes < 60):
            seconds = hours * 3600 + minutes * 60 + secs
    elif (match := _TWITCH_T.match(value)) and any(match.groups()):
        hours, minutes, secs = (int(g) if g else 0 for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds is None:
        raise refuse(
            ValidationFailed,
            N_("“%(text)s” is not a time in the video: write it as 1:02:03, 62:03 or in seconds."),
            text=(text or "").strip()[:20],
        )
    if seconds > MAX_OFFSET_S:
        raise refuse(ValidationFailed, N_("A time in the video must be under 48 hours."))
    return seconds


@dataclass(frozen=True, slots=True)
class Vod:
    kind: str  # "twitch" or "youtube"
    video_id: str

    @property
    def url(self) -> str:
        if self.kind == "twitch":
            return f"https://www.twitch.tv/videos/{self.video_id}"
        return f"https://www.youtube.com/watch?v={self.video_id}"

    def at(self, seconds: float) -> str:
        """The VOD at ``seconds`` (``?t=1h2m3s`` on Twitch, ``?t=3723`` seconds on YouTube)."""
        total = max(0, int(seconds))
        if self.kind == "twitch":
            hours, rest = divmod(total, 3600)
            minutes, secs = divmod(rest, 60)
            return f"{self.url}?t={hours}h{minutes}m{secs}s"
        return f"https://youtu.be/{self.video_id}?t={total}"


_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_TWITCH_VIDEO = re.compile(r"^/videos/(\d{1,20})/?$")
_YOUTUBE_PATH = re.compile(r"^/(?:live|shorts|embed)/([A-Za-z0-9_-]{11})/?$")
VOD_URL_MAX = 500


def parse_vod_url(text: str) -> Vod:
    """A Twitch video (``twitch.tv/videos/ID``) or a YouTube video (``youtube.com/watch?v=ID``,
    ``youtu.be/ID``, ``youtube.com/live/ID``); anything else is refused."""
    raw = text.strip()
    if len(raw) > VOD_URL_MAX:
        raise refuse(ValidationFailed, N_("This link is too long to be a video link."))
    candidate = raw if "://" in raw else "https://" + raw
    try:
        parts = urlsplit(candidate)
    except ValueError:
        parts = None
    if parts is not None and parts.scheme in ("http", "https"):
        host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
        if host == "twitch.tv" and (match := _TWITCH_VIDEO.match(parts.path)):
            return Vod("twitch", match.group(1))
        if host in ("youtube.com", "music.youtube.com"):
            if parts.path.rstrip("/") == "/watch":
                ids = parse_qs(parts.query).get("v", [])
                if ids and _YOUTUBE_ID.match(ids[0]):
                    return Vod("youtube", ids[0])
            if match := _YOUTUBE_PATH.match(parts.path):
                return Vod("youtube", match.group(1))
        if host == "youtu.be":
            video = parts.path.strip("/")
            if _YOUTUBE_ID.match(video):
                return Vod("youtube", video)
    raise refuse(
        ValidationFailed,
        N_("Give the link of a Twitch video (twitch.tv/videos/…) or of a YouTube video."),
    )


def vod_of(url: str | None) -> Vod | None:
    """The stored VOD link, or None (a stored link was validated when it was saved)."""
    if not url:
        return None
    try:
        return parse_vod_url(url)
    except ValidationFailed:
        return None


# -- as JSON (pages and the API) ---------------------------------------------------------------


def _round(value: float) -> float:
    return round(value, 3)


def timeline_json(
    timeline: SessionTimeline, *, vod: Vod | None = None, offset_s: int = 0
) -> dict[str, Any]:
    """The timeline as the timeline page and ``GET /api/v1/sessions/{id}/timeline`` show it."""

    def link(seconds: float) -> str | None:
        return vod.at(offset_s + seconds) if vod else None

    moments = highlights(timeline)
    by_track = {span.track_id: span for span in timeline.tracks}

    def track_of(track_id: int | None) -> dict[str, Any] | None:
        span = by_track.get(track_id) if track_id is not None else None
        if span is None:
            return None
        return {"track_id": span.track_id, "track_number": span.track_number, "name": span.name}

    burst = moments.burst
    swing = moments.swing
    silence = moments.silence
    return {
        "started_at": timeline.started_at.isoformat() if timeline.started_at else None,
        "ended_at": timeline.ended_at.isoformat() if timeline.ended_at else None,
        "duration_s": _round(timeline.duration_s),
        "stream_delay_s": timeline.stream_delay_s,
        "scale": timeline.scale.to_json(),
        "viewer_score": timeline.viewer_score,
        "vod": {"kind": vod.kind, "url": vod.url, "offset_s": offset_s} if vod else None,
        "tracks": [
            {
                "index": span.index,
                "track_id": span.track_id,
                "track_number": span.track_number,
                "name": span.name,
                "start_s": _round(span.start_s),
                "end_s": _round(span.end_s),
                "start_clock": clock(span.start_s),
                "votes": span.votes,
                "viewer_score": span.viewer_score,
                "score_label": format_score(span.viewer_score, timeline.scale),
                "vod_link": link(span.start_s),
            }
            for span in timeline.tracks
        ],
        "minutes": [
            {"minute": b.minute, "start_s": b.start_s, "votes": b.votes, "score": b.score}
            for b in timeline.minutes
        ],
        "highlights": {
            "burst": None
            if burst is None
            else {
                "start_s": _round(burst.start_s),
                "at_clock": clock(burst.start_s),
                "votes": burst.votes,
                "window_s": BURST_WINDOW_S,
                "track": track_of(burst.track_id),
                "vod_link": link(burst.start_s),
            },
            "swing": None
            if swing is None
            else {
                "from_s": swing.from_s,
                "at_s": swing.at_s,
                "at_clock": clock(swing.at_s),
                "before": swing.before,
                "after": swing.after,
                "delta": swing.delta,
                "track": track_of(_track_id_at(timeline, swing.at_s)),
                "vod_link": link(swing.at_s),
            },
            "silence": None
            if silence is None
            else {
                "from_s": _round(silence.from_s),
                "to_s": _round(silence.to_s),
                "from_clock": clock(silence.from_s),
                "to_clock": clock(silence.to_s),
                "seconds": _round(silence.seconds),
                "vod_link": link(silence.from_s),
            },
        },
        "chapters": chapters(timeline, offset_s),
    }


def _track_id_at(timeline: SessionTimeline, moment: float) -> int | None:
    span = timeline.track_at(moment)
    return span.track_id if span else None
