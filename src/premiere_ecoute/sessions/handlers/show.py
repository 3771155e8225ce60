"""Handlers of what a streamer does during a show besides moving tracks: end or re-run the
current track's Twitch poll, switch an active session between Spotify and manual playback
(when Spotify fails or is unlinked mid-show), and remove a troll's ratings."""

from __future__ import annotations

import structlog

from premiere_ecoute.core.errors import N_, Conflict, InvalidState, refuse
from premiere_ecoute.core.unit_of_work import UnitOfWork
from premiere_ecoute.sessions import events
from premiere_ecoute.sessions import repository as repo
from premiere_ecoute.sessions.commands import EndPoll, RemoveVoter, RunPollAgain, SwitchPlayback
from premiere_ecoute.sessions.handlers.lifecycle import end_poll_quietly, poll_title, require_active
from premiere_ecoute.sessions.models import ListeningSession
from premiere_ecoute.sessions.ports import SessionPorts
from premiere_ecoute.sessions.voting import rebuild_report

log = structlog.get_logger(__name__)


def _require_polls(row: ListeningSession) -> None:
    if row.vote_mode == "chat":
        raise refuse(InvalidState, N_("This session does not use Twitch polls."))


async def end_poll(cmd: EndPoll, uow: UnitOfWork, ports: SessionPorts) -> ListeningSession:
    s = uow.session
    row = await repo.get_session(s, cmd.session_id)
    await repo.authorize(s, row, cmd.actor_id)
    require_active(row)
    _require_polls(row)
    poll = await repo.poll_by_twitch_id(s, row.current_poll_id) if row.current_poll_id else None
    if poll is None or poll.status != "ACTIVE":
        raise refuse(InvalidState, N_("No poll is running."))
    poll_id, track_id = poll.twitch_poll_id, poll.track_id
    owner = await repo.owner_of(s, row)
    await ports.polls.end_poll(owner.twitch_user_id or "", poll_id)
    row = await repo.get_session(s, cmd.session_id, lock=True)
    now = ports.clock.now()
    await repo.finish_poll(s, poll_id, "TERMINATED", now)
    uow.record(events.PollEnded(session_id=row.id, poll_id=poll_id, track_id=track_id, at=now))
    return row


async def run_poll_again(
    cmd: RunPollAgain, uow: UnitOfWork, ports: SessionPorts
) -> ListeningSession:
    """A new poll for the current track; its ballots add to the track's (Twitch ballots are
    anonymous: a viewer who voted in both polls counts twice, as with two polls of a track
    played twice)."""
    s = uow.session
    row = await repo.get_session(s, cmd.session_id)
    await repo.authorize(s, row, cmd.actor_id)
    require_active(row)
    _require_polls(row)
    index = row.current_index or 0
    old_poll = row.current_poll_id
    owner = await repo.owner_of(s, row)
    broadcaster = owner.twitch_user_id or ""
    refs = await repo.track_refs(s, row)
    await end_poll_quietly(ports, broadcaster, old_poll)
    new_poll = await ports.polls.create_poll(
        broadcaster,
        poll_title(refs[index].name),
        list(repo.scale_of(row).options),
        row.poll_duration_s,
    )
    row = await repo.get_session(s, cmd.session_id, lock=True)
    if row.status != "active" or (row.current_index or 0) != index:
        await end_poll_quietly(ports, broadcaster, new_poll)
        require_active(row)
        raise refuse(Conflict, N_("The track changed meanwhile: try again."))
    now = ports.clock.now()
    track_id = row.track_ids[index]
    if old_poll:
        await repo.finish_poll(s, old_poll, "TERMINATED", now)
    await repo.add_poll(s, row.id, track_id, new_poll, started_at=now)
    row.current_poll_id = new_poll
    uow.record(events.PollStarted(session_id=row.id, poll_id=new_poll, track_id=track_id))
    return row


async def switch_playback(
    cmd: SwitchPlayback, uow: UnitOfWork, ports: SessionPorts
) -> ListeningSession:
    """Manual at once (nothing outside to call); back to Spotify only once Spotify plays the
    session's current track, so the player monitor then follows from there."""
    s = uow.session
    row = await repo.get_session(s, cmd.session_id)
    await repo.authorize(s, row, cmd.actor_id)
    require_active(row)
    if row.playback == cmd.playback:
        if cmd.playback == "manual":
            raise refuse(InvalidState, N_("This session is already played by hand."))
        raise refuse(InvalidState, N_("This session already plays on Spotify."))
    index = row.current_index or 0
    if cmd.playback == "spotify":
        device = await ports.playback.ensure_device(row.user_id)
        await ports.playback.play_context(row.user_id, row.context_uri, index, device)
    row = await repo.get_session(s, cmd.session_id, lock=True)
    require_active(row)
    row.playback = cmd.playback
    row.player = None
    row.notice = None
    uow.record(
        events.PlaybackSwitched(session_id=row.id, playback=cmd.playback, at=ports.clock.now())
    )
    return row


async def remove_voter(cmd: RemoveVoter, uow: UnitOfWork, ports: SessionPorts) -> int:
    """Returns how many ratings were removed. The report is rebuilt from the ratings that
    remain (O(ratings of the session), for a rare action), as replay does from the event."""
    s = uow.session
    row = await repo.get_session(s, cmd.session_id, lock=True)
    actor = await repo.authorize(s, row, cmd.actor_id)
    if row.status == "preparing":
        raise refuse(InvalidState, N_("The session has not started yet."))
    viewer_id = cmd.viewer_id.strip()
    owner = await repo.owner_of(s, row)
    if viewer_id == owner.twitch_user_id:
        raise refuse(InvalidState, N_("The streamer's own ratings cannot be removed."))
    removed = list(row.removed_voters or [])
    if viewer_id in removed:
        raise refuse(InvalidState, N_("This voter's votes are already removed."))
    gone = await repo.remove_voter(s, row.id, viewer_id)
    row.removed_voters = [*removed, viewer_id]
    await rebuild_report(s, row.id)
    uow.record(
        events.VoterRemoved(
            session_id=row.id, viewer_id=viewer_id, by_user_id=actor.id, at=ports.clock.now()
        )
    )
    log.info("sessions.voter.removed", session_id=row.id, ratings=gone)
    return gone
