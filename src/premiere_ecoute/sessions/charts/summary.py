"""What one finished session adds to the charts, computed from its report's counters (the
same numbers its report shows, polls included), with no I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass

from premiere_ecoute.sessions.charts.rules import Moments, family_of, moments, normaliser
from premiere_ecoute.sessions.scores import ReportState, TrackRef


@dataclass(frozen=True, slots=True)
class TrackSummary:
    track_id: int
    moments: Moments
    streamer: float | None  # normalised


@dataclass(frozen=True, slots=True)
class SessionSummary:
    family: str
    moments: Moments
    voters: int
    viewer_score: float | None
    viewer_mode: str | None
    tracks: tuple[TrackSummary, ...]


def summarise(state: ReportState, track_ids: list[int]) -> SessionSummary:
    scale = state.scale
    norm = normaliser(scale)
    tracks: list[TrackSummary] = []
    for track_id in track_ids:
        entry = state.track_entry(
            TrackRef(track_id=track_id, spotify_id="", track_number=0, name="")
        )
        m = moments(entry["distribution"], norm)
        own = entry["streamer_score"]
        streamer = None
        if own is not None and norm is not None:
            streamer = norm[own if isinstance(own, str) else _option_of(scale.options, own)]
        if m.ratings or streamer is not None:
            tracks.append(TrackSummary(track_id, m, streamer))
    summary = state.session_summary()
    score = summary["viewer_score"]
    return SessionSummary(
        family=family_of(scale),
        moments=_added([t.moments for t in tracks], averageable=norm is not None),
        voters=int(summary["voters"]),
        viewer_score=float(score) if isinstance(score, int | float) else None,
        viewer_mode=score if isinstance(score, str) else None,
        tracks=tuple(tracks),
    )


def _option_of(options: tuple[str, ...], value: float) -> str:
    return next(o for o in options if float(o) == value)


def _added(items: list[Moments], *, averageable: bool) -> Moments:
    return Moments(
        ratings=sum(m.ratings for m in items),
        total=math.fsum(m.total or 0.0 for m in items) if averageable else None,
        sumsq=math.fsum(m.sumsq or 0.0 for m in items) if averageable else None,
        extremes=sum(m.extremes for m in items),
    )
