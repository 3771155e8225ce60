"""Account read models: users by login, Twitch id or token; the account pages' connections,
tokens and follows; the personal data export."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.accounts.models import (
    WEB_SESSION_IDLE,
    WEB_SESSION_MAX_AGE,
    WEB_SESSION_RENEW_AFTER,
    ApiToken,
    Follow,
    OAuthCredential,
    Role,
    User,
    WebSession,
)
from premiere_ecoute.core.crypto import hash_token
from premiere_ecoute.core.event_store import EventStore

STREAMING_ROLES = (Role.STREAMER.value, Role.ADMIN.value)


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True, slots=True)
class LiveWebSession:
    """A browser session still valid now: whose it is, and whether its use should be
    recorded (renewal)."""

    id_hash: str
    user_id: int
    needs_renewal: bool


async def live_web_session(s: AsyncSession, session_id: str) -> LiveWebSession | None:
    """The browser session of this cookie id, unless ended, idle too long or too old."""
    id_hash = hash_token(session_id)
    now = func.now()
    row = await s.execute(
        select(
            WebSession.user_id,
            WebSession.last_seen_at < now - WEB_SESSION_RENEW_AFTER,
        ).where(
            WebSession.id_hash == id_hash,
            WebSession.last_seen_at > now - WEB_SESSION_IDLE,
            WebSession.created_at > now - WEB_SESSION_MAX_AGE,
        )
    )
    found = row.first()
    if found is None:
        return None
    return LiveWebSession(id_hash=id_hash, user_id=int(found[0]), needs_renewal=bool(found[1]))


async def web_session_count(s: AsyncSession, user_id: int) -> int:
    n = await s.scalar(
        select(func.count())
        .select_from(WebSession)
        .where(
            WebSession.user_id == user_id,
            WebSession.last_seen_at > func.now() - WEB_SESSION_IDLE,
            WebSession.created_at > func.now() - WEB_SESSION_MAX_AGE,
        )
    )
    return int(n or 0)


async def user_by_id(s: AsyncSession, user_id: int) -> User | None:
    return await s.get(User, user_id)


async def user_by_login(s: AsyncSession, login: str) -> User | None:
    login = login.strip().lower()
    if not login or len(login) > 50 or not login.isprintable():
        return None  # cannot be a login: no need to ask the database
    return await s.scalar(select(User).where(User.login == login))


async def user_by_twitch_id(s: AsyncSession, twitch_user_id: str) -> User | None:
    return await s.scalar(select(User).where(User.twitch_user_id == twitch_user_id))


async def streamer_by_login(s: AsyncSession, login: str) -> User | None:
    user = await user_by_login(s, login)
    return user if user is not None and user.role in STREAMING_ROLES else None


async def users_to_sync_follows(s: AsyncSession) -> list[int]:
    """Users whose Twitch follows can be imported: a healthy Twitch connection, not the bot."""
    rows = await s.scalars(
        select(OAuthCredential.user_id)
        .join(User, User.id == OAuthCredential.user_id)
        .where(
            OAuthCredential.provider == "twitch",
            OAuthCredential.status == "ok",
            User.twitch_user_id.is_not(None),
            User.role != Role.BOT.value,
        )
        .order_by(OAuthCredential.user_id)
    )
    return list(rows)


async def streamers_by_twitch_id(s: AsyncSession, twitch_ids: list[str]) -> dict[str, int]:
    """Registered streamers among ``twitch_ids``: Twitch id -> our user id."""
    if not twitch_ids:
        return {}
    rows = await s.execute(
        select(User.twitch_user_id, User.id).where(
            User.twitch_user_id.in_(twitch_ids), User.role.in_(STREAMING_ROLES)
        )
    )
    return {str(tid): int(uid) for tid, uid in rows}


async def connections(s: AsyncSession, user_id: int) -> dict[str, dict[str, Any]]:
    """``{"twitch": {...}, "spotify": {...}}`` for linked providers (no secrets)."""
    rows = await s.scalars(select(OAuthCredential).where(OAuthCredential.user_id == user_id))
    return {
        r.provider: {
            "provider": r.provider,
            "status": r.status,
            "external_id": r.external_id,
            "scopes": r.scopes,
            "expires_at": r.expires_at,
            "linked_at": r.created_at,
        }
        for r in rows
    }


async def api_tokens(s: AsyncSession, user_id: int) -> list[ApiToken]:
    rows = await s.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
    )
    return list(rows)


async def streamers_to_follow(
    s: AsyncSession, user_id: int, query: str = "", limit: int = 50
) -> list[User]:
    """Registered streamers the user does not follow yet, optionally filtered by login."""
    followed = select(Follow.streamer_id).where(Follow.follower_id == user_id)
    q = select(User).where(
        User.role.in_(STREAMING_ROLES), User.id != user_id, User.id.not_in(followed)
    )
    needle = query.strip().lower()
    if needle:
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        q = q.where(User.login.like(f"%{escaped}%", escape="\\"))
    return list(await s.scalars(q.order_by(User.login).limit(limit)))


async def export(s: AsyncSession, store: EventStore, user_id: int) -> dict[str, Any] | None:
    """What accounts store about ``user_id`` (no secrets: tokens appear by prefix only);
    ``sessions.queries.export_of`` adds their votes and sessions."""
    user = await s.get(User, user_id)
    if user is None:
        return None
    follows = await s.execute(
        select(User.login, Follow.source, Follow.created_at)
        .join(Follow, Follow.streamer_id == User.id)
        .where(Follow.follower_id == user_id)
        .order_by(User.login)
    )
    return {
        "exported_at": _iso(dt.datetime.now(dt.UTC)),
        "profile": {
            "id": user.id,
            "login": user.login,
            "display_name": user.display_name,
            "role": user.role,
            "twitch_user_id": user.twitch_user_id,
            "broadcaster_type": user.broadcaster_type,
            "spotify_client_id": user.spotify_client_id,
            "created_at": _iso(user.created_at),
        },
        "connections": [
            {k: _iso(v) if isinstance(v, dt.datetime) else v for k, v in c.items()}
            for c in (await connections(s, user_id)).values()
        ],
        "api_tokens": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "created_at": _iso(t.created_at),
                "last_used_at": _iso(t.last_used_at),
                "revoked_at": _iso(t.revoked_at),
            }
            for t in await api_tokens(s, user_id)
        ],
        "follows": [
            {"login": login, "source": source, "since": _iso(since)}
            for login, source, since in follows
        ],
        "events": [
            {
                "position": e.position,
                "type": e.type,
                "payload": e.payload,
                "occurred_at": _iso(e.occurred_at),
            }
            for e in await store.read_stream(s, f"user-{user_id}")
        ],
    }


async def has_connection(s: AsyncSession, user_id: int, provider: str) -> bool:
    found = await s.scalar(
        select(OAuthCredential.id).where(
            OAuthCredential.user_id == user_id, OAuthCredential.provider == provider
        )
    )
    return found is not None


async def twitch_id_of(s: AsyncSession, login: str) -> str | None:
    if not login:
        return None
    return await s.scalar(select(User.twitch_user_id).where(User.login == login.lower()))


async def user_count(s: AsyncSession) -> int:
    return int(await s.scalar(select(func.count()).select_from(User)) or 0)
