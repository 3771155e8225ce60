"""Handlers of a session's life (SPEC §3): prepare, change settings, start (a saga), stop and
delete. External calls happen before the row lock is taken, so a slow Spotify or Twitch
never holds up vote ingestion for the session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from premiere_ecoute.accounts.models import User
from premiere_ecoute.accounts.queries import has_connection
from premiere_ecoute.core.errors import (
    N_,
    Conflict,
    DomainError,
    ExternalServiceError,
    InvalidState,
    NotFound,
    refuse,
)
from premiere_ecoute.core.locks import exclusive
from premiere_ecoute.core.unit_of_work import UnitOfWork
from premiere_ecoute.discography.links import parse_spotify_ref
from premiere_ecoute.discography.repository import album_order, import_album, import_playlist
from premiere_ecoute.sessions import events
from premiere_ecoute.sessions import repository as repo
from premiere_ecoute.sessions.announcements import Speaker
from premiere_ecoute.sessions.commands import (
    ChangeSettings,
    DeleteSession,
    PrepareSession,
    SetChatCommands,
    StartSession,
    StopSession,
)
from premiere_ecoute.sessions.models import ListeningSession
from premiere_ecoute.sessions.ports import SessionPorts, needed_types
from premiere_ecoute.sessions.queries.views import extreme_tracks
from premiere_ecoute.sessions.scores import Scale, Timeline, check_poll_compatible
from premiere_ecoute.sessions.voting import load_report

log = structlog.get_logger(__name__)


def _plan(row: ListeningSession) -> tuple[Any, ...]:
    """The settings a start prepares Twitch and Spotify for."""
    return (
        row.vote_mode,
        row.playback,
        row.scale,
        row.poll_duration_s,
        row.context_uri,
        tuple(row.track_ids),
    )


# One sentence per state: the state's name is translated with its sentence.
NOT_STARTABLE = {
    "active": N_("only a preparing session can start (this one is active)"),
    "stopped": N_("only a preparing session can start (this one is stopped)"),
}
NOT_ACTIVE = {
    "preparing": N_("the session is preparing, not active"),
    "stopped": N_("the session is stopped, not active"),
}


def poll_title(name: str) -> str:
    title = f"Rate: {name}"
    return title if len(title) <= 60 else title[:59] + "…"


def _broadcaster_id(owner: User) -> str:
    if not owner.twitch_user_id:
        raise refuse(InvalidState, N_("link a Twitch account before starting a session"))
    return owner.twitch_user_id


async def prepare(cmd: PrepareSession, uow: UnitOfWork, ports: SessionPorts) -> ListeningSession:
    s = uow.session
    user = await repo.user(s, cmd.user_id)
    if user is None:
        raise refuse(NotFound, N_("unknown user"))
    scale = Scale.parse(list(cmd.scale) if isinstance(cmd.scale, tuple) else cmd.scale)
    if cmd.vote_mode in ("poll", "both"):
        check_poll_compatible(scale)
    playback = cmd.playback
    if playback is None:
        linked = await has_connection(s, user.id, "spotify")
        playback = "spotify" if linked else "manual"
    if cmd.album:
        spotify_id = parse_spotify_ref(cmd.album, "album")
        album_info = await ports.catalog.get_album(spotify_id)
        if not album_info.tracks:
            raise refuse(InvalidState, N_("this album has no tracks"))
        album, track_ids = await import_album(s, album_info)
        numbers = [t.track_number for t in album_order(album_info)]
        source = {"source_kind": "album", "album_id": album.id, "context_uri": album_info.uri}
    else:
        assert cmd.playlist
        spotify_id = parse_spotify_ref(cmd.playlist, "playlist")
        pl_info = await ports.catalog.get_playlist(spotify_id, user_id=user.id)
        if not pl_info.tracks:
            raise refuse(InvalidState, N_("this playlist has no tracks"))
        playlist, track_ids = await import_playlist(s, pl_info)
        numbers = list(range(1, len(track_ids) + 1))
        source = {"source_kind": "playlist", "playlist_id": playlist.id, "context_uri": pl_info.uri}
    row = ListeningSession(
        user_id=user.id,
        status="preparing",
        track_ids=track_ids,
        track_numbers=numbers,
        scale=scale.to_json(),
        vote_mode=cmd.vote_mode,
        stream_delay_s=cmd.stream_delay_s,
        poll_duration_s=cmd.poll_duration_s,
        auto_advance=cmd.auto_advance,
        playback=playback,
        final_scene_s=cmd.final_scene_s,
        language=cmd.language,
        timeline={},
        report={},
        subscriptions=[],
        **source,
    )
    await repo.add_session(s, row)
    uow.record(
        events.SessionPrepared(
            session_id=row.id,
            user_id=user.id,
            source_kind=row.source_kind,
            source_spotify_id=spotify_id,
            track_ids=tuple(track_ids),
            scale=scale.to_json(),
            vote_mode=row.vote_mode,
            stream_delay_s=row.stream_delay_s,
            playback=playback,
        ),
        expected_version=0,
    )
    return row


async def change_settings(cmd: ChangeSettings, uow: UnitOfWork) -> ListeningSession:
    row = await repo.get_session(uow.session, cmd.session_id, lock=True)
    await repo.authorize(uow.session, row, cmd.actor_id)
    if row.status != "preparing":
        raise refuse(
            InvalidState, N_("settings can only be changed while the session is preparing")
        )
    changes: dict[str, Any] = {}
    if cmd.scale is not None:
        scale = Scale.parse(list(cmd.scale) if isinstance(cmd.scale, tuple) else cmd.scale)
        changes["scale"] = scale.to_json()
    for name in (
        "vote_mode",
        "stream_delay_s",
        "poll_duration_s",
        "auto_advance",
        "playback",
        "final_scene_s",
        "language",
    ):
        value = getattr(cmd, name)
        if value is not None:
            changes[name] = value
    if changes.get("vote_mode", row.vote_mode) in ("poll", "both"):
        check_poll_compatible(Scale.from_json(changes.get("scale", row.scale)))
    for name, value in changes.items():
        setattr(row, name, value)
    uow.record(events.SessionSettingsChanged(session_id=row.id, changes=changes))
    return row


async def set_chat_commands(cmd: SetChatCommands, uow: UnitOfWork) -> ListeningSession:
    row = await repo.get_session(uow.session, cmd.session_id, lock=True)
    await repo.authorize(uow.session, row, cmd.actor_id)
    if row.status == "stopped":
        raise refuse(InvalidState, N_("the session is over: its chat commands are off"))
    changes: dict[str, Any] = {}
    if cmd.language is not None:
        row.chat_language = changes["chat_language"] = cmd.language
    if cmd.enabled:
        row.chat_commands = changes["chat_commands"] = {
            **(row.chat_commands or {}),
            **dict(cmd.enabled),
        }
    uow.record(events.SessionSettingsChanged(session_id=row.id, changes=changes))
    return row


async def _undo(steps: list[tuple[str, Callable[[], Awaitable[Any]]]]) -> None:
    for name, fn in reversed(steps):
        try:
            await fn()
        except Exception as exc:
            log.warning("sessions.start.undo_failed", step=name, error=str(exc))


def _failure_reason(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, IntegrityError):
        return "another session is already active"
    if isinstance(exc, OSError):
        return f"network error: {exc}"
    return "unexpected error, see the server logs"


START_LOCK = 7_301


async def start(cmd: StartSession, uow: UnitOfWork, ports: SessionPorts) -> ListeningSession:
    """One start at a time per streamer, across processes: two starts racing (a double click,
    a retry, two prepared sessions) would share Twitch's subscription, and the loser's undo
    would remove the winner's."""
    row = await repo.get_session(uow.session, cmd.session_id)
    engine = uow.session.bind
    assert isinstance(engine, AsyncEngine)
    async with exclusive(
        engine,
        START_LOCK,
        row.user_id,
        N_("A session of this streamer is starting right now: wait a moment"),
    ):
        return await _start(cmd, uow, ports)


async def _start(cmd: StartSession, uow: UnitOfWork, ports: SessionPorts) -> ListeningSession:
    """A saga: every completed external step has an undo, run in reverse when a later step
    fails; the session then stays ``preparing`` with the reason in ``notice``."""
    s = uow.session
    row = await repo.get_session(s, cmd.session_id)
    await repo.authorize(s, row, cmd.actor_id)
    if row.status != "preparing":
        raise refuse(InvalidState, NOT_STARTABLE.get(row.status, NOT_STARTABLE["stopped"]))
    owner = await repo.owner_of(s, row)
    broadcaster = _broadcaster_id(owner)
    active = await repo.active_session_id(s, row.user_id)
    if active:
        raise refuse(Conflict, N_("session %(id)s is already active: stop it first"), id=active)
    # Plain values only from here on: the undo steps run after a failed flush, when the ORM
    # objects can no longer be read.
    owner_id = owner.id
    planned = _plan(row)
    undo: list[tuple[str, Callable[[], Awaitable[Any]]]] = []
    poll_id: str | None = None
    notice: str | None = None
    try:
        device = None
        if row.playback == "spotify":
            device = await ports.playback.ensure_device(owner_id, cmd.device_id)
        subs = await ports.eventsub.subscribe(broadcaster, needed_types(row.vote_mode))
        sub_ids = [x.id for x in subs]
        undo.append(("unsubscribe", lambda: ports.eventsub.unsubscribe(sub_ids)))
        if row.playback == "spotify" and device is not None:
            await ports.playback.prepare(owner_id, device)
            # Undo registered first: a play that times out may still have started Spotify.
            undo.append(("pause", lambda: ports.playback.pause(owner_id)))
            await ports.playback.play_context(owner_id, row.context_uri, 0, device)
        refs = await repo.track_refs(s, row)
        if row.vote_mode != "chat":
            try:
                poll_id = await ports.polls.create_poll(
                    broadcaster,
                    poll_title(refs[0].name),
                    list(repo.scale_of(row).options),
                    row.poll_duration_s,
                )
                pid = poll_id
                undo.append(("end poll", lambda: ports.polls.end_poll(broadcaster, pid)))
            except ExternalServiceError as exc:
                # SPEC §4.5: a refusal is shown and the session goes on in chat mode.
                notice = f"Twitch poll unavailable, chat votes only: {exc.message}"
                uow.record(events.PollFailed(session_id=row.id, reason=exc.message))
        row = await repo.get_session(s, cmd.session_id, lock=True)
        if row.status != "preparing" or _plan(row) != planned:
            raise refuse(Conflict, N_("the session changed while starting; try again"))
        now = ports.clock.now()
        first = row.track_ids[0]
        row.status, row.current_index, row.started_at = "active", 0, now
        row.timeline = Timeline.start(first, now, open_window=True).to_json()
        row.votes_open, row.subscriptions, row.notice = True, sub_ids, notice
        if notice:
            row.vote_mode = "chat"
        if poll_id:
            row.current_poll_id = poll_id
            await repo.add_poll(s, row.id, first, poll_id, started_at=now)
        await s.flush()
    except Exception as exc:
        # Any failure, expected or not, undoes what was done: nothing half-started remains.
        await uow.rollback()
        await _undo(undo)
        reason = _failure_reason(exc)
        failed = await repo.get_session(s, cmd.session_id, lock=True)
        if failed.status == "preparing":
            failed.notice = f"Could not start: {reason}"[:500]
        uow.record(events.SessionStartFailed(session_id=failed.id, reason=reason))
        await uow.commit()
        if isinstance(exc, DomainError):
            raise
        if isinstance(exc, IntegrityError):
            raise refuse(Conflict, N_("another session is already active")) from exc
        if isinstance(exc, OSError):
            raise refuse(
                ExternalServiceError, N_("network error: %(error)s"), error=str(exc)
            ) from exc
        raise
    uow.record(events.SessionStarted(session_id=row.id, at=now, track_id=first))
    uow.record(
        events.TrackChanged(session_id=row.id, at=now, track_id=first, index=0, source="start")
    )
    uow.record(events.VotesOpened(session_id=row.id, at=now, track_id=first))
    if poll_id:
        uow.record(events.PollStarted(session_id=row.id, poll_id=poll_id, track_id=first))
    text = Speaker(ports.translator, row.language).started(
        refs[0].name, repo.scale_of(row), row.vote_mode
    )
    uow.after_commit(lambda: ports.chat.announce(broadcaster, text))
    return row


def require_active(row: ListeningSession) -> None:
    if row.status != "active":
        raise refuse(InvalidState, NOT_ACTIVE.get(row.status, NOT_ACTIVE["stopped"]))


async def end_poll_quietly(ports: SessionPorts, broadcaster: str, poll_id: str | None) -> None:
    if not poll_id:
        return
    try:
        await ports.polls.end_poll(broadcaster, poll_id)
    except DomainError as exc:  # Twitch refused, or the connection needs a reconnect
        log.warning("sessions.poll.end_failed", poll_id=poll_id, error=exc.message)


async def stop(cmd: StopSession, uow: UnitOfWork, ports: SessionPorts) -> ListeningSession:
    s = uow.session
    row = await repo.get_session(s, cmd.session_id)
    await repo.authorize(s, row, cmd.actor_id)
    require_active(row)
    owner = await repo.owner_of(s, row)
    broadcaster = owner.twitch_user_id or ""
    notices = []
    await end_poll_quietly(ports, broadcaster, row.current_poll_id)
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
    row = await repo.get_session(s, cmd.session_id, lock=True)
    require_active(row)
    now = ports.clock.now()
    timeline = repo.timeline_of(row)
    assert timeline is not None
    timeline.stop(now)
    row.timeline = timeline.to_json()
    was_open = row.votes_open
    row.status, row.stopped_at, row.votes_open = "stopped", now, False
    row.notice = "; ".join(notices) or None
    report = load_report(row).to_report(row.id, "stopped", await repo.track_refs(s, row))
    uow.record(events.SessionStopped(session_id=row.id, at=now, report=report))
    speaker = Speaker(ports.translator, row.language)
    texts = []
    if was_open and row.current_track_id is not None:
        # The last track's votes close with the session: its result, then the album's.
        entry = next(t for t in report["tracks"] if t["track_id"] == row.current_track_id)
        texts.append(speaker.track_result(entry))
    texts.append(speaker.album_result(report, extreme_tracks(report)[0]))
    for text in texts:
        if text:
            uow.after_commit(partial(ports.chat.announce, broadcaster, text))
    return row


async def delete_session(cmd: DeleteSession, uow: UnitOfWork) -> None:
    s = uow.session
    row = await repo.get_session(s, cmd.session_id, lock=True)
    actor = await repo.authorize(s, row, cmd.actor_id)
    if row.status == "active":
        raise refuse(InvalidState, N_("stop the session before deleting it"))
    await repo.delete_session(s, row)
    uow.record(
        events.SessionDeleted(
            session_id=row.id, by_user_id=actor.id, by_admin=actor.id != row.user_id
        )
    )
