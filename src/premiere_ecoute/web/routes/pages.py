"""HTML pages: home, public live page, OBS overlay, legal pages, changelog; locale choice."""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Match

from premiere_ecoute.accounts.queries import user_by_login
from premiere_ecoute.core.errors import (
    N_,
    DomainError,
    Forbidden,
    InvalidState,
    NotFound,
    Unauthorized,
    refuse,
)
from premiere_ecoute.sessions.commands import CastVote
from premiere_ecoute.sessions.queries import (
    active_session_of,
    dashboard,
    live_followed,
    track_name,
)
from premiere_ecoute.sessions.scores import Scale
from premiere_ecoute.web.auth import page_user
from premiere_ecoute.web.checklist import checklist
from premiere_ecoute.web.deps import deps
from premiere_ecoute.web.forms import (
    actor_of,
    csrf_ok,
    locale_of,
    render,
    render_fragment,
    translate_error,
)
from premiere_ecoute.web.i18n import LOCALE_COOKIE, SUPPORTED_LOCALES

router = APIRouter(include_in_schema=False)
LEGAL_PAGES = ("privacy", "terms", "cookies", "contact")
# The changes are msgids: the page shows them in the reader's language.
CHANGELOG = [
    {
        "version": "0.1.0",
        "date": None,
        "changes": [
            N_("Listening sessions with chat, poll and web votes"),
            N_("Live scores on the control page, the public page and the OBS overlay"),
            N_("Reports with per-track distributions"),
        ],
    },
]


@router.get("/")
async def home(request: Request) -> HTMLResponse:
    user = await page_user(request)
    if user is None:
        return await render(request, "home.html", user=None)
    async with deps(request).db.session() as s:
        mine = await dashboard(s, user.id)
        live = await live_followed(s, user.id)
    first_visit = bool(request.session.pop("first_login", False))
    steps = await checklist(request, user) if user.role in ("streamer", "admin") else []
    return await render(
        request,
        "home.html",
        user=user,
        live_streamers=live,
        first_visit=first_visit,
        checklist=steps,
        **mine,
    )


@router.get("/live-now")
async def live_now(request: Request) -> HTMLResponse:
    """The list of the dashboard's "Live now" card, fetched again by htmx on ``live-now``."""
    user = await page_user(request)
    if user is None:
        return render_fragment(request, "_live_now.html", 401, live_streamers=[])
    async with deps(request).db.session() as s:
        live = await live_followed(s, user.id)
    return render_fragment(request, "_live_now.html", live_streamers=live)


@router.get("/live/{login}")
async def live(request: Request, login: str) -> HTMLResponse:
    async with deps(request).db.session() as s:
        streamer = await user_by_login(s, login)
    if streamer is None:
        raise refuse(NotFound, N_("no streamer named '%(login)s'"), login=login[:40])
    user = await page_user(request)
    async with deps(request).db.session() as s:
        active = await active_session_of(s, streamer.id)
    options = list(Scale.from_json(active.scale).options) if active else []
    return await render(
        request,
        "live.html",
        user=user,
        streamer_login=streamer.login,
        stream_url=f"/live/{streamer.login}/stream",
        can_vote=user is not None,
        vote_url=f"/live/{streamer.login}/vote",
        options=options,
    )


@router.post("/live/{login}/vote")
async def live_vote(request: Request, login: str) -> HTMLResponse:
    """A logged-in viewer's rating from the public page (SPEC §4.4): the same rules as chat
    (window, stream delay, latest rating wins), the server time as the send time."""

    c = deps(request)
    _ = request.app.state.templating.gettext(locale_of(request))
    form = await request.form()
    value = form.get("value")
    try:
        user = await page_user(request)
        if user is None:
            raise Unauthorized(_("Log in with Twitch to vote from this page."))
        if not csrf_ok(request, form):
            raise Forbidden(_("This form has expired. Reload the page and try again."))
        async with c.db.session() as s:
            streamer = await user_by_login(s, login)
            active = await active_session_of(s, streamer.id) if streamer else None
        if active is None:
            raise InvalidState(_("No session is running right now."))
        if not isinstance(value, str) or not value.strip():
            raise InvalidState(_("Choose a rating."))
        shown = str(form.get("track_id") or "").strip()
        outcome = await c.bus.execute(
            CastVote(
                session_id=active.id,
                actor_id=user.id,
                value=value,
                source="web",
                track_id=int(shown) if shown.isdigit() and len(shown) < 19 else None,
            ),
            actor=actor_of(request, user),
        )
        async with c.db.session() as s:
            rated = await track_name(s, outcome.accepted[0].track_id)
    except DomainError as exc:
        message = escape(translate_error(request, exc))
        return HTMLResponse(
            f'<span class="vote-error">{message}</span>', status_code=exc.status_code
        )
    accepted = escape(outcome.accepted[0].value)
    of_track = f' <span class="vote-track">· {escape(rated)}</span>' if rated else ""
    return HTMLResponse(
        f'<span class="vote-ok">{escape(_("Your rating:"))} {accepted}</span>{of_track}'
    )


@router.get("/overlay/{login}")
async def overlay(
    request: Request,
    login: str,
    mode: str = "full",
    theme: str = "dark",
    scale: str = "1",
    idle: str = "",
) -> HTMLResponse:
    async with deps(request).db.session() as s:
        streamer = await user_by_login(s, login)
    if streamer is None:
        raise refuse(NotFound, N_("no streamer named '%(login)s'"), login=login[:40])
    html = request.app.state.templating.render(
        "overlay.html",
        {
            "login": streamer.login,
            "stream_url": f"/overlay/{streamer.login}/stream",
            "mode": mode,
            "theme": theme,
            "scale": scale,
            "idle_text": idle,
        },
        locale_of(request),
    )
    return HTMLResponse(html)


@router.get("/legal/{page}")
async def legal(request: Request, page: str) -> HTMLResponse:
    if page not in LEGAL_PAGES:
        raise refuse(NotFound, N_("no such page"))
    return await render(request, "legal.html", page=page)


def _page_to_show(request: Request, *candidates: str | None) -> str:
    """The first candidate that is a page of this site (a local path a GET can open), else
    the home page: a page rendered by a form's POST cannot be opened again by a link."""
    for candidate in candidates:
        if not candidate:
            continue
        parts = urlsplit(candidate)
        path = parts.path
        local = parts.netloc in ("", request.url.netloc)  # the referer is a full URL
        if not local or not path.startswith("/") or path.startswith(("//", "/\\")):
            continue
        scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "locale"])
            return path + (f"?{query}" if query else "")
    return "/"


@router.get("/locale/{code}")
async def choose_locale(request: Request, code: str, next: str = "/") -> Response:
    """The language switcher: remembers the language (a cookie, for a year) and goes back to
    the page, or to the page of the form when the page was the answer to a POST."""
    if code not in SUPPORTED_LOCALES:
        raise refuse(NotFound, N_("no such page"))
    back = _page_to_show(request, next, request.headers.get("referer"))
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/changelog")
async def changelog(request: Request) -> HTMLResponse:
    return await render(request, "changelog.html", entries=CHANGELOG)
