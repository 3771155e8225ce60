"""Every viewer's own history: `/me/ratings` (signed in) with its CSV and JSON export and the
public-profile switch, and `/u/{login}`, the same history for anyone once its owner made it
public (off by default).

A viewer's ratings are the votes cast under their Twitch user id (chat, and web votes of an
account with a Twitch id) or under ``user:{id}`` (web votes of an account without one)."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from premiere_ecoute.accounts.commands import SetRatingsVisibility
from premiere_ecoute.accounts.models import User
from premiere_ecoute.accounts.queries import user_by_login
from premiere_ecoute.core.errors import DomainError
from premiere_ecoute.sessions.charts import queries
from premiere_ecoute.web.auth import page_user
from premiere_ecoute.web.deps import deps
from premiere_ecoute.web.forms import (
    actor_of,
    error_page,
    gettext_for,
    login_redirect,
    render,
    render_page,
    run_form_action,
    signed_in,
    status_page,
)

router = APIRouter(include_in_schema=False)
Year = Annotated[int | None, Query(ge=1970, le=9999)]
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def viewer_ids(user: User) -> list[str]:
    """Every id a viewer's votes carry (SPEC §4.2: chat and web votes of one Twitch user are
    the same viewer)."""
    return [f"user:{user.id}", *([user.twitch_user_id] if user.twitch_user_id else [])]


async def _history(request: Request, user: User, year: int | None = None) -> dict[str, Any]:
    async with deps(request).db.session() as s:
        return await queries.viewer_history(s, viewer_ids(user), year=year)


async def ratings_view(
    request: Request,
    user: User,
    *,
    status: int = 200,
    errors: list[str] | None = None,
    year: int | None = None,
) -> Response:
    _ = gettext_for(request)
    return render_page(
        request,
        "my_ratings.html",
        user=user,
        status=status,
        errors=errors,
        title=_("My ratings"),
        owner=user,
        mine=True,
        history=await _history(request, user, year),
    )


@router.get("/me/ratings")
async def my_ratings(request: Request, year: Year = None) -> Response:
    user = await page_user(request)
    if user is None:
        return login_redirect()
    return await ratings_view(request, user, year=year)


@router.post("/me/ratings/visibility")
async def visibility(request: Request) -> Response:
    try:
        user = await signed_in(request)
    except DomainError as exc:
        return await error_page(request, exc)

    async def run(user: User, form: dict[str, str]) -> str:
        public = form.get("public") == "1"
        await deps(request).bus.execute(
            SetRatingsVisibility(user_id=user.id, public=public), actor=actor_of(request, user)
        )
        _ = gettext_for(request)
        if public:
            return _("Your ratings are public at /u/%(login)s.") % {"login": user.login}
        return _("Your ratings are private.")

    return await run_form_action(request, user, run, back="/me/ratings", view=ratings_view)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


@router.get("/me/ratings.{fmt}")
async def export(request: Request, fmt: str) -> Response:
    user = await page_user(request)
    if user is None:
        return login_redirect()
    if fmt not in ("csv", "json"):
        _ = gettext_for(request)
        return await status_page(request, 404, _("Export as csv or json."), user)
    rows = queries.export_rows(await _history(request, user))
    name = f"premiere-ecoute-ratings-{user.login}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if fmt == "json":
        body = json.dumps({"login": user.login, "ratings": rows}, ensure_ascii=False, indent=2)
        return Response(body, media_type="application/json", headers=headers)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(list(rows[0]) if rows else list(queries.EXPORT_COLUMNS))
    for row in rows:
        writer.writerow([_cell(v) for v in row.values()])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/u/{login}")
async def profile(request: Request, login: str, year: Year = None) -> Response:
    viewer = await page_user(request)
    _ = gettext_for(request)
    async with deps(request).db.session() as s:
        owner = await user_by_login(s, login.strip().lower()[:50])
    if owner is None or not owner.ratings_public:
        return await status_page(
            request, 404, _("This profile does not exist or is not public."), viewer
        )
    return await render(
        request,
        "my_ratings.html",
        user=viewer,
        title=_("Ratings of %(login)s") % {"login": owner.login},
        owner=owner,
        mine=viewer is not None and viewer.id == owner.id,
        public_view=True,
        history=await _history(request, owner, year),
    )
