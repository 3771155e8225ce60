"""Charts across sessions and streamers (public): `/charts` with its period and scale
filters, and an album's own page `/albums/{spotify id}`. Both read the chart aggregates
(``sessions.charts``), kept by the `refresh_charts` job."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from premiere_ecoute.core.errors import DomainError
from premiere_ecoute.sessions.charts import queries
from premiere_ecoute.sessions.charts.rules import RANKED_FAMILIES
from premiere_ecoute.web.auth import page_user
from premiere_ecoute.web.deps import deps
from premiere_ecoute.web.forms import error_page, gettext_for, render, status_page

router = APIRouter(include_in_schema=False)
SPOTIFY_ID = re.compile(r"[A-Za-z0-9]{1,64}")


@router.get("/charts")
async def charts(
    request: Request,
    period: Annotated[str | None, Query(max_length=20)] = None,
    scale: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    c = deps(request)
    user = await page_user(request)
    try:
        chosen = queries.ChartFilter.parse(period, scale)
    except DomainError as exc:
        return await error_page(request, exc, user)
    async with c.db.session() as s:
        data = await queries.chart_page(s, c.clock.now(), chosen)
    _ = gettext_for(request)
    return await render(
        request,
        "charts.html",
        user=user,
        title=_("Charts"),
        data=data,
        periods=list(queries.PERIODS),
        families=["all", *RANKED_FAMILIES],
    )


@router.get("/albums/{spotify_id}")
async def album(request: Request, spotify_id: str) -> Response:
    c = deps(request)
    user = await page_user(request)
    _ = gettext_for(request)
    if not SPOTIFY_ID.fullmatch(spotify_id):
        return await status_page(
            request, 400, _("A Spotify album id is made of letters and digits only."), user
        )
    async with c.db.session() as s:
        data = await queries.album_page(s, spotify_id)
    if data is None:
        return await status_page(request, 404, _("No album with this id was rated here."), user)
    return await render(request, "album.html", user=user, title=data["album"]["name"], data=data)
