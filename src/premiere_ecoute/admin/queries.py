"""Read models of the admin pages. Lists are paginated so that a big instance stays fast."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.accounts.models import OAuthCredential, Role, User
from premiere_ecoute.core.event_store import StoredEventRow
from premiere_ecoute.core.inbox import Inbox
from premiere_ecoute.core.jobs import failed_job_count
from premiere_ecoute.discography.models import Album, Playlist
from premiere_ecoute.sessions.models import ListeningSession, Vote
from premiere_ecoute.sessions.voting import load_report

SESSION_STATUSES = ("preparing", "active", "stopped")


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _like(needle: str) -> str:
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def counters(s: AsyncSession) -> dict[str, Any]:
    by_role = await s.execute(select(User.role, func.count()).group_by(User.role))
    roles = {role: int(n) for role, n in by_role}
    by_status = await s.execute(
        select(ListeningSession.status, func.count()).group_by(ListeningSession.status)
    )
    statuses = {status: int(n) for status, n in by_status}
    return {
        "users": sum(roles.values()),
        "users_by_role": {r.value: int(roles.get(r.value, 0)) for r in Role},
        "sessions": sum(statuses.values()),
        "sessions_by_status": {st: int(statuses.get(st, 0)) for st in SESSION_STATUSES},
        "votes": int(await s.scalar(select(func.count()).select_from(Vote)) or 0),
        "events": int(await s.scalar(select(func.count()).select_from(StoredEventRow)) or 0),
        "pending_inbox": await Inbox().pending_count(s),
        "failed_jobs": await failed_job_count(s),
    }


async def users(s: AsyncSession, query: str = "", page: int = 1, per_page: int = 50) -> Page:
    q = select(User)
    needle = query.strip().lower()
    if needle:
        q = q.where(User.login.like(_like(needle), escape="\\"))
    total = int(await s.scalar(select(func.count()).select_from(q.subquery())) or 0)
    rows = list(await s.scalars(q.order_by(User.id).offset((page - 1) * per_page).limit(per_page)))
    linked: dict[int, list[str]] = {}
    if rows:
        creds = await s.execute(
            select(OAuthCredential.user_id, OAuthCredential.provider, OAuthCredential.status)
            .where(OAuthCredential.user_id.in_([u.id for u in rows]))
            .order_by(OAuthCredential.provider)
        )
        for user_id, provider, status in creds:
            label = provider if status == "ok" else f"{provider} ({status})"
            linked.setdefault(user_id, []).append(label)
    items = [{"user": u, "connections": linked.get(u.id, [])} for u in rows]
    return Page(items, page, per_page, total)


async def sessions(s: AsyncSession, status: str = "", page: int = 1, per_page: int = 50) -> Page:
    q = (
        select(
            ListeningSession,
            User.login,
            func.coalesce(Album.name, Playlist.name, "").label("source_name"),
        )
        .join(User, User.id == ListeningSession.user_id)
        .outerjoin(Album, Album.id == ListeningSession.album_id)
        .outerjoin(Playlist, Playlist.id == ListeningSession.playlist_id)
    )
    count = select(func.count()).select_from(ListeningSession)
    if status in SESSION_STATUSES:
        q = q.where(ListeningSession.status == status)
        count = count.where(ListeningSession.status == status)
    total = int(await s.scalar(count) or 0)
    rows = await s.execute(
        q.order_by(ListeningSession.id.desc()).offset((page - 1) * per_page).limit(per_page)
    )
    items = [
        {
            "id": row.id,
            "owner": login,
            "source": name,
            "status": row.status,
            "votes": load_report(row).session_summary()["votes"],
            "created_at": row.created_at,
            "started_at": row.started_at,
            "stopped_at": row.stopped_at,
        }
        for row, login, name in rows
    ]
    return Page(items, page, per_page, total)


async def albums(s: AsyncSession, query: str = "", page: int = 1, per_page: int = 50) -> Page:
    """Imported albums, most used first, with how many sessions played each."""
    used = (
        select(
            ListeningSession.album_id.label("album_id"),
            func.count().label("sessions"),
            func.max(ListeningSession.created_at).label("last_used"),
        )
        .where(ListeningSession.album_id.is_not(None))
        .group_by(ListeningSession.album_id)
        .subquery()
    )
    q = select(Album, used.c.sessions, used.c.last_used).outerjoin(
        used, used.c.album_id == Album.id
    )
    count = select(func.count()).select_from(Album)
    if query:
        q = q.where(Album.name.ilike(_like(query)))
        count = count.where(Album.name.ilike(_like(query)))
    total = int(await s.scalar(count) or 0)
    rows = await s.execute(
        q.order_by(func.coalesce(used.c.sessions, 0).desc(), Album.name)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    items = [
        {
            "id": album.id,
            "spotify_id": album.spotify_id,
            "name": album.name,
            "artist": album.artist,
            "release_date": album.release_date,
            "total_tracks": album.total_tracks,
            "cover_url": album.cover_url,
            "sessions": int(sessions or 0),
            "last_used": last_used,
        }
        for album, sessions, last_used in rows
    ]
    return Page(items, page, per_page, total)


@dataclass(frozen=True, slots=True)
class EventRow:
    position: int
    stream: str
    version: int
    type: str
    payload: dict[str, Any]
    meta: dict[str, Any]
    occurred_at: dt.datetime


async def events(
    s: AsyncSession,
    *,
    stream: str = "",
    type_: str = "",
    before: int | None = None,
    limit: int = 50,
) -> tuple[list[EventRow], int | None]:
    """Newest first; returns the rows and the cursor of the next (older) page, if any."""
    q = select(StoredEventRow)
    if stream:
        q = q.where(StoredEventRow.stream.startswith(stream, autoescape=True))
    if type_:
        q = q.where(StoredEventRow.type == type_)
    if before is not None:
        q = q.where(StoredEventRow.position < before)
    rows = list(await s.scalars(q.order_by(StoredEventRow.position.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        EventRow(r.position, r.stream, r.version, r.type, r.payload, r.meta, r.occurred_at)
        for r in rows
    ]
    return items, (items[-1].position if more and items else None)
