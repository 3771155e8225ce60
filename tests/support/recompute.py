"""The report computed from raw facts, the simple way (SPEC §5): the tests' oracle for the
incremental counters.

Used by ``events replay`` and as the oracle that the incremental ``ReportState`` is tested
against, so it deliberately shares no arithmetic with it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from premiere_ecoute.sessions.queries import prior_for
from premiere_ecoute.sessions.repository import get_session, scale_of, stored_facts, track_refs
from premiere_ecoute.sessions.scores.honest import attach_figures
from premiere_ecoute.sessions.scores.report import TIE, TrackRef
from premiere_ecoute.sessions.scores.scale import Scale


@dataclass(frozen=True, slots=True)
class ViewerVote:
    """An accepted chat/web vote; the highest ``order`` of a viewer on a track wins."""

    track_id: int
    viewer_id: str
    option: str
    order: int


@dataclass(frozen=True, slots=True)
class StreamerVote:
    track_id: int
    option: str
    order: int


@dataclass(frozen=True, slots=True)
class PollBallots:
    """Totals of one poll at some moment; the highest ``order`` per poll wins."""

    track_id: int
    poll_id: str
    counts: Mapping[str, int]
    order: int


def recompute_report(
    *,
    session_id: int | str,
    status: str,
    scale: Scale,
    tracks: Sequence[TrackRef],
    viewer_votes: Iterable[ViewerVote] = (),
    streamer_votes: Iterable[StreamerVote] = (),
    poll_ballots: Iterable[PollBallots] = (),
) -> dict[str, Any]:
    latest_viewer: dict[tuple[int, str], ViewerVote] = {}
    for vote in sorted(viewer_votes, key=lambda v: v.order):
        latest_viewer[(vote.track_id, vote.viewer_id)] = vote
    latest_streamer: dict[int, StreamerVote] = {}
    for svote in sorted(streamer_votes, key=lambda v: v.order):
        latest_streamer[svote.track_id] = svote
    latest_poll: dict[tuple[int, str], PollBallots] = {}
    for ballots in sorted(poll_ballots, key=lambda b: b.order):
        latest_poll[(ballots.track_id, ballots.poll_id)] = ballots

    # Every viewer rating of each track, as option -> how many times it was given.
    ratings: dict[int, Counter[str]] = {}
    voters: dict[int, set[str]] = {}
    poll_votes: dict[int, int] = {}
    for (track_id, viewer_id), vote in latest_viewer.items():
        ratings.setdefault(track_id, Counter())[_canon(scale, vote.option)] += 1
        voters.setdefault(track_id, set()).add(viewer_id)
    for (track_id, _), ballots in latest_poll.items():
        for option, count in ballots.counts.items():
            ratings.setdefault(track_id, Counter())[_canon(scale, option)] += count
            poll_votes[track_id] = poll_votes.get(track_id, 0) + count
    streamer = {t: _canon(scale, v.option) for t, v in latest_streamer.items()}

    def viewer_score(counter: Counter[str]) -> float | str | None:
        if scale.kind == "numeric":
            n = sum(counter.values())
            return sum(int(o) * c for o, c in counter.items()) / n if n else None
        return _mode(counter)

    def streamer_score(option: str | None) -> float | str | None:
        if option is None:
            return None
        return float(int(option)) if scale.kind == "numeric" else option

    entries = []
    for ref in tracks:
        counter = ratings.get(ref.track_id, Counter())
        entries.append(
            {
                "track_id": ref.track_id,
                "spotify_id": ref.spotify_id,
                "track_number": ref.track_number,
                "name": ref.name,
                "artists": list(ref.artists),
                "viewer_score": viewer_score(counter),
                "streamer_score": streamer_score(streamer.get(ref.track_id)),
                "votes": sum(counter.values()),
                "voters": len(voters.get(ref.track_id, ())),
                "poll_votes": poll_votes.get(ref.track_id, 0),
                "distribution": {o: counter[o] for o in scale.options},
            }
        )

    all_tracks = set(ratings) | set(streamer)
    if scale.kind == "numeric":
        scores = [viewer_score(ratings[t]) for t in ratings if sum(ratings[t].values())]
        numeric = [float(s) for s in scores if isinstance(s, float)]
        session_viewer: float | str | None = math.fsum(numeric) / len(numeric) if numeric else None
        values = [float(int(o)) for o in streamer.values()]
        session_streamer: float | str | None = math.fsum(values) / len(values) if values else None
    else:
        session_viewer = _mode(sum(ratings.values(), Counter()))
        session_streamer = _mode(Counter(streamer.values()))
    return {
        "session_id": session_id,
        "status": status,
        "scale": scale.to_json(),
        "viewer_score": session_viewer,
        "streamer_score": session_streamer,
        "votes": sum(sum(c.values()) for c in ratings.values()),
        "voters": len({viewer for _, viewer in latest_viewer}),
        "poll_votes": sum(poll_votes.values()),
        "tracks_rated": sum(
            1 for t in all_tracks if sum(ratings.get(t, Counter()).values()) or t in streamer
        ),
        "tracks": entries,
    }


def _canon(scale: Scale, option: str) -> str:
    return scale.options[scale.index(option)]


def _mode(counter: Counter[str]) -> str | None:
    counts = {o: c for o, c in counter.items() if c > 0}
    if not counts:
        return None
    top = max(counts.values())
    winners = [o for o, c in counts.items() if c == top]
    return winners[0] if len(winners) == 1 else TIE


async def recomputed_report(s: Any, session_id: int) -> dict[str, Any]:
    """The report counted from scratch from the ``votes`` and ``polls`` tables by
    ``recompute_report``: an implementation independent of the incremental counters, to check
    them (it scans the session's votes, so it is for tests only). Its honest figures are
    computed from that recount, with the instance prior the live report uses."""
    row = await get_session(s, session_id)
    facts = await stored_facts(s, session_id)
    report = recompute_report(
        session_id=row.id,
        status=row.status,
        scale=scale_of(row),
        tracks=await track_refs(s, row),
        viewer_votes=[
            ViewerVote(track_id, viewer_id, option, order)
            for order, ((track_id, viewer_id), option) in enumerate(facts.viewers.items())
        ],
        streamer_votes=[
            StreamerVote(track_id=track_id, option=option, order=0)
            for track_id, option in facts.streamer.items()
        ],
        poll_ballots=[
            PollBallots(track_id, poll_id, counts, 0)
            for (track_id, poll_id), counts in facts.polls.items()
        ],
    )
    return attach_figures(report, await prior_for(s, scale_of(row)))
