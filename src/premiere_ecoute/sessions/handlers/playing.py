"""Handlers of a running session: track changes, vote windows, votes, and the Spotify
player's own controls."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import structlog

from premiere_ecoute.core.errors import (
    N_,
    AccountNotConnected,
    DomainError,
    Forbidden,
    InvalidState,
    NotFound,
    ValidationFailed,
    refuse,
)
from premiere_ecoute.core.unit_of_work import UnitOfWork
from premiere_ecoute.sessions import events
from premiere_ecoute.sessions import repository as repo
from premiere_ecoute.sessions.announcements import Speaker
from premiere_ecoute.sessions.commands import CastVote, ChangeTrack, ControlPlayer, SetVoteWindow
from premiere_ecoute.sessions.handlers.lifecycle import end_poll_quietly, poll_title, require_active
from premiere_ecoute.sessions.models import ListeningSession
from premiere_ecoute.sessions.ports import SessionPorts
from premiere_ecoute.sessions.queries import player_progress
from premiere_ecoute.sessions.queries.show import SPOTIFY_DISCONNECTED, SPOTIFY_FAILED
from premiere_ecoute.sessions.scores import TrackRef
from premiere_ecoute.sessions.voting import IncomingVote, VoteOutcome, apply_votes, load_report

log = structlog.get_logger(__name__)


async def change_track(cmd: ChangeTrack, uow: UnitOfWork, ports: SessionPorts) -> ListeningSession:
    s = uow.session
    row = await repo.get_session(s, cmd.session_id)
    await repo.authorize(s, row, cmd.actor_id)
    require_active(row)
    index = row.current_index or 0
    if cmd.direction == "next":
        target = index + 1
        if target >= len(row.track_ids):
            raise refuse(
                InvalidState, N_("this is the last track of the album: stop the session instead")
            )
    elif cmd.direction == "previous":
        target = index - 1
        if target < 0:
            raise refuse(InvalidState, N_("this is already the first track"))
    else:
        assert cmd.position is not None
        target = cmd.position - 1
        if target >= len(row.track_ids):
            raise refuse(
                ValidationFailed, N_("there are only %(count)s tracks"), count=len(row.track_ids)
            )
        if target == index:
            return row  # already there (the player monitor and the page may both ask)
    owner = await repo.owner_of(s, row)
    player_failed: str | None = None
    if row.playback == "spotify" and cmd.move_player:
        try:
            await ports.playback.play_context(owner.id, row.context_uri, target)
        except DomainError as exc:
            # Next and Previous always move the session: when Spotify cannot follow (unlinked,
            # down, no device), the session goes on in manual playback and says why.
            player_failed = spotify_failure_notice(exc)
    refs = await repo.track_refs(s, row)
    broadcaster = owner.twitch_user_id or ""
    new_poll: str | None = None
    poll_notice: str | None = None
    if row.vote_mode != "chat":
        await end_poll_quietly(ports, broadcaster, row.current_poll_id)
        try:
            new_poll = await ports.polls.create_poll(
                broadcaster,
                poll_title(refs[target].name),
                list(repo.scale_of(row).options),
                row.poll_duration_s,
            )
        except DomainError as exc:
            poll_notice = f"Twitch poll unavailable, chat votes only: {exc.message}"
    row = await repo.get_session(s, cmd.session_id, lock=True)
    if row.status != "active" or target == (row.current_index or 0):
        # Lost a race (stopped meanwhile, or another change already went there): the poll
        # this command created would be tracked by nobody.
        await end_poll_quietly(ports, broadcaster, new_poll)
        require_active(row)
        return row
    if (row.current_index or 0) != index:
        log.info("sessions.track.raced", session_id=row.id)
    now = ports.clock.now()
    timeline = repo.timeline_of(row)
    assert timeline is not None
    old_track = row.track_ids[row.current_index or 0]
    new_track = row.track_ids[target]
    closing = row.votes_open  # the old track's votes close now: its result is told
    timeline.close_window(old_track, now)
    timeline.change_track(new_track, now)
    timeline.open_window(new_track, now)
    row.timeline = timeline.to_json()
    row.current_index = target
    row.votes_open = True
    if row.vote_mode != "chat":
        row.current_poll_id = new_poll
        if new_poll:
            await repo.add_poll(s, row.id, new_track, new_poll, started_at=now)
            uow.record(events.PollStarted(session_id=row.id, poll_id=new_poll, track_id=new_track))
        if poll_notice:
            # SPEC §4.5: a Twitch refusal is shown and the session goes on in chat mode.
            row.notice = poll_notice
            row.vote_mode = "chat"
    if player_failed is not None and row.playback == "spotify":
        row.playback, row.player, row.notice = "manual", None, player_failed
        uow.record(events.PlaybackSwitched(session_id=row.id, playback="manual", at=now))
    uow.record(events.VotesClosed(session_id=row.id, at=now, track_id=old_track))
    uow.record(
        events.TrackChanged(
            session_id=row.id, at=now, track_id=new_track, index=target, source=cmd.source
        )
    )
    uow.record(events.VotesOpened(session_id=row.id, at=now, track_id=new_track))
    speaker = Speaker(ports.translator, row.language)
    texts = [_track_result(speaker, row, refs, old_track)] if closing else []
    texts.append(speaker.now_playing(refs[target].name, repo.scale_of(row), row.vote_mode))
    for text in texts:
        if text:
            uow.after_commit(partial(ports.chat.announce, broadcaster, text))
    return row


def _track_result(
    speaker: Speaker, row: ListeningSession, refs: list[TrackRef], track_id: int
) -> str | None:
    report = load_report(row).to_report(row.id, row.status, refs)
    entry = next(t for t in report["tracks"] if t["track_id"] == track_id)
    return speaker.track_result(entry)


async def set_vote_window(
    cmd: SetVoteWindow, uow: UnitOfWork, ports: SessionPorts
) -> ListeningSession:
    row = await repo.get_session(uow.session, cmd.session_id, lock=True)
    await repo.authorize(uow.session, row, cmd.actor_id)
    require_active(row)
    timeline = repo.timeline_of(row)
    assert timeline is not None
    track = row.track_ids[row.current_index or 0]
    if row.votes_open == cmd.open:
        already = (
            N_("votes are already open for this track")
            if cmd.open
            else N_("votes are already closed for this track")
        )
        raise refuse(InvalidState, already)
    now = ports.clock.now()
    if cmd.open:
        timeline.open_window(track, now)
        uow.record(events.VotesOpened(session_id=row.id, at=now, track_id=track))
    else:
        timeline.close_window(track, now)
        uow.record(events.VotesClosed(session_id=row.id, at=now, track_id=track))
    row.timeline = timeline.to_json()
    row.votes_open = cmd.open
    if not cmd.open:
        refs = await repo.track_refs(uow.session, row)
        text = _track_result(Speaker(ports.translator, row.language), row, refs, track)
        if text:
            owner = await repo.owner_of(uow.session, row)
            uow.after_commit(partial(ports.chat.announce, owner.twitch_user_id or "", text))
    return row


async def cast_vote(cmd: CastVote, uow: UnitOfWork, ports: SessionPorts) -> VoteOutcome:
    """A web or API rating: the owner's counts as the streamer's, anyone else's as a viewer's."""
    s = uow.session
    voter = await repo.user(s, cmd.actor_id)
    if voter is None:
        raise refuse(NotFound, N_("unknown user"))
    if voter.role == "bot":
        raise refuse(Forbidden, N_("the bot account does not vote"))
    row = await repo.get_session(s, cmd.session_id, lock=True)
    if row.status == "preparing":
        raise refuse(InvalidState, N_("the session has not started yet"))
    # A stopped session still takes votes sent within its stream delay: the timeline decides.
    option = repo.scale_of(row).canonical(cmd.value)
    if option is None:
        raise refuse(
            ValidationFailed,
            N_("'%(value)s' is not an option of this session's scale (%(options)s)"),
            value=cmd.value,
            options=", ".join(repo.scale_of(row).options),
        )
    is_streamer = voter.id == row.user_id
    viewer_id = voter.twitch_user_id or f"user:{voter.id}"
    timeline = repo.timeline_of(row)
    if cmd.track_id is not None and timeline is not None:
        heard = timeline.attribute(ports.clock.now(), row.stream_delay_s).track_id
        if heard is not None and heard != cmd.track_id:
            raise refuse(InvalidState, N_("The track changed: rate the one playing now."))
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
                viewer_name=voter.display_name or voter.login,
            )
        ],
    )
    if outcome.rejected:
        reason = outcome.rejected[0][1]
        messages = {
            "window_closed": N_("votes are closed for this track"),
            "before_start": N_("the session has not started yet"),
            "after_stop": N_("the session is over"),
            "superseded": N_("a newer rating of yours is already counted"),
            "removed": N_("the streamer removed your votes from this session"),
        }
        if reason in messages:
            raise refuse(InvalidState, messages[reason])
        raise refuse(InvalidState, N_("vote not accepted (%(reason)s)"), reason=reason)
    for ev in outcome.accepted:
        uow.record(ev)
    return outcome


async def control_player(cmd: ControlPlayer, uow: UnitOfWork, ports: SessionPorts) -> None:
    """Pause, resume or move the streamer's Spotify player. The stored reading of the player
    follows at once (the progress bars stop or move now, not at the monitor's next look)."""
    s = uow.session
    row = await repo.get_session(s, cmd.session_id)
    await repo.authorize(s, row, cmd.actor_id)
    if row.playback != "spotify":
        raise refuse(InvalidState, N_("This session is played by hand: use your own player."))
    if row.status == "stopped":
        raise refuse(InvalidState, N_("This session is over."))
    if cmd.action in ("pause", "resume") and row.status != "active":
        raise refuse(InvalidState, N_("Start the session first."))
    owner_id = row.user_id
    try:
        if cmd.action == "pause":
            await ports.playback.pause(owner_id)
        elif cmd.action == "resume":
            await ports.playback.resume(owner_id)
        else:
            assert cmd.device_id is not None
            await ports.playback.transfer(owner_id, cmd.device_id.strip())
    except AccountNotConnected as exc:
        raise refuse(
            InvalidState,
            N_("Spotify is disconnected: reconnect it, or switch this session to manual playback."),
        ) from exc
    row = await repo.get_session(s, cmd.session_id, lock=True)
    if cmd.action in ("pause", "resume") and row.player:
        row.player = _played(row.player, cmd.action == "resume", ports.clock.now())
    uow.record(
        events.PlayerControlled(session_id=row.id, action=cmd.action, device_id=cmd.device_id)
    )


def spotify_failure_notice(exc: DomainError) -> str:
    """What the streamer is told when Spotify could not follow a track change: the session
    switched to manual playback. A lost connection says so (reconnecting is what helps); a
    passing failure says it may work again."""
    head = SPOTIFY_DISCONNECTED if isinstance(exc, AccountNotConnected) else SPOTIFY_FAILED
    return f"{head} ({exc.message}): the session switched to manual playback."[:500]


def _played(reading: dict[str, Any], playing: bool, now: dt.datetime) -> dict[str, Any]:
    if reading.get("progress_ms") is None:
        return reading
    moved = player_progress(reading, reading.get("position") or 0, reading.get("duration_ms"), now)
    return {
        **reading,
        "progress_ms": moved["progress_ms"],
        "is_playing": playing,
        "state": "playing" if playing else "paused",
        "checked_at": now.isoformat(),
    }
