"""The facts a report is made of, and the report rebuilt from them (SPEC §5)."""

from __future__ import annotations

from dataclasses import dataclass, field

from premiere_ecoute.sessions.scores.report import ReportState
from premiere_ecoute.sessions.scores.scale import Scale


@dataclass
class RatingFacts:
    """Each viewer's latest rating per track, the streamer's rating per track, and the last
    totals of each poll. Rebuilding a report from facts is O(facts), for the rare cases that
    need it (erasing a viewer, replaying the event log)."""

    viewers: dict[tuple[int, str], str] = field(default_factory=dict)
    streamer: dict[int, str] = field(default_factory=dict)
    polls: dict[tuple[int, str], dict[str, int]] = field(default_factory=dict)

    def erase(self, viewer_ids: set[str]) -> None:
        self.viewers = {k: v for k, v in self.viewers.items() if k[1] not in viewer_ids}

    def report(self, scale: Scale) -> ReportState:
        state = ReportState(scale, external_voters=True)
        seen: set[str] = set()
        for (track_id, viewer_id), option in self.viewers.items():
            state.apply_viewer_rating(
                track_id, viewer_id, option, first_in_session=viewer_id not in seen
            )
            seen.add(viewer_id)
        for track_id, option in self.streamer.items():
            state.apply_streamer_rating(track_id, option)
        for (track_id, poll_id), counts in self.polls.items():
            state.set_poll_ballots(track_id, poll_id, counts)
        return state
