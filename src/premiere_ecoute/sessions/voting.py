"""Applying votes to a session: attribution, latest-rating-wins, incremental report.

Shared by the chat ingest (batches from the inbox) and web/API votes. The caller holds the
session row (locked) in its transaction. Work per vote is O(1) database rows plus an
O(log n) timeline lookup: no recount, no scan of other votes or sessions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.sessions import repository as repo
from premiere_ecoute.sessions.events import PollBallotsUpdated, VoteAccepted
from premiere_ecoute.sessions.models import ListeningSession
from premiere_ecoute.sessions.scores import ReportState, Timeline


@dataclass(frozen=True, slots=True)
class IncomingVote:
    viewer_id: str
    option: str  # canonical option of the session's scale
    is_streamer: bool
    source: str
    sent_at: dt.datetime
    viewer_name: str | None = None  # the display name shown in the feed, when known


@dataclass
class VoteOutcome:
    accepted: list[VoteAccepted] = field(default_factory=list)
    rejected: list[tuple[IncomingVote, str]] = field(default_factory=list)


def load_report(row: ListeningSession) -> ReportState:
    if row.report:
        return ReportState.from_json(row.report)
    return ReportState(repo.scale_of(row), external_voters=True)


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
    removed = set(row.removed_voters or ())
    attributed: list[tuple[IncomingVote, int]] = []
    for vote in sorted(votes, key=lambda v: v.sent_at):
        if removed and not vote.is_streamer and vote.viewer_id in removed:
            out.rejected.append((vote, "removed"))
            continue
        att = timeline.attribute(vote.sent_at, row.stream_delay_s)
        if att.track_id is None or not att.accepted:
            out.rejected.append((vote, att.reason or "rejected"))
        else:
            attributed.append((vote, att.track_id))
    if not attributed:
        return out
    existing = await repo.ratings_of(s, row.id, {(t, v.viewer_id) for v, t in attributed})

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
    new_voters = await repo.add_voters(
        s, row.id, sorted({v.viewer_id for v, _, _ in applied if not v.is_streamer})
    )
    state = load_report(row)
    final: dict[tuple[int, str], dict[str, Any]] = {}
    for vote, track_id, previous in applied:
        if vote.is_streamer:
            state.apply_streamer_rating(track_id, vote.option)
        else:
            first = vote.viewer_id in new_voters
            new_voters.discard(vote.viewer_id)
            state.apply_viewer_rating(
                track_id, vote.viewer_id, vote.option, previous, first_in_session=first
            )
        final[(track_id, vote.viewer_id)] = {
            "track_id": track_id,
            "viewer_id": vote.viewer_id,
            "is_streamer": vote.is_streamer,
            "value": vote.option,
            "source": vote.source,
            "sent_at": vote.sent_at,
            "viewer_name": (vote.viewer_name or "")[:100] or None,
        }
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
    await repo.upsert_votes(s, row.id, list(final.values()))
    store_report(row, state)
    return out


async def record_poll_tally(
    s: AsyncSession,
    twitch_poll_id: str,
    counts: dict[str, int],
    *,
    final: bool,
    at: dt.datetime,
) -> PollBallotsUpdated | None:
    """Store a poll's running totals (progress or end) and move its track's counters.

    ``counts`` maps choice titles to ballots; titles are matched to the session's scale
    options as chat votes are (case-folded), and a choice that is no option is left out.
    Returns None for a poll id that no session knows (SPEC §4.5: such notifications are
    ignored)."""
    poll = await repo.poll_by_twitch_id(s, twitch_poll_id)
    if poll is None:
        return None
    row = await repo.get_session(s, poll.session_id, lock=True)  # a poll's session exists
    scale = repo.scale_of(row)
    matched: dict[str, int] = {}
    for title, votes in counts.items():
        option = scale.canonical(title)
        if option is not None:
            matched[option] = matched.get(option, 0) + int(votes)
    event = apply_poll_ballots(row, twitch_poll_id, poll.track_id, matched, final)
    poll.ballots = dict(event.counts)
    if final:
        poll.status, poll.ended_at = "COMPLETED", at
    return event


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


async def rebuild_report(s: AsyncSession, session_id: int) -> None:
    """Rebuild a session's counters from the votes and polls that remain (after a viewer's
    ratings were deleted). O(votes of the session), for a rare event."""
    row = await repo.get_session(s, session_id, lock=True)
    facts = await repo.stored_facts(s, session_id)
    store_report(row, facts.report(repo.scale_of(row)))
