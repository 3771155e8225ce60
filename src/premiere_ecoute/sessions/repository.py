"""Session writes, and the locked reads that precede them: sessions, votes and voters,
polls, what the ingest routes chat to, what the player monitor records, and what an account
deletion erases.

Statements of the vote hot path are built once and run with many parameter sets
(executemany), so no statement is compiled again for each batch size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, delete, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.accounts.models import User
from premiere_ecoute.core.errors import Forbidden, NotFound
from premiere_ecoute.discography.models import Track
from premiere_ecoute.sessions.models import ListeningSession, Poll, SessionVoter, Vote
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
        raise NotFound(f"session {session_id} does not exist")
    q = select(ListeningSession).where(ListeningSession.id == session_id)
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    row = await s.scalar(q)
    if row is None:
        raise NotFound(f"session {session_id} does not exist")
    return row


async def authorize(s: AsyncSession, row: ListeningSession, actor_id: int) -> User:
    """Only the owner (or an admin) may command a session. Returns the actor."""
    actor = await s.get(User, actor_id)
    if actor is None:
        raise NotFound("unknown user")
    if row.user_id != actor_id and not actor.is_admin:
        raise Forbidden("only the streamer who owns this session can do that")
    return actor


async def owner_of(s: AsyncSession, row: ListeningSession) -> User:
    owner = await s.get(User, row.user_id)
    if owner is None:
        raise NotFound("the session's streamer no longer exists")
    return owner


async def user(s: AsyncSession, user_id: int) -> User | None:
    return await s.get(User, user_id)


async def track_refs(s: AsyncSession, row: ListeningSession) -> list[TrackRef]:
    """The session's tracks in album (or playlist) order, numbered from 1 for playlists."""
    tracks = {t.id: t for t in await s.scalars(select(Track).where(Track.id.in_(row.track_ids)))}
    refs = []
    for position, track_id in enumerate(row.track_ids, start=1):
        t = tracks[track_id]
        number = t.track_number if row.source_kind == "album" else position
        refs.append(
            TrackRef(track_id=t.id, spotify_id=t.spotify_id, track_number=number, name=t.name)
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


async def add_poll(s: AsyncSession, session_id: int, track_id: int, twitch_poll_id: str) -> None:
    s.add(Poll(session_id=session_id, track_id=track_id, twitch_poll_id=twitch_poll_id))


async def poll_by_twitch_id(s: AsyncSession, twitch_poll_id: str) -> Poll | None:
    return await s.scalar(select(Poll).where(Poll.twitch_poll_id == twitch_poll_id))


# Votes ------------------------------------------------------------------------------------

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


async def ratings_of(
    s: AsyncSession, session_id: int, keys: Iterable[tuple[int, str]]
) -> dict[tuple[int, str], tuple[str, dt.datetime]]:
    """The stored rating (value, sent at) of each (track, viewer) among ``keys``, locked."""
    result = await s.execute(
        select(Vote.track_id, Vote.viewer_id, Vote.value, Vote.sent_at)
        .where(Vote.session_id == session_id, tuple_(Vote.track_id, Vote.viewer_id).in_(list(keys)))
        .with_for_update()
    )
    return {(t, v): (value, sent_at) for t, v, value, sent_at in result.all()}


async def add_voters(s: AsyncSession, session_id: int, viewer_ids: Sequence[str]) -> set[str]:
    """Record the session's voters; returns those new to the session."""
    if not viewer_ids:
        return set()
    inserted = await s.execute(
        _VOTER_INSERT, [{"session_id": session_id, "viewer_id": v} for v in viewer_ids]
    )
    return set(inserted.scalars())


async def upsert_votes(s: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await s.execute(_VOTE_UPSERT, list(rows))


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


def _owed_chat(earliest: dt.datetime) -> Any:
    """Active, or stopped recently enough that the stream delay may still owe it votes."""
    return or_(
        ListeningSession.status == "active",
        and_(
            ListeningSession.status == "stopped",
            ListeningSession.stopped_at >= earliest - RECENT_STOP,
        ),
    )


async def lock_sessions_for(
    s: AsyncSession,
    broadcaster_ids: Iterable[str],
    earliest: dt.datetime,
    twitch_poll_ids: Iterable[str],
) -> None:
    """Lock every session row a batch may touch, in id order, before touching any: two
    ingest loops with overlapping channels then wait for each other instead of deadlocking."""
    ids: set[int] = set()
    broadcasters = sorted(set(broadcaster_ids))
    if broadcasters:
        found = await s.scalars(
            select(ListeningSession.id)
            .join(User, User.id == ListeningSession.user_id)
            .where(User.twitch_user_id.in_(broadcasters), _owed_chat(earliest))
        )
        ids.update(found)
    polls = sorted(set(twitch_poll_ids))
    if polls:
        ids.update(await s.scalars(select(Poll.session_id).where(Poll.twitch_poll_id.in_(polls))))
    if ids:
        await s.execute(
            select(ListeningSession.id)
            .where(ListeningSession.id.in_(sorted(ids)))
            .order_by(ListeningSession.id)
            .with_for_update()
        )


async def chat_candidates(
    s: AsyncSession, broadcaster_id: str, sent_since: dt.datetime
) -> list[ListeningSession]:
    """The broadcaster's active session and those stopped recently enough that the stream
    delay may still owe them votes, newest start first (rows locked)."""
    rows = await s.scalars(
        select(ListeningSession)
        .join(User, User.id == ListeningSession.user_id)
        .where(User.twitch_user_id == broadcaster_id, _owed_chat(sent_since))
        .order_by(ListeningSession.started_at.desc().nulls_last(), ListeningSession.id.desc())
        .with_for_update(of=ListeningSession)
        .execution_options(populate_existing=True)
    )
    return list(rows)


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
_FORGET_CHAT = text(
    "DELETE FROM inbox WHERE processed_at IS NOT NULL AND source = 'twitch'"
    " AND kind = 'chat' AND payload->>'chatter_id' = :twitch_id"
)


async def anonymise_votes(s: AsyncSession, aliases: dict[str, str]) -> None:
    """Every ``VoteAccepted`` a deleted viewer cast now carries their alias instead."""
    for viewer_id, alias in aliases.items():
        await s.execute(_ANONYMISE_VOTES, {"alias": alias, "viewer_id": viewer_id})


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


async def delete_sessions_of(s: AsyncSession, user_id: int) -> list[int]:
    """Delete every session of ``user_id``; returns their ids."""
    ids = list(
        await s.scalars(select(ListeningSession.id).where(ListeningSession.user_id == user_id))
    )
    await s.execute(delete(ListeningSession).where(ListeningSession.user_id == user_id))
    return ids
