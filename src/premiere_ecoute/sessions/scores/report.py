"""The session report (SPEC §5), kept as counters so that each accepted vote costs O(1).

The latest rating of each viewer lives in the database; callers pass the viewer's previous
rating of the track so the counters can move one unit from the old option to the new one.
Poll notifications carry running totals, so a poll's counts are replaced, not added.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from premiere_ecoute.core.errors import N_, InvalidState, ValidationFailed, refuse
from premiere_ecoute.sessions.scores.scale import Scale

TIE = "tie"
Score = float | str | None


@dataclass(frozen=True, slots=True)
class TrackRef:
    """An album track as the report lists it; callers pass them in album order."""

    track_id: int
    spotify_id: str
    track_number: int
    name: str
    artists: tuple[str, ...] = ()


@dataclass
class _TrackCounters:
    viewer_dist: list[int]  # latest chat/web rating of each identified viewer, per option
    poll_dist: list[int]  # all polls of the track added up, per option
    polls: dict[str, list[int]] = field(default_factory=dict)
    streamer: int | None = None  # option index
    voters: int = 0
    poll_votes: int = 0
    total: int = 0  # sum of values over all viewer ratings (numeric scales)

    @property
    def votes(self) -> int:
        return self.voters + self.poll_votes


class ReportState:
    def __init__(self, scale: Scale, *, external_voters: bool = False) -> None:
        """``external_voters``: the caller says when a viewer is new to the session (it keeps
        the distinct viewers in its database), so the state stays O(tracks x options) in size
        instead of holding one entry per viewer."""
        self.scale = scale
        self.external_voters = external_voters
        self._voters = 0
        self._values = scale.values if scale.kind == "numeric" else (0,) * len(scale.options)
        self._tracks: dict[int, _TrackCounters] = {}
        self._viewer_tracks: dict[str, int] = {}  # viewer -> number of tracks they rated
        self._session_dist = [0] * len(scale.options)  # viewers and ballots, all tracks
        self._streamer_dist = [0] * len(scale.options)

    # ---- changes ----------------------------------------------------------------------------

    def apply_viewer_rating(
        self,
        track_id: int,
        viewer_id: str,
        new_option: str,
        previous_option: str | None = None,
        *,
        first_in_session: bool = False,
    ) -> None:
        new = self.scale.index(new_option)
        track = self._track(track_id)
        if previous_option is None:
            track.voters += 1
            if self.external_voters:
                self._voters += int(first_in_session)
            else:
                self._viewer_tracks[viewer_id] = self._viewer_tracks.get(viewer_id, 0) + 1
        else:
            old = self.scale.index(previous_option)
            known = self.external_voters or viewer_id in self._viewer_tracks
            if track.viewer_dist[old] == 0 or not known:
                raise refuse(
                    InvalidState,
                    N_("No earlier rating '%(option)s' to replace."),
                    option=previous_option,
                )
            self._move(track, old, -1)
        self._move(track, new, +1)

    def apply_streamer_rating(self, track_id: int, option: str) -> None:
        new = self.scale.index(option)
        track = self._track(track_id)
        if track.streamer is not None:
            self._streamer_dist[track.streamer] -= 1
        track.streamer = new
        self._streamer_dist[new] += 1

    def set_poll_ballots(self, track_id: int, poll_id: str, counts: Mapping[str, int]) -> None:
        """Replace the totals of one poll of the track (progress and end events carry totals)."""
        fresh = [0] * len(self.scale.options)
        for option, count in counts.items():
            if not isinstance(count, int) or count < 0:
                raise refuse(
                    ValidationFailed,
                    N_("Poll count for '%(option)s' must be a whole number ≥ 0."),
                    option=option,
                )
            fresh[self.scale.index(option)] += count
        track = self._track(track_id)
        before = track.polls.get(poll_id, [0] * len(fresh))
        for i, (old, new) in enumerate(zip(before, fresh, strict=True)):
            delta = new - old
            track.poll_dist[i] += delta
            track.poll_votes += delta
            track.total += delta * self._values[i]
            self._session_dist[i] += delta
        track.polls[poll_id] = fresh

    def _move(self, track: _TrackCounters, index: int, step: int) -> None:
        track.viewer_dist[index] += step
        track.total += step * self._values[index]
        self._session_dist[index] += step

    def _track(self, track_id: int) -> _TrackCounters:
        track = self._tracks.get(track_id)
        if track is None:
            size = len(self.scale.options)
            track = self._tracks[track_id] = _TrackCounters([0] * size, [0] * size)
        return track

    # ---- the report -------------------------------------------------------------------------

    def track_entry(self, ref: TrackRef) -> dict[str, Any]:
        """One element of the report's ``tracks`` (enough for a live per-track update)."""
        track = self._tracks.get(ref.track_id)
        options = self.scale.options
        if track is None:
            viewer: Score = None
            streamer: Score = None
            votes = voters = poll_votes = 0
            dist = dict.fromkeys(options, 0)
        else:
            viewer = self._viewer_score(track)
            streamer = None if track.streamer is None else self._option_score(track.streamer)
            votes, voters, poll_votes = track.votes, track.voters, track.poll_votes
            dist = {
                o: v + p
                for o, v, p in zip(options, track.viewer_dist, track.poll_dist, strict=True)
            }
        return {
            "track_id": ref.track_id,
            "spotify_id": ref.spotify_id,
            "track_number": ref.track_number,
            "name": ref.name,
            "artists": list(ref.artists),
            "viewer_score": viewer,
            "streamer_score": streamer,
            "votes": votes,
            "voters": voters,
            "poll_votes": poll_votes,
            "distribution": dist,
        }

    def session_summary(self) -> dict[str, Any]:
        """Session-level numbers, over every track that has counters."""
        tracks = self._tracks.values()
        if self.scale.kind == "numeric":
            viewer: Score = _mean([t.total / t.votes for t in tracks if t.votes])
            rated = sum(self._streamer_dist)
            streamer_total = sum(
                c * v for c, v in zip(self._streamer_dist, self._values, strict=True)
            )
            streamer: Score = streamer_total / rated if rated else None
        else:
            viewer = _mode(self.scale.options, self._session_dist)
            streamer = _mode(self.scale.options, self._streamer_dist)
        return {
            "viewer_score": viewer,
            "streamer_score": streamer,
            "votes": sum(t.votes for t in tracks),
            "voters": self._voters if self.external_voters else len(self._viewer_tracks),
            "poll_votes": sum(t.poll_votes for t in tracks),
            "tracks_rated": sum(1 for t in tracks if t.votes or t.streamer is not None),
        }

    def session_distribution(self) -> list[int]:
        """Every viewer rating and ballot of the session, per option."""
        return list(self._session_dist)

    def to_report(
        self, session_id: int | str, status: str, tracks: Sequence[TrackRef]
    ) -> dict[str, Any]:
        return {
            "session_id": session_id,
            "status": status,
            "scale": self.scale.to_json(),
            **self.session_summary(),
            "tracks": [self.track_entry(ref) for ref in tracks],
        }

    def _viewer_score(self, track: _TrackCounters) -> Score:
        if self.scale.kind == "numeric":
            return track.total / track.votes if track.votes else None
        dist = [v + p for v, p in zip(track.viewer_dist, track.poll_dist, strict=True)]
        return _mode(self.scale.options, dist)

    def _option_score(self, index: int) -> Score:
        if self.scale.kind == "numeric":
            return float(self._values[index])
        return self.scale.options[index]

    # ---- storage ----------------------------------------------------------------------------
    # Only the counters that cannot be derived are stored; totals are rebuilt on load.

    def to_json(self) -> dict[str, Any]:
        tracks: dict[str, dict[str, Any]] = {}
        for track_id, t in self._tracks.items():
            item: dict[str, Any] = {"v": t.viewer_dist}
            if t.polls:
                item["p"] = t.polls
            if t.streamer is not None:
                item["s"] = t.streamer
            tracks[str(track_id)] = {k: _copy(v) for k, v in item.items()}
        return {
            "version": 1,
            "scale": self.scale.to_json(),
            "tracks": tracks,
            **(
                {"voters": self._voters}
                if self.external_voters
                else {"viewers": dict(self._viewer_tracks)}
            ),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReportState:
        state = cls(Scale.from_json(data["scale"]), external_voters="voters" in data)
        state._voters = int(data.get("voters", 0))
        size = len(state.scale.options)
        for key, item in data.get("tracks", {}).items():
            track = state._track(int(key))
            viewer_dist = [int(c) for c in item["v"]]
            if len(viewer_dist) != size:
                raise ValueError("stored report counters do not match the scale")
            for i, count in enumerate(viewer_dist):
                state._move(track, i, count)
            track.voters = sum(viewer_dist)
            for poll_id, counts in item.get("p", {}).items():
                state.set_poll_ballots(
                    int(key), poll_id, dict(zip(state.scale.options, counts, strict=True))
                )
            if item.get("s") is not None:
                state.apply_streamer_rating(int(key), state.scale.options[int(item["s"])])
        state._viewer_tracks = {str(k): int(n) for k, n in data.get("viewers", {}).items()}
        return state


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: list(v) for k, v in value.items()}
    return list(value) if isinstance(value, list) else value


def _mean(scores: list[float]) -> float | None:
    # fsum is exact and order-independent, so a rebuilt report equals the live one bit for bit.
    return math.fsum(scores) / len(scores) if scores else None


def _mode(options: Sequence[str], counts: Sequence[int]) -> str | None:
    top = max(counts, default=0)
    if top == 0:
        return None
    winners = [o for o, c in zip(options, counts, strict=True) if c == top]
    return winners[0] if len(winners) == 1 else TIE
