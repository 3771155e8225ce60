"""Session writes, and the locked reads that precede them: sessions, votes and voters,
polls, what the ingest routes chat to, what the player monitor records, and what an account
deletion erases.

Statements of the vote hot path are built once and run with many parameter sets
(executemany), so no statement is compiled again for each batch size."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import BigInteger, String, and_, any_, bindparam, delete, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.accounts.models import User
from premiere_ecoute.core.errors import N_, Forbidden, NotFound, refuse
from premiere_ecoute.discography.models import Track
from premiere_ecoute.sessions.models import (
    EarlyVote,
    ListeningSession,
    Poll,
    ScorePrior,
    SessionVoter,
    Vote,
)
from premiere_ecoute.sessions.scores import Scale, Timeline, TrackRef
from premiere_ecoute.sessions.scores.facts import RatingFacts

MAX_ID = 2**63 - 1
# The longest stream delay (60 s) plus a margin for late deliveries: a session stopped this
# recently may still be owed chat votes.
RECENT_STOP = dt.timedelta(seconds=75)


async def get_session(s: AsyncSession, session_id: int, *, lock: bool = False) -> ListeningSession:
    """``lock``: take the row lock and reload the row. Handlers read the row, call Spotify or
    Twitch, then lock it; without the reload the identity map would hand back the row as it
    was before the external calls and silently overwrite what others committed meanwhile."""
    if not 0 < session_id <= MAX_ID:  # beyond BIGINT PostgreSQL would fail, not miss
        raise refuse(NotFound, N_("session %(id)s does not exist"), id=session_id)
    q = select(ListeningSession).where(ListeningSession.id == session_id)
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    row = await s.scalar(q)
    if row is None:
        raise refuse(NotFound, N_("session %(id)s does not exist"), id=session_id)
    return row


async def authorize(s: AsyncSession, row: ListeningSession, actor_id: int) -> User:
    """Only the owner (or an admin) may command a session. Returns the actor."""
    actor = await s.get(User, actor_id)
    if actor is None:
        raise refuse(NotFound, N_("unknown user"))
    if row.user_id != actor_id and not actor.is_admin:
        raise refuse(Forbidden, N_("only the streamer who owns this session can do that"))
    return actor


async def owner_of(s: AsyncSession, row: ListeningSession) -> User:
    owner = await s.get(User, row.user_id)
    if owner is None:
        raise refuse(NotFound, N_("the session's streamer no longer exists"))
    return owner


async def user(s: AsyncSession, user_id: int) -> User | None:
    return await s.get(User, user_id)


async def track_refs(s: AsyncSession, row: ListeningSession) -> list[TrackRef]:
    """The session's tracks in album (or playlist) order, with the numbers the session was
    prepared with (album track numbers, playlist positions from 1) and each track's own
    artists."""
    tracks = {t.id: t for t in await s.scalars(select(Track).where(Track.id.in_(row.track_ids)))}
    numbers = row.track_numbers if row.track_numbers else None
    refs = []
    for position, track_id in enumerate(row.track_ids, start=1):
        t = tracks[track_id]
        if numbers is not None and len(numbers) == len(row.track_ids):
            number = int(numbers[position - 1])
        else:  # prepared before sessions kept their numbers
            number = t.track_number if row.source_kind == "album" else position
        refs.append(
            TrackRef(
                track_id=t.id,
                spotify_id=t.spotify_id,
                track_number=number,
                name=t.name,
                artists=tuple(t.artists or ()),
            )
        )
    return refs


def scale_of(row: ListeningSession) -> Scale:
    return Scale.from_json(row.scale)


def timeline_of(row: ListeningSession) -> Timeline | None:
    return Timeline.from_json(row.timeline) if row.timeline else None


async def active_session_id(s: AsyncSession, user_id: int) -> int | None:
    return await s.scalar(
        select(ListeningSession.id).where(
            ListeningSession.user_id == user_id, ListeningSession.status == "active"
        )
    )


async def add_session(s: AsyncSession, row: ListeningSession) -> ListeningSession:
    s.add(row)
    await s.flush()
    return row


async def delete_session(s: AsyncSession, row: ListeningSession) -> None:
    await s.execute(delete(Poll).where(Poll.session_id == row.id))
    await s.delete(row)


async def add_poll(
    s: AsyncSession,
    session_id: int,
    track_id: int,
    twitch_poll_id: str,
    *,
    started_at: dt.datetime | None = None,
) -> None:
    poll = Poll(session_id=session_id, track_id=track_id, twitch_poll_id=twitch_poll_id)
    if started_at is not None:
        poll.started_at = started_at
    s.add(poll)


async def finish_poll(s: AsyncSession, twitch_poll_id: str, status: str, at: dt.datetime) -> None:
    """Mark a poll that is still running as ended (its final ballots may still arrive)."""
    await s.execute(
        update(Poll)
        .where(Poll.twitch_poll_id == twitch_poll_id, Poll.status == "ACTIVE")
        .values(status=status, ended_at=at)
    )


async def poll_by_twitch_id(s: AsyncSession, twitch_poll_id: str) -> Poll | None:
    return await s.scalar(select(Poll).where(Poll.twitch_poll_id == twitch_poll_id))


# Votes ------------------------------------------------------------------------------------
# The caller holds the session row's lock: it serialises every writer of the session's votes
# (ingest, web and API votes, erasure), so vote rows need no lock of their own. Rows travel as
# one JSON document: one statement whatever the batch size, one C call to encode it.

_RATINGS = text(
    "SELECT v.track_id, v.viewer_id, v.value, v.sent_at FROM votes v"
    " JOIN jsonb_to_recordset(CAST(:keys AS jsonb)) AS k(track_id bigint, viewer_id varchar)"
    " ON v.track_id = k.track_id AND v.viewer_id = k.viewer_id"
    " WHERE v.session_id = :session_id"
)
_ADD_VOTERS = text(
    "INSERT INTO session_voters (session_id, viewer_id)"
    " SELECT :session_id, viewer_id FROM jsonb_array_elements_text(CAST(:viewers AS jsonb))"
    " AS viewer_id ON CONFLICT DO NOTHING RETURNING viewer_id"
)
_UPSERT_VOTES = text(
    "INSERT INTO votes (session_id, track_id, viewer_id, is_streamer, value, source, sent_at,"
    " viewer_name)"
    " SELECT :session_id, r.track_id, r.viewer_id, r.is_streamer, r.value, r.source, r.sent_at,"
    " r.viewer_name"
    " FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(track_id bigint, viewer_id varchar,"
    " is_streamer boolean, value varchar, source varchar, sent_at timestamptz,"
    " viewer_name varchar)"
    " ON CONFLICT ON CONSTRAINT uq_votes_session_track_viewer DO UPDATE SET"
    " value = excluded.value, source = excluded.source, sent_at = excluded.sent_at,"
    " viewer_name = coalesce(excluded.viewer_name, votes.viewer_name),"
    " changes = votes.changes + 1"
)
_ADD_EARLY_VOTES = text(
    "INSERT INTO early_votes (session_id, viewer_id, viewer_name, value, source, sent_at)"
    " SELECT :session_id, r.viewer_id, r.viewer_name, r.value, r.source, r.sent_at"
    " FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(viewer_id varchar,"
    " viewer_name varchar, value varchar, source varchar, sent_at timestamptz)"
)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=_iso)


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


async def ratings_of(
    s: AsyncSession, session_id: int, keys: Iterable[tuple[int, str]]
) -> dict[tuple[int, str], tuple[str, dt.datetime]]:
    """The stored rating (value, sent at) of each (track, viewer) among ``keys``."""
    pairs = list(keys)
    if not pairs:
        return {}
    keys_json = _json([{"track_id": t, "viewer_id": v} for t, v in pairs])
    result = await s.execute(_RATINGS, {"session_id": session_id, "keys": keys_json})
    return {(t, v): (value, sent_at) for t, v, value, sent_at in result.all()}


async def add_voters(s: AsyncSession, session_id: int, viewer_ids: Sequence[str]) -> set[str]:
    """Record the session's voters; returns those new to the session."""
    if not viewer_ids:
        return set()
    viewers = _json(list(viewer_ids))
    inserted = await s.execute(_ADD_VOTERS, {"session_id": session_id, "viewers": viewers})
    return set(inserted.scalars())


async def upsert_votes(s: AsyncSession, session_id: int, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    await s.execute(_UPSERT_VOTES, {"session_id": session_id, "rows": _json(list(rows))})


async def add_early_votes(s: AsyncSession, session_id: int, rows: Sequence[dict[str, Any]]) -> None:
    """Chat votes heard before the start: kept for the feed, counted nowhere."""
    if rows:
        await s.execute(_ADD_EARLY_VOTES, {"session_id": session_id, "rows": _json(list(rows))})


async def remove_voter(s: AsyncSession, session_id: int, viewer_id: str) -> int:
    """Delete a viewer's ratings of one session (and their place among its voters);
    returns how many ratings went."""
    gone = await s.execute(
        delete(Vote).where(
            Vote.session_id == session_id, Vote.viewer_id == viewer_id, Vote.is_streamer.is_(False)
        )
    )
    await s.execute(
        delete(SessionVoter).where(
            SessionVoter.session_id == session_id, SessionVoter.viewer_id == viewer_id
        )
    )
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]


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


# Chat routing (the ingest) ----------------------------------------------------------------


def _any(name: str, values: Sequence[Any], element: Any) -> Any:
    """``= ANY(:name)`` with the values as one array parameter: the statement text stays the
    same whatever their number."""
    return any_(bindparam(name, list(values), type_=ARRAY(element())))


def _owed_chat(earliest: dt.datetime) -> Any:
    """Active, or stopped recently enough that the stream delay may still owe it votes."""
    return or_(
        ListeningSession.status == "active",
        and_(
            ListeningSession.status == "stopped",
            ListeningSession.stopped_at >= earliest - RECENT_STOP,
        ),
    )


async def lock_batch_sessions(
    s: AsyncSession,
    broadcaster_ids: Iterable[str],
    earliest: dt.datetime,
    twitch_poll_ids: Iterable[str],
) -> dict[str, list[ListeningSession]]:
    """Lock and load every session an ingest batch may touch, in id order and in one query:
    two ingest loops with overlapping channels then wait for each other instead of
    deadlocking. Returns each broadcaster's sessions owed chat (active, or stopped so recently
    that the stream delay may still owe them votes), newest start first."""
    broadcasters = sorted(set(broadcaster_ids))
    polls = sorted(set(twitch_poll_ids))
    poll_sessions: list[int] = []
    if polls:
        poll_sessions = list(
            await s.scalars(
                select(Poll.session_id).where(Poll.twitch_poll_id == _any("polls", polls, String))
            )
        )
    if not broadcasters and not poll_sessions:
        return {}
    rows = await s.execute(
        select(ListeningSession, User.twitch_user_id)
        .join(User, User.id == ListeningSession.user_id)
        .where(
            or_(
                and_(
                    User.twitch_user_id == _any("bids", broadcasters, String), _owed_chat(earliest)
                ),
                ListeningSession.id == _any("sids", poll_sessions, BigInteger),
            )
        )
        .order_by(ListeningSession.id)
        .with_for_update(of=ListeningSession)
        .execution_options(populate_existing=True)
    )
    owed: dict[str, list[ListeningSession]] = {}
    for row, twitch_id in rows.all():
        if twitch_id in broadcasters and (
            row.status == "active"
            or (row.stopped_at is not None and row.stopped_at >= earliest - RECENT_STOP)
        ):
            owed.setdefault(twitch_id, []).append(row)
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    for sessions in owed.values():
        sessions.sort(key=lambda r: (r.started_at or never, r.id), reverse=True)
    return owed


# The player monitor -----------------------------------------------------------------------


async def set_notice(s: AsyncSession, session_id: int, notice: str) -> bool:
    result = await s.execute(
        update(ListeningSession)
        .where(ListeningSession.id == session_id, ListeningSession.status == "active")
        .values(notice=notice[:500])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def clear_notice(s: AsyncSession, session_id: int, ours: str) -> bool:
    """Clear the notice only if it is still the one the monitor wrote."""
    result = await s.execute(
        update(ListeningSession)
        .where(ListeningSession.id == session_id, ListeningSession.notice == ours[:500])
        .values(notice=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def set_player(s: AsyncSession, session_id: int, reading: dict[str, Any] | None) -> None:
    await s.execute(
        update(ListeningSession).where(ListeningSession.id == session_id).values(player=reading)
    )


# Erasing a deleted account's ratings and sessions -------------------------------------------

_ANONYMISE_VOTES = text(
    "UPDATE events SET payload = jsonb_set(payload, '{viewer_id}', to_jsonb(CAST(:alias AS text)))"
    " WHERE type = 'VoteAccepted' AND payload->>'viewer_id' = :viewer_id"
)
_ANONYMISE_REMOVALS = text(
    "UPDATE events SET payload = jsonb_set(payload, '{viewer_id}', to_jsonb(CAST(:alias AS text)))"
    " WHERE type = 'VoterRemoved' AND payload->>'viewer_id' = :viewer_id"
)
_FORGET_CHAT = text(
    "DELETE FROM inbox WHERE processed_at IS NOT NULL AND source = 'twitch'"
    " AND kind = 'chat' AND payload->>'chatter_id' = :twitch_id"
)


async def anonymise_votes(s: AsyncSession, aliases: dict[str, str]) -> None:
    """Every ``VoteAccepted`` a deleted viewer cast now carries their alias instead."""
    for viewer_id, alias in aliases.items():
        await s.execute(_ANONYMISE_VOTES, {"alias": alias, "viewer_id": viewer_id})
        await s.execute(_ANONYMISE_REMOVALS, {"alias": alias, "viewer_id": viewer_id})


async def forget_chat(s: AsyncSession, twitch_id: str) -> None:
    """The deleted viewer's processed chat lines leave the inbox (unprocessed ones stay:
    dropping an unprocessed message is never safe)."""
    await s.execute(_FORGET_CHAT, {"twitch_id": twitch_id})


async def lock_sessions_rated_by(
    s: AsyncSession, viewer_ids: Sequence[str], except_user: int
) -> list[int]:
    return list(
        await s.scalars(
            select(ListeningSession.id)
            .where(
                ListeningSession.user_id != except_user,
                ListeningSession.id.in_(
                    select(Vote.session_id).where(Vote.viewer_id.in_(viewer_ids))
                ),
            )
            .order_by(ListeningSession.id)
            .with_for_update()
        )
    )


async def delete_ratings_of(s: AsyncSession, viewer_ids: Sequence[str]) -> None:
    await s.execute(delete(Vote).where(Vote.viewer_id.in_(viewer_ids)))
    await s.execute(delete(SessionVoter).where(SessionVoter.viewer_id.in_(viewer_ids)))
    await s.execute(delete(EarlyVote).where(EarlyVote.viewer_id.in_(viewer_ids)))


async def delete_sessions_of(s: AsyncSession, user_id: int) -> list[int]:
    """Delete every session of ``user_id``; returns their ids."""
    ids = list(
        await s.scalars(select(ListeningSession.id).where(ListeningSession.user_id == user_id))
    )
    await s.execute(delete(ListeningSession).where(ListeningSession.user_id == user_id))
    return ids


# The instance priors of honest scores ----------------------------------------------------------


async def store_priors(
    s: AsyncSession, totals: dict[str, tuple[float, int]], at: dt.datetime
) -> None:
    """Replace the stored instance sums per scale family (a family without ratings is gone)."""
    await s.execute(delete(ScorePrior))
    s.add_all(
        ScorePrior(family=family, total=total, ratings=ratings, updated_at=at)
        for family, (total, ratings) in sorted(totals.items())
    )
    await s.flush()
