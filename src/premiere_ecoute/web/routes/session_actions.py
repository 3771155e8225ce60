"""Commands of the control page: htmx POSTs that run the same bus commands as the JSON API and
answer with a short HTML fragment (4xx with the domain's message when a command is refused).
A plain form POST (no JavaScript) is redirected back to the control page on success.
Player actions (pause, resume, device) are ``ControlPlayer`` commands."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from premiere_ecoute.accounts.models import User
from premiere_ecoute.core.errors import DomainError, NotFound, ValidationFailed
from premiere_ecoute.core.messages import Command
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.queries import voter_of_vote
from premiere_ecoute.web.access import session_access
from premiere_ecoute.web.auth import page_user
from premiere_ecoute.web.deps import deps
from premiere_ecoute.web.forms import (
    actor_of,
    csrf_ok,
    gettext_for,
    refusal,
    render_fragment,
    see_other,
    translate_error,
)

router = APIRouter(include_in_schema=False)
ACTIONS = (
    "start",
    "stop",
    "next",
    "previous",
    "play",
    "open",
    "close",
    "rate",
    "pause",
    "resume",
    "device",
    "chat-commands",
    "end-poll",
    "poll-again",
    "playback",
    "remove-voter",
)


def _position(form: Mapping[str, Any], _: Callable[[str], str]) -> int:
    raw = str(form.get("position") or "").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ValidationFailed(_("Choose a track number from the list."))
    return int(raw)


def build_command(
    action: str, session_id: int, user: User, form: Mapping[str, Any], _: Callable[[str], str]
) -> tuple[Command, str]:
    """The bus command of an action and the message shown when it succeeds."""
    sid, uid = session_id, user.id
    if action == "start":
        device = str(form.get("device_id") or "").strip() or None
        start = cmd.StartSession(session_id=sid, actor_id=uid, device_id=device)
        return start, _("The session has started.")
    if action == "stop":
        stop = cmd.StopSession(session_id=sid, actor_id=uid)
        return stop, _("The session is over. The report is ready.")
    if action == "next":
        return cmd.ChangeTrack(session_id=sid, actor_id=uid, direction="next"), _("Next track.")
    if action == "previous":
        back = cmd.ChangeTrack(session_id=sid, actor_id=uid, direction="previous")
        return back, _("Previous track.")
    if action == "play":
        position = _position(form, _)
        to = cmd.ChangeTrack(session_id=sid, actor_id=uid, direction="to", position=position)
        return to, _("Track changed.")
    if action in ("open", "close"):
        opened = action == "open"
        message = _("Votes are open.") if opened else _("Votes are closed.")
        return cmd.SetVoteWindow(session_id=sid, actor_id=uid, open=opened), message
    if action == "rate":
        value = str(form.get("value") or "").strip()
        if not value:
            raise ValidationFailed(_("Choose a rating."))
        vote = cmd.CastVote(session_id=sid, actor_id=uid, value=value, source="web")
        return vote, _("Your rating is recorded.")
    if action == "pause":
        return cmd.ControlPlayer(session_id=sid, actor_id=uid, action="pause"), _(
            "Playback paused."
        )
    if action == "resume":
        return cmd.ControlPlayer(session_id=sid, actor_id=uid, action="resume"), _(
            "Playback resumed."
        )
    if action == "device":
        device = str(form.get("device_id") or "").strip()
        move = cmd.ControlPlayer(session_id=sid, actor_id=uid, action="transfer", device_id=device)
        return move, _("Playback moved to the chosen device.")
    if action == "chat-commands":
        language = str(form.get("chat_language") or "").strip() or None
        enabled = tuple((name, form.get(name) == "on") for name in cmd.CHAT_COMMAND_NAMES)
        chat = cmd.SetChatCommands(session_id=sid, actor_id=uid, language=language, enabled=enabled)
        return chat, _("Chat commands saved.")

    if action == "end-poll":
        return cmd.EndPoll(session_id=sid, actor_id=uid), _("The poll has ended.")
    if action == "poll-again":
        return cmd.RunPollAgain(session_id=sid, actor_id=uid), _("A new poll is running.")
    if action == "playback":
        playback = str(form.get("playback") or "").strip()
        if playback not in cmd.PLAYBACKS:
            raise ValidationFailed(_("Choose Spotify or manual playback."))
        switch = cmd.SwitchPlayback(session_id=sid, actor_id=uid, playback=playback)
        if playback == "manual":
            return switch, _("Manual playback: play the album yourself and use Next.")
        return switch, _("Spotify plays the session again.")
    raise NotFound(_("Unknown action."))


async def _voter_of(request: Request, session_id: int, form: Mapping[str, Any]) -> str:
    """The viewer behind a vote of the feed (the page names votes, never viewer ids)."""
    raw = str(form.get("vote_id") or "").strip()
    viewer = None
    if raw.isdigit() and len(raw) < 19:
        async with deps(request).db.session() as s:
            viewer = await voter_of_vote(s, session_id, int(raw))
    if viewer is None:
        raise ValidationFailed(gettext_for(request)("Choose a voter from the feed."))
    return viewer


@router.post("/sessions/{session_id:int}/actions/{action}")
async def session_action(request: Request, session_id: int, action: str) -> Response:
    _ = gettext_for(request)
    form = await request.form()
    htmx = bool(request.headers.get("hx-request"))

    def answer(status: int, message: str) -> Response:
        return render_fragment(
            request, "_session_feedback.html", status, ok=status < 400, message=message
        )

    user = await page_user(request)
    if user is None:
        return answer(401, _("Please log in."))
    if not csrf_ok(request, form):
        return answer(403, _("This form has expired: reload the page and try again."))
    try:
        if action in ACTIONS:
            await session_access(request, session_id)
            if action == "remove-voter":
                viewer = await _voter_of(request, session_id, form)
                command: Command = cmd.RemoveVoter(
                    session_id=session_id, actor_id=user.id, viewer_id=viewer
                )
                message = _("This voter's votes no longer count in this session.")
            else:
                command, message = build_command(action, session_id, user, form, _)
            await deps(request).bus.execute(command, actor=actor_of(request, user))
        else:
            raise NotFound(_("Unknown action."))
    except DomainError as exc:
        # Known refusals (Spotify's among them) are in the catalogs; others pass unchanged.
        return answer(refusal(exc), translate_error(request, exc))
    if not htmx:
        return see_other(f"/sessions/{session_id}")
    return answer(200, message)
