"""Handlers of a running session: track changes, vote windows, votes, stop and delete."""

from __future__ import annotations

import structlog
from sqlalchemy import delete

from premiere_ecoute.accounts.models import User
from premiere_ecoute.core.errors import (
    DomainError,
    Forbidden,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from premiere_ecoute.core.unit_of_work import UnitOfWork
from premiere_ecoute.sessions import events
from premiere_ecoute.sessions.commands import (
    CastVote,
    ChangeTrack,
    DeleteSession,
    SetVoteWindow,
    StopSession,
)
from premiere_ecoute.sessions.handlers import SessionPorts, poll_title
from premiere_ecoute.sessions.models import ListeningSession, Poll
from premiere_ecoute.sessions.repository import (
    authorize,
    get_session,
    scale_of,
    timeline_of,
    track_refs,
)
from premiere_ecoute.sessions.voting import IncomingVote, VoteOutcome, apply_votes, load_report

log = structlog.get_logger(__name__)


def _require_active(row: ListeningSession) -> None:
    if row.status != "active":
        raise InvalidState(f"the session is {row.status}, not active")


async def _end_poll_quietly(ports: SessionPorts, broadcaster: str, poll_id: str | None) -> None:
    if not poll_id:
        return
    try:
        await ports.polls.end_poll(broadcaster, poll_id)
    except DomainError as exc:  # Twitch refused, or the connection needs a reconnect
        log.warning("sessions.poll.end_failed", poll_id=poll_id, error=exc.message)


async def change_track(cmd: ChangeTrack, uow: UnitOfWork, ports: SessionPorts) -> ListeningSession:
    s = uow.session
    row = await get_session(s, cmd.session_id)
    await authorize(s, row, cmd.actor_id)
    _require_active(row)
    index = row.current_index or 0
    if cmd.direction == "next":
        target = index + 1
        if target >= len(row.track_ids):
            raise InvalidState("this is the last track of the album: stop the session instead")
    elif cmd.direction == "previous":
        target = index - 1
        if target < 0:
            raise InvalidState("this is already the first track")
    else:
        assert cmd.position is not None
        target = cmd.position - 1
        if target >= len(row.track_ids):
            raise ValidationFailed(f"there are only {len(row.track_ids)} tracks")
        if target == index:
            return row  # already there (the player monitor and the page may both ask)
    owner = await s.get(User, row.user_id)
    assert owner is not None
    if row.playback == "spotify" and cmd.move_player:
        await ports.playback.play_context(owner.id, row.context_uri, target)
    refs = await track_refs(s, row)
    broadcaster = owner.twitch_user_id or ""
    new_poll: str | None = None
    poll_notice: str | None = None
    if row.vote_mode != "chat":
        await _end_poll_quietly(ports, broadcaster, row.current_poll_id)
        try:
            new_poll = await ports.polls.create_poll(
                broadcaster,
                poll_title(refs[target].name),
                list(scale_of(row).options),
                row.poll_duration_s,
            )
        except DomainError as exc:
            poll_notice = f"Twitch poll unavailable, chat votes only: {exc.message}"
    row = await get_session(s, cmd.session_id, lock=True)
    if row.status != "active" or target == (row.current_index or 0):
        # Lost a race (stopped meanwhile, or another change already went there): the poll
        # this command created would be tracked by nobody.
        await _end_poll_quietly(ports, broadcaster, new_poll)
        _require_active(row)
        return row
    if (row.current_index or 0) != index:
        log.info("sessions.track.raced", session_id=row.id)
    now = ports.clock.now()
    timeline = timeline_of(row)
    assert timeline is not None
    old_track = row.track_ids[row.current_index or 0]
    new_track = row.track_ids[target]
    timeline.close_window(old_track, now)
    timeline.change_track(new_track, now)
    timeline.open_window(new_track, now)
    row.timeline = timeline.to_json()
    row.current_index = target
    row.votes_open = True
    if row.vote_mode != "chat":
        row.current_poll_id = new_poll
        if new_poll:
            s.add(Poll(session_id=row.id, track_id=new_track, twitch_poll_id=new_poll))
            uow.record(events.PollStarted(session_id=row.id, poll_id=new_poll, track_id=new_track))
        if poll_notice:
            row.notice = poll_notice
    uow.record(events.VotesClosed(session_id=row.id, at=now, track_id=old_track))
    uow.record(
        events.TrackChanged(
            session_id=row.id, at=now, track_id=new_track, index=target, source=cmd.source
        )
    )
    uow.record(events.VotesOpened(session_id=row.id, at=now, track_id=new_track))
    name = refs[target].name
    uow.after_commit.append(lambda: ports.chat.announce(broadcaster, f"Now playing: {name}"))
    return row


async def set_vote_window(
    cmd: SetVoteWindow, uow: UnitOfWork, ports: SessionPorts
) -> ListeningSession:
    row = await get_session(uow.session, cmd.session_id, lock=True)
    await authorize(uow.session, row, cmd.actor_id)
    _require_active(row)
    timeline = timeline_of(row)
    assert timeline is not None
    track = row.track_ids[row.current_index or 0]
    if row.votes_open == cmd.open:
        state = "open" if cmd.open else "closed"
        raise InvalidState(f"votes are already {state} for this track")
    now = ports.clock.now()
    if cmd.open:
        timeline.open_window(track, now)
        uow.record(events.VotesOpened(session_id=row.id, at=now, track_id=track))
    else:
        timeline.close_window(track, now)
        uow.record(events.VotesClosed(session_id=row.id, at=now, track_id=track))
    row.timeline = timeline.to_json()
    row.votes_open = cmd.open
    return row


async def stop(cmd: StopSession, uow: UnitOfWork, ports: SessionPorts) -> ListeningSession:
    s = uow.session
    row = await get_session(s, cmd.session_id)
    await authorize(s, row, cmd.actor_id)
    _require_active(row)
    owner = await s.get(User, row.user_id)
    assert owner is not None
    broadcaster = owner.twitch_user_id or ""
    notices = []
    await _end_poll_quietly(ports, broadcaster, row.current_poll_id)
    # Best effort: a stop is never blocked by Twitch or Spotify, not even by a connection
    # that was unlinked or needs a reconnect (SPEC §3).
    try:
        await ports.eventsub.unsubscribe(row.subscriptions or [])
    except DomainError as exc:
        notices.append(f"Twitch unsubscribe failed: {exc.message}")
    if row.playback == "spotify":
        try:
            await ports.playback.pause(owner.id)
        except DomainError as exc:
            notices.append(f"Spotify did not pause: {exc.message}")
    row = await get_session(s, cmd.session_id, lock=True)
    _require_active(row)
    now = ports.clock.now()
    timeline = timeline_of(row)
    assert timeline is not None
    timeline.stop(now)
    row.timeline = timeline.to_json()
    row.status, row.stopped_at, row.votes_open = "stopped", now, False
    row.notice = "; ".join(notices) or None
    report = load_report(row).to_report(row.id, "stopped", await track_refs(s, row))
    uow.record(events.SessionStopped(session_id=row.id, at=now, report=report))
    score = report["viewer_score"]
    shown = f"{score:.2f}" if isinstance(score, float) else (score or "no votes")
    text = (
        f"Session over! Chat score: {shown}, {report['votes']} votes from "
        f"{report['voters']} viewers. Thanks for listening!"
    )
    uow.after_commit.append(lambda: ports.chat.announce(broadcaster, text))
    return row


async def delete_session(cmd: DeleteSession, uow: UnitOfWork) -> None:
    s = uow.session
    row = await get_session(s, cmd.session_id, lock=True)
    actor = await authorize(s, row, cmd.actor_id)
    if row.status == "active":
        raise InvalidState("stop the session before deleting it")
    await s.execute(delete(Poll).where(Poll.session_id == row.id))
    await s.delete(row)
    uow.record(
        events.SessionDeleted(
            session_id=row.id, by_user_id=actor.id, by_admin=actor.id != row.user_id
        )
    )


async def cast_vote(cmd: CastVote, uow: UnitOfWork, ports: SessionPorts) -> VoteOutcome:
    """A web or API rating: the owner's counts as the streamer's, anyone else's as a viewer's."""
    s = uow.session
    voter = await s.get(User, cmd.actor_id)
    if voter is None:
        raise NotFound("unknown user")
    if voter.role == "bot":
        raise Forbidden("the bot account does not vote")
    row = await get_session(s, cmd.session_id, lock=True)
    if row.status == "preparing":
        raise InvalidState("the session has not started yet")
    # A stopped session still takes votes sent within its stream delay: the timeline decides.
    option = scale_of(row).canonical(cmd.value)
    if option is None:
        raise ValidationFailed(
            f"{cmd.value!r} is not an option of this session's scale "
            f"({', '.join(scale_of(row).options)})"
        )
    is_streamer = voter.id == row.user_id
    viewer_id = voter.twitch_user_id or f"user:{voter.id}"
    outcome = await apply_votes(
        s,
        row,
        [
            IncomingVote(
                viewer_id=viewer_id,
                option=option,
                is_streamer=is_streamer,
                source=cmd.source,
                sent_at=ports.clock.now(),
            )
        ],
    )
    if outcome.rejected:
        reason = outcome.rejected[0][1]
        messages = {
            "window_closed": "votes are closed for this track",
            "before_start": "the session has not started yet",
            "after_stop": "the session is over",
            "superseded": "a newer rating of yours is already counted",
        }
        raise InvalidState(messages.get(reason, f"vote not accepted ({reason})"))
    for ev in outcome.accepted:
        uow.record(ev)
    return outcome
