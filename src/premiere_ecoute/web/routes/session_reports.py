"""Reports (SPEC §5, §9): the report page, its CSV/JSON exports, the running-average series,
the PNG recap card, and the retrospective cover wall."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from typing import Annotated, Any

from babel.dates import format_date
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from premiere_ecoute.accounts.queries import user_by_login
from premiere_ecoute.core.errors import DomainError
from premiere_ecoute.sessions import queries
from premiere_ecoute.web.access import Access, may_manage, session_access
from premiere_ecoute.web.auth import page_user
from premiere_ecoute.web.deps import deps
from premiere_ecoute.web.forms import (
    error_page,
    gettext_for,
    locale_of,
    render,
    status_page,
)
from premiere_ecoute.web.routes.session_recap import RecapLabels, draw_recap, fetch_cover
from premiere_ecoute.web.routes.session_vod import report_extras

router = APIRouter(include_in_schema=False)
Per = Annotated[str, Query(pattern="^(vote|minute)$")]
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


async def _report_access(request: Request, session_id: int) -> Access | Response:
    try:
        return await session_access(request, session_id, public_if_stopped=True)
    except DomainError as exc:
        return await error_page(request, exc)


async def _report(request: Request, session_id: int) -> dict[str, Any]:
    async with deps(request).db.session() as s:
        return await queries.report(s, session_id)


def ranking(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Rated tracks, best Bayesian average first (the report's honest ranking)."""
    by_id = {t["track_id"]: t for t in report["tracks"]}
    return [by_id[track_id] for track_id in report["figures"]["ranking"]]


@router.get("/sessions/{session_id:int}/report")
async def report_page(request: Request, session_id: int) -> Response:
    access = await _report_access(request, session_id)
    if isinstance(access, Response):
        return access
    report = await _report(request, session_id)
    return await render(
        request,
        "report.html",
        user=access.user,
        title=gettext_for(request)("Report"),
        session=access.detail,
        owner=access.owner,
        report=report,
        ranking=ranking(report)[:3],
        can_manage=may_manage(access.user, access.owner.id),
        **await report_extras(request, session_id),
    )


@router.get("/sessions/{session_id:int}/report.json")
async def report_json(request: Request, session_id: int) -> Response:
    access = await _report_access(request, session_id)
    if isinstance(access, Response):
        return access
    return JSONResponse(
        await _report(request, session_id),
        headers={"Content-Disposition": f'attachment; filename="session-{session_id}.json"'},
    )


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# The honest figures of each track, after the SPEC §5 columns (``figures`` of the JSON).
FIGURE_COLUMNS = (
    "rank",
    "bayesian",
    "mean",
    "median",
    "std",
    "divisiveness",
    "modal",
    "modal_share",
    "first_share",
)


def report_csv(report: dict[str, Any]) -> str:
    """One row per album track, in album order; numbers unrounded as in the JSON report.
    The honest figures follow the option counts, one column each."""
    options = list(report["scale"]["options"])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "track_number",
            "name",
            "artists",
            "spotify_id",
            "viewer_score",
            "streamer_score",
            "votes",
            "voters",
            "poll_votes",
            *[f"option {o}" for o in options],
            *FIGURE_COLUMNS,
        ]
    )
    for t in report["tracks"]:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    t["track_number"],
                    t["name"],
                    ", ".join(t.get("artists") or ()),
                    t["spotify_id"],
                    t["viewer_score"],
                    t["streamer_score"],
                    t["votes"],
                    t["voters"],
                    t["poll_votes"],
                    *[t["distribution"].get(o, 0) for o in options],
                    *[t["figures"].get(name) for name in FIGURE_COLUMNS],
                )
            ]
        )
    return out.getvalue()


@router.get("/sessions/{session_id:int}/report.csv")
async def report_csv_export(request: Request, session_id: int) -> Response:
    access = await _report_access(request, session_id)
    if isinstance(access, Response):
        return access
    return Response(
        report_csv(await _report(request, session_id)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="session-{session_id}.csv"'},
    )


@router.get("/sessions/{session_id:int}/report/series.json")
async def series_json(request: Request, session_id: int, per: Per = "vote") -> Response:
    access = await _report_access(request, session_id)
    if isinstance(access, Response):
        return access
    async with deps(request).db.session() as s:
        series = await queries.running_average(s, session_id, per=per)
    return JSONResponse({"per": per, "series": series})


@router.get("/sessions/{session_id:int}/recap.png")
async def recap_png(request: Request, session_id: int) -> Response:
    access = await _report_access(request, session_id)
    if isinstance(access, Response):
        return access
    _ = gettext_for(request)
    report = await _report(request, session_id)
    labels = RecapLabels(
        chat=_("Chat score"),
        streamer=_("Streamer"),
        votes=_("votes"),
        voters=_("voters"),
        top=_("Top tracks"),
        brand="Premiere Ecoute",
    )
    source = access.detail["source"]
    cover = await fetch_cover(source.get("cover_url"))
    png = await asyncio.to_thread(draw_recap, source, access.owner.login, report, labels, cover)
    stopped = access.detail["status"] == "stopped"
    return Response(
        png,
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=300" if stopped else "private, no-store"},
    )


def period_label(locale: str, year: int, month: int | None) -> str:
    if month is None:
        return str(year)
    return format_date(dt.date(year, month, 1), "LLLL y", locale=locale).capitalize()


def period_url(login: str | None, year: int, month: int | None) -> str:
    url = f"/retrospective?year={year}"
    if month is not None:
        url += f"&month={month}"
    if login:
        url += f"&login={login}"
    return url


@router.get("/retrospective")
async def retrospective(
    request: Request,
    year: Annotated[int | None, Query(ge=1970, le=9999)] = None,
    month: Annotated[int | None, Query(ge=1, le=12)] = None,
    login: Annotated[str | None, Query(max_length=50)] = None,
) -> Response:
    c = deps(request)
    user = await page_user(request)
    _ = gettext_for(request)
    if login:
        async with c.db.session() as s:
            streamer = await user_by_login(s, login.strip().lower())
        if streamer is None:
            return await status_page(request, 404, _("No streamer by that name."))
    else:
        streamer = user
    now = c.clock.now()
    if year is None:
        year, month = now.year, month or now.month
    data: dict[str, Any] | None = None
    if streamer is not None:
        async with c.db.session() as s:
            data = await queries.retrospective(s, streamer.id, year, month)
    public = login.strip().lower() if login else None
    around = queries.neighbours(year, month)
    locale = locale_of(request)
    return await render(
        request,
        "retrospective.html",
        user=user,
        title=_("Retrospective"),
        streamer=streamer,
        data=data,
        year=year,
        month=month,
        label=period_label(locale, year, month),
        previous_url=period_url(public, *around["previous"]),
        next_url=period_url(public, *around["next"]),
        year_url=period_url(public, year, None),
        month_url=period_url(public, year, month or (now.month if year == now.year else 1)),
    )
