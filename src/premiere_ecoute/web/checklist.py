"""The first-time streamer's checklist (dashboard and control page): what a show needs, each
item with the link that fixes it. Twitch scopes, Spotify (linked, Premium, a device; needed
only for automatic playback), the bot, an overlay connected, a test vote seen.

Spotify is asked (profile and devices) at most once per page; when it cannot answer, the item
says so instead of guessing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import Request

from premiere_ecoute.accounts.models import User
from premiere_ecoute.accounts.queries import connections, user_by_login
from premiere_ecoute.apis.twitch.models import TWITCH_SCOPES
from premiere_ecoute.core.errors import DomainError
from premiere_ecoute.sessions.queries import votes_seen
from premiere_ecoute.web.deps import deps
from premiere_ecoute.web.forms import gettext_for
from premiere_ecoute.web.live import LiveHub

log = structlog.get_logger(__name__)
OK, TODO, OPTIONAL = "ok", "todo", "optional"


@dataclass(frozen=True)
class CheckItem:
    key: str
    state: str  # ok | todo | optional (not needed for every show: manual playback, no bot)
    label: str
    detail: str
    fix_url: str | None = None
    fix_label: str | None = None


async def checklist(
    request: Request, user: User, *, session_id: int | None = None
) -> list[CheckItem]:
    c = deps(request)
    _ = gettext_for(request)
    async with c.db.session() as s:
        links = await connections(s, user.id)
        bot = await user_by_login(s, c.settings.bot_login) if c.settings.bot_login else None
        bot_links = await connections(s, bot.id) if bot is not None else {}
        voted = await votes_seen(s, user.id)
    items = [_twitch(links.get("twitch"), _), await _spotify(request, user, links, _)]
    items.append(_bot(c.settings.bot_login, bot_links.get("twitch"), _))
    hub: LiveHub = request.app.state.live
    overlays = hub.count(f"streamer:{user.id}", "overlay")
    where = f"/sessions/{session_id}#overlay-builder" if session_id else "/sessions"
    items.append(
        CheckItem(
            "overlay",
            OK if overlays else TODO,
            _("Overlay connected"),
            _("Overlays connected now: %(count)s.") % {"count": overlays}
            if overlays
            else _("Add the overlay URL of a session's control page to OBS as a browser source."),
            None if overlays else where,
            None if overlays else _("Get the overlay URL"),
        )
    )
    items.append(
        CheckItem(
            "vote",
            OK if voted else TODO,
            _("A test vote seen"),
            _("Votes reach your sessions.")
            if voted
            else _("Start a session and type 7 in your chat, or vote on your public page."),
            None if voted else f"/live/{user.login}",
            None if voted else _("Open your public page"),
        )
    )
    return items


def _twitch(link: dict[str, Any] | None, _: Any) -> CheckItem:
    granted = set(str((link or {}).get("scopes") or "").split())
    missing = [scope for scope in TWITCH_SCOPES if scope not in granted]
    if link is not None and link["status"] == "ok" and not missing:
        return CheckItem("twitch", OK, _("Twitch permissions"), _("Chat, polls and follows."))
    detail = (
        _("Your Twitch connection expired.")
        if link is not None and link["status"] != "ok"
        else _("Missing permissions: %(scopes)s.") % {"scopes": ", ".join(missing)}
    )
    return CheckItem(
        "twitch", TODO, _("Twitch permissions"), detail, "/auth/twitch/login", _("Reconnect Twitch")
    )


async def _spotify(request: Request, user: User, links: dict[str, Any], _: Any) -> CheckItem:
    label = _("Spotify: linked, Premium, a device")
    link = links.get("spotify")
    if link is None or link["status"] != "ok":
        return CheckItem(
            "spotify",
            OPTIONAL,
            label,
            _("Spotify is not linked: sessions are played by hand (manual playback)."),
            "/auth/spotify/login",
            _("Link Spotify"),
        )
    c = deps(request)
    try:
        profile = await c.spotify.current_user(await c.credentials.spotify(user.id))
        devices = await c.ports.playback.list_devices(user.id)
    except DomainError as exc:
        log.info("checklist.spotify.unavailable", user_id=user.id, error=exc.message)
        return CheckItem(
            "spotify",
            TODO,
            label,
            _("Spotify did not answer: %(reason)s") % {"reason": exc.message},
            "/auth/spotify/login",
            _("Reconnect Spotify"),
        )
    if profile.product is not None and profile.product != "premium":
        return CheckItem(
            "spotify",
            TODO,
            label,
            _("Spotify Premium is required for automatic playback; manual playback works."),
            "https://www.spotify.com/premium/",
            _("Get Premium"),
        )
    if not devices:
        return CheckItem(
            "spotify",
            TODO,
            label,
            _("No Spotify device is open: open Spotify on your computer or phone."),
            "https://open.spotify.com/",
            _("Open Spotify"),
        )
    return CheckItem(
        "spotify",
        OK,
        label,
        _("Premium; Spotify devices available: %(count)s.") % {"count": len(devices)},
    )


def _bot(bot_login: str, link: dict[str, Any] | None, _: Any) -> CheckItem:
    label = _("Chat bot")
    if not bot_login:
        return CheckItem(
            "bot", OPTIONAL, label, _("No bot on this instance: announcements are posted as you.")
        )
    if link is None or link["status"] != "ok":
        return CheckItem(
            "bot",
            OPTIONAL,
            label,
            _(
                "The bot %(login)s has not logged in yet: announcements are posted as you until "
                "it does."
            )
            % {"login": bot_login},
            "/auth/twitch/login",
            _("Log in as the bot"),
        )
    return CheckItem(
        "bot", OK, label, _("%(login)s posts the announcements.") % {"login": bot_login}
    )
