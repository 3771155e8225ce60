"""Applying votes to a session: attribution, latest-rating-wins, incremental report.

Shared by the chat ingest (batches from the inbox) and web/API votes. The caller holds the
session row (locked) in its transaction. Work per vote is O(1) database rows plus an
O(log n) timeline lookup: no recount, no scan of other votes or sessions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.sessions.events import PollBallotsUpdated, VoteAccepted
from premiere_ecoute.sessions.models import ListeningSession, Poll, SessionVoter, Vote
from premiere_ecoute.sessions.repository import get_session, scale_of
from premiere_ecoute.sessions.scores import ReportState, Scale, Timeline

# Statements built once and run with many parameter sets (executemany): the hot path does not
# compile a new statement for every batch size.
_VOTER_INSERT = insert(SessionVoter).on_conflict_do_nothing().returning(SessionVoter.viewer_id)
_vote_insert = insert(Vote)
_VOTE_UPSERT = _vote_insert.on_conflict_do_update(
    constraint="uq_votes_session_track_viewer",
    set_={
        "value": _vote_insert.excluded.value,
        "source": _vote_insert.excluded.source,
        "sent_at": _vote_insert.excluded.sent_at,
        "changes": Vote.changes + 1,
    },
)


@dataclass(frozen=True, slots=True)
class IncomingVote:
    viewer_id: str
    option: str  # canonical option of the session's scale
    is_streamer: bool
    source: str
    sent_at: dt.datetime


@dataclass
class VoteOutcome:
    accepted: list[VoteAccepted] = field(default_factory=list)
    rejected: list[tuple[IncomingVote, str]] = field(default_factory=list)
    changed_tracks: set[int] = field(default_factory=set)


def load_report(row: ListeningSession) -> ReportState:

    if row.report:
        return ReportState.from_json(row.report)
    return ReportState(scale_of(row), external_voters=True)


def store_report(row: ListeningSession, state: ReportState) -> None:
    row.report = state.to_json()


async def apply_votes(
    s: AsyncSession, row: ListeningSession, votes: Sequence[IncomingVote]
) -> VoteOutcome:
    out = VoteOutcome()
    if not votes or not row.timeline:
        out.rejected = [(v, "not_started") for v in votes]
        return out
    timeline = Timeline.from_json(row.timeline)
    attributed: list[tuple[IncomingVote, int]] = []
    for vote in sorted(votes, key=lambda v: v.sent_at):
        att = timeline.attribute(vote.sent_at, row.stream_delay_s)
        if att.track_id is None or not att.accepted:
            out.rejected.append((vote, att.reason or "rejected"))
        else:
            attributed.append((vote, att.track_id))
    if not attributed:
        return out

    keys = {(track_id, v.viewer_id) for v, track_id in attributed}
    existing: dict[tuple[int, str], tuple[str, dt.datetime]] = {}
    result = await s.execute(
        select(Vote.track_id, Vote.viewer_id, Vote.value, Vote.sent_at)
        .where(Vote.session_id == row.id, tuple_(Vote.track_id, Vote.viewer_id).in_(list(keys)))
        .with_for_update()
    )
    for track_id, viewer_id, value, sent_at in result.all():
        existing[(track_id, viewer_id)] = (value, sent_at)

    # Decide what applies first (a later rating of the same viewer wins), then count the
    # viewers new to the session with one insert, then move the counters.
    applied: list[tuple[IncomingVote, int, str | None]] = []
    for vote, track_id in attributed:
        key = (track_id, vote.viewer_id)
        before = existing.get(key)
        if before is not None and before[1] > vote.sent_at:
            out.rejected.append((vote, "superseded"))
            continue
        applied.append((vote, track_id, before[0] if before else None))
        existing[key] = (vote.option, vote.sent_at)
    if not applied:
        return out
    viewers = sorted({v.viewer_id for v, _, _ in applied if not v.is_streamer})
    new_voters: set[str] = set()
    if viewers:
        inserted = await s.execute(
            _VOTER_INSERT, [{"session_id": row.id, "viewer_id": v} for v in viewers]
        )
        new_voters = set(inserted.scalars())

    state = load_report(row)
    final: dict[tuple[int, str], dict[str, Any]] = {}
    for vote, track_id, previous in applied:
        key = (track_id, vote.viewer_id)
        if vote.is_streamer:
            state.apply_streamer_rating(track_id, vote.option)
        else:
            first = vote.viewer_id in new_voters
            new_voters.discard(vote.viewer_id)
            state.apply_viewer_rating(
                track_id, vote.viewer_id, vote.option, previous, first_in_session=first
            )
        final[key] = {
            "session_id": row.id,
            "track_id": track_id,
            "viewer_id": vote.viewer_id,
            "is_streamer": vote.is_streamer,
            "value": vote.option,
            "source": vote.source,
            "sent_at": vote.sent_at,
        }
        out.changed_tracks.add(track_id)
        out.accepted.append(
            VoteAccepted(
                session_id=row.id,
                track_id=track_id,
                viewer_id=vote.viewer_id,
                value=vote.option,
                is_streamer=vote.is_streamer,
                source=vote.source,
                sent_at=vote.sent_at,
            )
        )
    await s.execute(_VOTE_UPSERT, list(final.values()))
    store_report(row, state)
    return out


async def record_poll_update(
    s: AsyncSession,
    twitch_poll_id: str,
    counts: dict[str, int],
    *,
    final: bool,
    at: dt.datetime,
) -> tuple[PollBallotsUpdated, ListeningSession] | None:
    """Store a poll's running totals (progress or end) and move its track's counters.

    ``counts`` maps choice titles to ballots; titles are matched to the session's scale
    options as chat votes are (case-folded), and a choice that is no option is left out.
    Returns None for a poll id that no session knows (SPEC §4.5: such notifications are
    ignored)."""
    poll = await s.scalar(select(Poll).where(Poll.twitch_poll_id == twitch_poll_id))
    if poll is None:
        return None
    row = await get_session(s, poll.session_id, lock=True)  # a poll's session exists (FK)
    scale = scale_of(row)
    matched: dict[str, int] = {}
    for title, votes in counts.items():
        option = scale.canonical(title)
        if option is not None:
            matched[option] = matched.get(option, 0) + int(votes)
    event = apply_poll_ballots(row, twitch_poll_id, poll.track_id, matched, final)
    poll.ballots = dict(event.counts)
    if final:
        poll.status, poll.ended_at = "COMPLETED", at
    return event, row


def apply_poll_ballots(
    row: ListeningSession, poll_id: str, track_id: int, counts: dict[str, int], final: bool
) -> PollBallotsUpdated:
    """Replace one poll's totals on its track (notifications carry running totals)."""
    state = load_report(row)
    state.set_poll_ballots(track_id, poll_id, counts)
    store_report(row, state)
    canonical: dict[str, int] = {}
    for option, count in counts.items():
        name = state.scale.options[state.scale.index(option)]
        canonical[name] = canonical.get(name, 0) + count
    return PollBallotsUpdated(
        session_id=row.id, poll_id=poll_id, track_id=track_id, counts=canonical, final=final
    )


@dataclass
class RatingFacts:
    """What a report is made of: each viewer's latest rating per track, the streamer's rating
    per track, and the last totals of each poll. Rebuilding a report from facts is O(facts),
    for the rare cases that need it (erasing a viewer, replaying the event log)."""

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


async def stored_facts(s: AsyncSession, session_id: int) -> RatingFacts:
    facts = RatingFacts()
    rows = await s.execute(
        select(Vote.track_id, Vote.viewer_id, Vote.value, Vote.is_streamer)
        .where(Vote.session_id == session_id)
        .order_by(Vote.id)
    )
    for track_id, viewer_id, value, is_streamer in rows.all():
        if is_streamer:
            facts.streamer[track_id] = value
        else:
            facts.viewers[(track_id, viewer_id)] = value
    polls = await s.execute(
        select(Poll.track_id, Poll.twitch_poll_id, Poll.ballots).where(
            Poll.session_id == session_id
        )
    )
    for track_id, poll_id, ballots in polls.all():
        if ballots:
            facts.polls[(track_id, poll_id)] = dict(ballots)
    return facts


async def erase_viewer_ratings(s: AsyncSession, session_id: int) -> None:
    """Rebuild a session's counters from the votes and polls that remain (after a viewer's
    ratings were deleted). O(votes of the session), for a rare event."""
    row = await get_session(s, session_id, lock=True)
    facts = await stored_facts(s, session_id)
    store_report(row, facts.report(scale_of(row)))
