"""Chart read models over the aggregates (``chart_sessions``, ``chart_tracks``): the public
charts, an album's page. Each page reads a few aggregate rows per finished session at most,
never the votes.

Scores on these pages are normalised ratings (``rules``) shown out of 10; rankings use the
Bayesian average with the instance's mean of each scale family (over all time) as prior."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.core.errors import N_, ValidationFailed, refuse
from premiere_ecoute.sessions.charts.models import ChartSnapshot
from premiere_ecoute.sessions.charts.rules import (
    MIN_DIVISIVE_RATINGS,
    MIN_TASTE_OVERLAP,
    PRIOR_WEIGHT,
    RANKED_FAMILIES,
    divisiveness,
    family_of,
    mean,
    moments,
    normaliser,
    pearson,
)
from premiere_ecoute.sessions.models import ListeningSession
from premiere_ecoute.sessions.scores import ReportState, Scale, TrackRef
from premiere_ecoute.sessions.voting import load_report

PERIODS: dict[str, int | None] = {"week": 7, "month": 30, "year": 365, "all": None}
CHART_SIZE = 10
SESSION_LINKS = 5  # reports linked from one chart row (newest first)


@dataclass(frozen=True, slots=True)
class ChartFilter:
    period: str = "all"
    family: str = "all"

    @classmethod
    def parse(cls, period: str | None, family: str | None) -> ChartFilter:
        period = period or "all"
        family = family or "all"
        if period not in PERIODS:
            raise refuse(
                ValidationFailed,
                N_("Unknown period %(value)s: use week, month, year or all."),
                value=period[:20],
            )
        if family != "all" and family not in RANKED_FAMILIES:
            raise refuse(
                ValidationFailed,
                N_("Unknown scale %(value)s: use 0-10, 1-5, smash-pass, custom-numeric or all."),
                value=family[:20],
            )
        return cls(period, family)

    def since(self, now: dt.datetime) -> dt.datetime:
        days = PERIODS[self.period]
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) if days is None else now - dt.timedelta(days)

    @property
    def families(self) -> list[str]:
        return list(RANKED_FAMILIES) if self.family == "all" else [self.family]


# The instance's mean normalised rating per scale family, over all time: the prior m.
_PRIORS = """
    SELECT family, SUM(total) / SUM(ratings) AS m FROM chart_sessions
    WHERE total IS NOT NULL AND ratings > 0 GROUP BY family
"""

_IN_PERIOD = "cs.stopped_at >= :since AND cs.family = ANY(:families) AND cs.ratings > 0"


def _links(table: str, column: str, key: str, where: str) -> str:
    """The newest reports of one chart row, read once the row is among the few shown."""
    return (
        f"ARRAY(SELECT cs.session_id FROM {table} cs WHERE cs.{column} = {key} AND {where}"
        f" ORDER BY cs.stopped_at DESC, cs.session_id DESC LIMIT {SESSION_LINKS})"
    )


# Albums in the period, with each album's prior: the families' means weighted by its ratings
# in each (exactly m when all its ratings are of one family). Sums first, ranked, then the
# few rows shown get their names and report links.
def _albums_sql(order: str, having: str = "") -> str:
    return f"""
    WITH priors AS ({_PRIORS}),
    per AS (
        SELECT cs.album_id, SUM(cs.ratings) AS n, SUM(cs.total) AS tot, SUM(cs.sumsq) AS q,
               SUM(cs.ratings * p.m) / SUM(cs.ratings) AS prior, COUNT(*) AS sessions
        FROM chart_sessions cs JOIN priors p ON p.family = cs.family
        WHERE {_IN_PERIOD}
        GROUP BY cs.album_id {having}
    ),
    ranked AS (
        SELECT per.*,
               ({PRIOR_WEIGHT} * per.prior + per.tot) / ({PRIOR_WEIGHT} + per.n) AS bayes,
               2 * sqrt(greatest(per.q / per.n - (per.tot / per.n) ^ 2, 0)) AS split
        FROM per ORDER BY {order} LIMIT :limit
    )
    SELECT r.*, {_links("chart_sessions", "album_id", "r.album_id", _IN_PERIOD)} AS session_ids,
           a.spotify_id, a.name, a.artists ->> 0 AS artist, a.cover_url
    FROM ranked r JOIN albums a ON a.id = r.album_id
    ORDER BY {order.replace("per.", "r.")}
    """


_TOP_ALBUMS = text(_albums_sql("bayes DESC, per.n DESC, per.album_id"))
_DIVISIVE_ALBUMS = text(
    _albums_sql("split DESC, per.n DESC, per.album_id", "HAVING SUM(cs.ratings) >= :min_n")
)

_DIVISIVE_TRACKS = text(
    f"""
    WITH per AS (
        SELECT cs.track_id, SUM(cs.ratings) AS n, SUM(cs.total) AS tot, SUM(cs.sumsq) AS q
        FROM chart_tracks cs
        WHERE {_IN_PERIOD}
        GROUP BY cs.track_id
        HAVING SUM(cs.ratings) >= :min_n
    ),
    ranked AS (
        SELECT per.*, 2 * sqrt(greatest(per.q / per.n - (per.tot / per.n) ^ 2, 0)) AS split
        FROM per ORDER BY split DESC, per.n DESC, per.track_id LIMIT :limit
    )
    SELECT r.track_id, r.n, r.tot, r.split,
           {_links("chart_tracks", "track_id", "r.track_id", _IN_PERIOD)} AS session_ids,
           t.name, t.track_number, a.spotify_id AS album_spotify_id, a.name AS album_name,
           a.artists ->> 0 AS artist
    FROM ranked r JOIN tracks t ON t.id = r.track_id LEFT JOIN albums a ON a.id = t.album_id
    ORDER BY r.split DESC, r.n DESC, r.track_id
    """
)

# Every scale counts here, words included: "most rated" is a number of ratings.
_ARTIST_WHERE = "cs.stopped_at >= :since AND (:all_families OR cs.family = ANY(:families))"
_ARTISTS = text(
    f"""
    WITH per AS (
        SELECT a.artists ->> 0 AS artist, SUM(cs.ratings) AS n, COUNT(*) AS sessions,
               COUNT(DISTINCT cs.album_id) AS albums
        FROM chart_sessions cs JOIN albums a ON a.id = cs.album_id
        WHERE {_ARTIST_WHERE} AND cs.ratings > 0 AND jsonb_array_length(a.artists) > 0
        GROUP BY a.artists ->> 0
        ORDER BY n DESC, artist LIMIT :limit
    )
    SELECT per.*,
           ARRAY(SELECT cs.session_id FROM chart_sessions cs JOIN albums a ON a.id = cs.album_id
                 WHERE a.artists ->> 0 = per.artist AND {_ARTIST_WHERE} AND cs.ratings > 0
                 ORDER BY cs.stopped_at DESC, cs.session_id DESC LIMIT {SESSION_LINKS})
               AS session_ids
    FROM per ORDER BY per.n DESC, per.artist
    """
)


def _out_of_ten(value: float | None) -> float | None:
    return None if value is None else value * 10


def _album_row(r: Any) -> dict[str, Any]:
    return {
        "album_id": r.album_id,
        "spotify_id": r.spotify_id,
        "name": r.name,
        "artist": r.artist or "",
        "cover_url": r.cover_url,
        "ratings": int(r.n),
        "sessions": int(r.sessions),
        "session_ids": list(r.session_ids),
        "mean": _out_of_ten(r.tot / r.n),
        "bayesian": _out_of_ten(r.bayes),
        "prior": _out_of_ten(r.prior),
        "divisiveness": float(r.split),
    }


def every_filter() -> list[ChartFilter]:
    return [ChartFilter(p, f) for p in PERIODS for f in ("all", *RANKED_FAMILIES)]


async def snapshots_due(s: AsyncSession, now: dt.datetime, max_age: dt.timedelta) -> bool:
    """True when a chart snapshot is missing or older than ``max_age`` (rolling periods move
    with time even when no session finishes)."""
    count, oldest = (
        await s.execute(select(func.count(), func.min(ChartSnapshot.computed_at)))
    ).one()
    return bool(count < len(every_filter()) or oldest is None or oldest < now - max_age)


async def chart_page(s: AsyncSession, now: dt.datetime, chosen: ChartFilter) -> dict[str, Any]:
    """The chart as the refresh job last computed it (one row), or computed now when the job
    has not run yet."""
    row = await s.get(ChartSnapshot, (chosen.period, chosen.family))
    if row is not None:
        return {**row.data, "computed_at": row.computed_at}
    return {**await charts(s, now, chosen), "computed_at": now}


async def charts(
    s: AsyncSession, now: dt.datetime, chosen: ChartFilter, *, limit: int = CHART_SIZE
) -> dict[str, Any]:
    params = {"since": chosen.since(now), "families": chosen.families, "limit": limit}
    top = (await s.execute(_TOP_ALBUMS, params)).all()
    divisive = (await s.execute(_DIVISIVE_ALBUMS, {**params, "min_n": MIN_DIVISIVE_RATINGS})).all()
    tracks = (await s.execute(_DIVISIVE_TRACKS, {**params, "min_n": MIN_DIVISIVE_RATINGS})).all()
    artists = (await s.execute(_ARTISTS, {**params, "all_families": chosen.family == "all"})).all()
    priors = {r.family: r.m for r in (await s.execute(text(_PRIORS))).all()}
    return {
        "period": chosen.period,
        "family": chosen.family,
        "priors": {family: _out_of_ten(m) for family, m in sorted(priors.items())},
        "prior_weight": PRIOR_WEIGHT,
        "min_divisive": MIN_DIVISIVE_RATINGS,
        "albums": [_album_row(r) for r in top],
        "divisive_albums": [_album_row(r) for r in divisive],
        "divisive_tracks": [
            {
                "track_id": r.track_id,
                "name": r.name,
                "track_number": r.track_number,
                "album_spotify_id": r.album_spotify_id,
                "album_name": r.album_name,
                "artist": r.artist or "",
                "ratings": int(r.n),
                "mean": _out_of_ten(r.tot / r.n),
                "divisiveness": float(r.split),
                "session_ids": list(r.session_ids),
            }
            for r in tracks
        ],
        "artists": [
            {
                "artist": r.artist,
                "ratings": int(r.n),
                "sessions": int(r.sessions),
                "albums": int(r.albums),
                "session_ids": list(r.session_ids),
            }
            for r in artists
        ],
    }


_ALBUM = text(
    "SELECT id, spotify_id, name, artists, release_date, cover_url FROM albums"
    " WHERE spotify_id = :spotify_id"
)
_ALBUM_SESSIONS = text(
    f"""
    WITH priors AS ({_PRIORS})
    SELECT cs.session_id, cs.family, cs.stopped_at, cs.ratings, cs.voters, cs.total,
           cs.viewer_score, cs.viewer_mode, ls.scale, u.login AS channel,
           u.display_name AS channel_name, p.m AS prior
    FROM chart_sessions cs JOIN listening_sessions ls ON ls.id = cs.session_id
    JOIN users u ON u.id = cs.user_id LEFT JOIN priors p ON p.family = cs.family
    WHERE cs.album_id = :album_id
    ORDER BY cs.stopped_at DESC, cs.session_id DESC
    """
)
_ALBUM_TRACKS = text(
    """
    SELECT t.id AS track_id, t.name, t.track_number, t.disc_number,
           COALESCE(SUM(ct.ratings) FILTER (WHERE ct.total IS NOT NULL), 0) AS n,
           SUM(ct.total) AS tot, SUM(ct.sumsq) AS q,
           AVG(ct.streamer) AS streamer, COUNT(ct.streamer) AS streamer_n
    FROM tracks t LEFT JOIN chart_tracks ct ON ct.track_id = t.id AND ct.album_id = :album_id
    WHERE t.album_id = :album_id
    GROUP BY t.id, t.name, t.track_number, t.disc_number
    ORDER BY t.disc_number, t.track_number, t.id
    """
)


async def album_page(s: AsyncSession, spotify_id: str) -> dict[str, Any] | None:
    """An album's finished sessions (channel, score) and its tracks side by side; None when
    the album is unknown here."""
    album = (await s.execute(_ALBUM, {"spotify_id": spotify_id})).one_or_none()
    if album is None:
        return None
    sessions = (await s.execute(_ALBUM_SESSIONS, {"album_id": album.id})).all()
    tracks = (await s.execute(_ALBUM_TRACKS, {"album_id": album.id})).all()
    scored = [r for r in sessions if r.total is not None and r.ratings > 0]
    n = sum(r.ratings for r in scored)
    total = sum(r.total for r in scored)
    prior = sum(r.ratings * r.prior for r in scored) / n if n else None
    track_rows = []
    for r in tracks:
        mean = r.tot / r.n if r.n else None
        track_rows.append(
            {
                "track_id": r.track_id,
                "name": r.name,
                "track_number": r.track_number,
                "ratings": int(r.n),
                "mean": _out_of_ten(mean),
                "bayesian": _out_of_ten(
                    (PRIOR_WEIGHT * prior + r.tot) / (PRIOR_WEIGHT + r.n)
                    if r.n and prior is not None
                    else None
                ),
                "divisiveness": (
                    divisiveness(r.tot, r.q, r.n) if r.n >= MIN_DIVISIVE_RATINGS else None
                ),
                "streamer": _out_of_ten(r.streamer),
            }
        )
    ranked = sorted(
        (t for t in track_rows if t["bayesian"] is not None),
        key=lambda t: (-t["bayesian"], t["track_number"]),
    )
    for rank, t in enumerate(ranked, 1):
        t["rank"] = rank
    return {
        "album": {
            "spotify_id": album.spotify_id,
            "name": album.name,
            "artist": album.artists[0] if album.artists else "",
            "artists": list(album.artists or []),
            "release_date": album.release_date,
            "cover_url": album.cover_url,
        },
        "ratings": n,
        "mean": _out_of_ten(total / n) if n else None,
        "bayesian": _out_of_ten((PRIOR_WEIGHT * prior + total) / (PRIOR_WEIGHT + n))
        if n and prior is not None
        else None,
        "sessions": [
            {
                "session_id": r.session_id,
                "channel": r.channel,
                "channel_name": r.channel_name,
                "stopped_at": r.stopped_at,
                "family": r.family,
                "options": list(r.scale.get("options", [])),
                "ratings": r.ratings,
                "voters": r.voters,
                "viewer_score": r.viewer_score,
                "viewer_mode": r.viewer_mode,
                "mean": _out_of_ten(r.total / r.ratings)
                if r.total is not None and r.ratings
                else None,
            }
            for r in sessions
        ],
        "tracks": track_rows,
    }


# ---- a viewer's own history ---------------------------------------------------------------

# Every rating a viewer gave as a viewer (not their own streamer ratings), with the streamer's
# rating of the same track in the same session beside it.
_MY_RATINGS = text(
    """
    SELECT v.session_id, v.track_id, v.value, v.sent_at, v.source,
           ls.user_id AS streamer_id, u.login AS channel, ls.status,
           a.spotify_id AS album_spotify_id, a.name AS album_name, a.artists ->> 0 AS artist,
           a.cover_url, t.name AS track_name, t.track_number, st.value AS streamer_value
    FROM votes v
    JOIN listening_sessions ls ON ls.id = v.session_id
    JOIN users u ON u.id = ls.user_id
    LEFT JOIN albums a ON a.id = ls.album_id
    LEFT JOIN tracks t ON t.id = v.track_id
    LEFT JOIN votes st ON st.session_id = v.session_id AND st.track_id = v.track_id
         AND st.is_streamer
    WHERE v.viewer_id = ANY(:viewer_ids) AND NOT v.is_streamer
    ORDER BY v.sent_at, v.session_id, v.track_id
    """
)

YEAR_FAVOURITES = 3


async def viewer_history(
    s: AsyncSession, viewer_ids: list[str], *, year: int | None = None
) -> dict[str, Any]:
    """Ratings grouped by album with the chat's beside them, taste match per streamer, and a
    year in review (the latest year rated unless ``year`` is given)."""
    rows = (await s.execute(_MY_RATINGS, {"viewer_ids": viewer_ids})).all()
    states = {
        r.id: (load_report(r), Scale.from_json(r.scale))
        for r in await s.scalars(
            select(ListeningSession).where(
                ListeningSession.id.in_({row.session_id for row in rows})
            )
        )
    }
    ratings = [_rating(row, *states[row.session_id]) for row in rows]
    years = sorted({r["sent_at"].year for r in ratings}, reverse=True)
    chosen = year if year is not None else (years[0] if years else None)
    return {
        "count": len(ratings),
        "ratings": ratings,
        "albums": _by_album(ratings),
        "taste": _taste(ratings),
        "min_overlap": MIN_TASTE_OVERLAP,
        "years": years,
        "year": chosen,
        "review": _review([r for r in ratings if r["sent_at"].year == chosen]),
    }


def _rating(row: Any, state: ReportState, scale: Scale) -> dict[str, Any]:
    norm = normaliser(scale)
    entry = state.track_entry(
        TrackRef(track_id=row.track_id, spotify_id="", track_number=0, name="")
    )
    chat = moments(entry["distribution"], norm)
    return {
        "session_id": row.session_id,
        "track_id": row.track_id,
        "channel": row.channel,
        "streamer_id": row.streamer_id,
        "status": row.status,
        "album_spotify_id": row.album_spotify_id,
        "album_name": row.album_name or "",
        "artist": row.artist or "",
        "cover_url": row.cover_url,
        "track_name": row.track_name or "",
        "track_number": row.track_number,
        "sent_at": row.sent_at,
        "source": row.source,
        "scale": family_of(scale),
        "options": list(scale.options),
        "mine": row.value,
        "chat": entry["viewer_score"],
        "chat_votes": entry["votes"],
        "streamer": row.streamer_value,
        "mine_norm": None if norm is None else norm[row.value],
        "chat_norm": chat.mean,
        "streamer_norm": (
            None if norm is None or row.streamer_value is None else norm[row.streamer_value]
        ),
    }


def _by_album(ratings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for r in ratings:
        key = r["album_spotify_id"] or f"session-{r['session_id']}"
        group = groups.setdefault(
            key,
            {
                "spotify_id": r["album_spotify_id"],
                "name": r["album_name"],
                "artist": r["artist"],
                "cover_url": r["cover_url"],
                "last": r["sent_at"],
                "ratings": [],
            },
        )
        group["ratings"].append(r)
        group["last"] = max(group["last"], r["sent_at"])
    for group in groups.values():
        group["ratings"].sort(key=lambda r: (r["session_id"], r["track_number"] or 0))
        group["channels"] = sorted({r["channel"] for r in group["ratings"]})
    return sorted(groups.values(), key=lambda g: g["last"], reverse=True)


def _taste(ratings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    pairs: dict[str, list[tuple[float, float]]] = {}
    for r in ratings:
        pairs.setdefault(r["channel"], [])
        if r["mine_norm"] is not None and r["streamer_norm"] is not None:
            pairs[r["channel"]].append((r["mine_norm"], r["streamer_norm"]))
    rows = [
        {
            "channel": channel,
            "overlap": len(both),
            "correlation": pearson(both) if len(both) >= MIN_TASTE_OVERLAP else None,
        }
        for channel, both in pairs.items()
    ]
    return sorted(rows, key=lambda t: (-t["overlap"], t["channel"]))


def _review(ratings: list[dict[str, Any]]) -> dict[str, Any]:
    albums: dict[str, list[dict[str, Any]]] = {}
    for r in ratings:
        if r["mine_norm"] is not None and r["album_spotify_id"]:
            albums.setdefault(r["album_spotify_id"], []).append(r)
    favourites = sorted(
        (
            {
                "spotify_id": key,
                "name": items[0]["album_name"],
                "artist": items[0]["artist"],
                "ratings": len(items),
                "mean": _out_of_ten(mean(i["mine_norm"] for i in items)),
            }
            for key, items in albums.items()
        ),
        key=lambda a: (-(a["mean"] or 0), -a["ratings"], a["name"]),
    )[:YEAR_FAVOURITES]
    compared = [r for r in ratings if r["mine_norm"] is not None and r["chat_norm"] is not None]

    def gap(r: dict[str, Any]) -> float:
        return float(r["mine_norm"] - r["chat_norm"])

    generous = max(compared, key=lambda r: (gap(r), r["sent_at"]), default=None)
    harshest = max(compared, key=lambda r: (-gap(r), r["sent_at"]), default=None)
    return {
        "count": len(ratings),
        "channels": len({r["channel"] for r in ratings}),
        "favourites": favourites,
        "generous": _with_gap(generous, gap) if generous and gap(generous) > 0 else None,
        "harshest": _with_gap(harshest, gap) if harshest and gap(harshest) < 0 else None,
    }


def _with_gap(r: dict[str, Any], gap: Any) -> dict[str, Any]:
    return {**r, "gap": gap(r) * 10}


EXPORT_COLUMNS = (
    "rated_at",
    "channel",
    "session_id",
    "album_spotify_id",
    "album",
    "artist",
    "track_number",
    "track",
    "scale",
    "my_rating",
    "chat_score",
    "chat_votes",
    "streamer_rating",
    "source",
)


def export_rows(history: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per rating, for CSV and JSON export."""
    return [
        {
            "rated_at": r["sent_at"].isoformat(),
            "channel": r["channel"],
            "session_id": r["session_id"],
            "album_spotify_id": r["album_spotify_id"],
            "album": r["album_name"],
            "artist": r["artist"],
            "track_number": r["track_number"],
            "track": r["track_name"],
            "scale": r["scale"],
            "my_rating": r["mine"],
            "chat_score": r["chat"],
            "chat_votes": r["chat_votes"],
            "streamer_rating": r["streamer"],
            "source": r["source"],
        }
        for r in history["ratings"]
    ]
