"""How the charts scale: 10,000 finished sessions and 5,000,000 votes.

A throwaway database is created on the server of DATABASE_URL, migrated, and filled with
``generate_series`` in three stages (1,000, 3,000 and 10,000 sessions of 500 viewer votes
each, over 2,000 albums of 12 tracks, one streamer rating per track; 80 % of sessions on the
0-10 scale, 10 % on 1-5, 10 % smash/pass; each report's counters built from the votes in
SQL). After each stage it times:

- the refresh job (``jobs.charts.refresh_charts``): summing up the stage's new sessions, then
  computing the 20 chart snapshots (4 periods x 5 scale filters);
- one chart computed from the aggregates (all time, every scale: the job's costliest
  snapshot), median of 3;
- ``GET /charts`` (all time, every scale), ``GET /charts?period=week&scale=0-10``, an album
  page and a viewer's ``/me/ratings``, through the whole app (ASGI), median of 3 after one
  warm-up request;
- for comparison, the same top-albums ranking computed from the votes themselves (what a
  page would cost without the aggregates);

and at the end the refresh of one changed session. The database is dropped at the end.

Run: DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/charts.py
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
import sys
import time
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from itsdangerous import TimestampSigner

from premiere_ecoute.bootstrap import build, web_app
from premiere_ecoute.config import Settings
from premiere_ecoute.core import migrations
from premiere_ecoute.core.broker import InMemoryBroker
from premiere_ecoute.jobs.charts import refresh_charts
from premiere_ecoute.sessions.charts import queries

STAGES = tuple(int(n) for n in os.environ.get("BENCH_STAGES", "1000,3000,10000").split(","))
VOTES_PER_SESSION = 500
ALBUMS = 2_000
TRACKS_PER_ALBUM = 12
STREAMERS = 200
VIEWERS = 500_000
ARTISTS = 600

SETUP = f"""
INSERT INTO users (id, login, display_name, role, twitch_user_id)
SELECT i, 'streamer' || i, 'Streamer ' || i, 'streamer', 's' || i
FROM generate_series(1, {STREAMERS}) i;
INSERT INTO users (id, login, display_name, role, twitch_user_id)
VALUES ({STREAMERS + 1}, 'benchviewer', 'Bench viewer', 'viewer', 'v1');
INSERT INTO albums (id, spotify_id, name, artists, total_tracks)
SELECT i, 'album' || lpad(i::text, 17, '0'), 'Album ' || i,
       jsonb_build_array('Artist ' || (1 + i % {ARTISTS})), {TRACKS_PER_ALBUM}
FROM generate_series(1, {ALBUMS}) i;
INSERT INTO tracks (id, spotify_id, album_id, name, track_number, disc_number, duration_ms,
                    artists)
SELECT (a - 1) * {TRACKS_PER_ALBUM} + t,
       'track' || lpad(((a - 1) * {TRACKS_PER_ALBUM} + t)::text, 17, '0'), a, 'Track ' || t, t,
       1, 200000, '[]'::jsonb
FROM generate_series(1, {ALBUMS}) a, generate_series(1, {TRACKS_PER_ALBUM}) t;
"""

SESSIONS = f"""
INSERT INTO listening_sessions (id, user_id, status, source_kind, album_id, track_ids, scale,
                                timeline, report, subscriptions, started_at, stopped_at)
SELECT s, 1 + s % {STREAMERS}, 'stopped', 'album', album,
       (SELECT jsonb_agg((album - 1) * {TRACKS_PER_ALBUM} + t ORDER BY t)
        FROM generate_series(1, {TRACKS_PER_ALBUM}) t),
       CASE WHEN s % 10 < 8 THEN jsonb_build_object('kind', 'numeric', 'options',
                (SELECT jsonb_agg(n::text ORDER BY n) FROM generate_series(0, 10) n))
            WHEN s % 10 = 8 THEN jsonb_build_object('kind', 'numeric', 'options',
                jsonb_build_array('1', '2', '3', '4', '5'))
            ELSE jsonb_build_object('kind', 'categorical', 'options',
                jsonb_build_array('smash', 'pass')) END,
       '{{}}'::jsonb, '{{}}'::jsonb, '[]'::jsonb,
       now() - (({STAGES[-1]} - s) * interval '90 minutes') - interval '1 hour',
       now() - (({STAGES[-1]} - s) * interval '90 minutes')
FROM generate_series(%(lo)s::int, %(hi)s::int) s,
     LATERAL (SELECT 1 + (s * 7919) % {ALBUMS} AS album) x;

INSERT INTO votes (session_id, track_id, viewer_id, is_streamer, value, source, sent_at)
SELECT ls.id, (ls.album_id - 1) * {TRACKS_PER_ALBUM} + 1 + k % {TRACKS_PER_ALBUM},
       'v' || (1 + (ls.id * 7919 + k) % {VIEWERS}), false,
       CASE WHEN ls.id % 10 < 8
                THEN least(10, ls.album_id % 7 + floor(random() * 5)::int)::text
            WHEN ls.id % 10 = 8 THEN (1 + floor(random() * 5)::int)::text
            WHEN random() < 0.3 + (ls.album_id % 5) * 0.1 THEN 'smash' ELSE 'pass' END,
       'chat', ls.started_at + k * interval '5 seconds'
FROM listening_sessions ls, generate_series(0, {VOTES_PER_SESSION - 1}) k
WHERE ls.id BETWEEN %(lo)s AND %(hi)s;

INSERT INTO votes (session_id, track_id, viewer_id, is_streamer, value, source, sent_at)
SELECT ls.id, t.track_id::bigint, 's' || ls.user_id, true,
       ls.scale -> 'options' ->> ((ls.id + t.track_id::bigint) %
                                  jsonb_array_length(ls.scale -> 'options'))::int,
       'web', ls.stopped_at - interval '1 minute'
FROM listening_sessions ls, jsonb_array_elements_text(ls.track_ids) t(track_id)
WHERE ls.id BETWEEN %(lo)s AND %(hi)s;

ANALYZE listening_sessions;

ANALYZE votes;

WITH per_track AS (
    SELECT v.session_id, v.track_id,
           ARRAY[
           count(*) FILTER (WHERE NOT v.is_streamer AND x.idx = 0),
           count(*) FILTER (WHERE NOT v.is_streamer AND x.idx = 1),
           count(*) FILTER (WHERE NOT v.is_streamer AND x.idx = 2),
           count(*) FILTER (WHERE NOT v.is_streamer AND x.idx = 3),
           count(*) FILTER (WHERE NOT v.is_streamer AND x.idx = 4),
           count(*) FILTER (WHERE NOT v.is_streamer AND x.idx = 5),
           count(*) FILTER (WHERE NOT v.is_streamer AND x.idx = 6),
           count(*) FILTER (WHERE NOT v.is_streamer AND x.idx = 7),
           count(*) FILTER (WHERE NOT v.is_streamer AND x.idx = 8),
           count(*) FILTER (WHERE NOT v.is_streamer AND x.idx = 9),
           count(*) FILTER (WHERE NOT v.is_streamer AND x.idx = 10)
           ] AS counts,
           max(x.idx) FILTER (WHERE v.is_streamer) AS own
    FROM votes v
    CROSS JOIN LATERAL (
        SELECT CASE WHEN v.session_id % 10 < 8 THEN v.value::int
                    WHEN v.session_id % 10 = 8 THEN v.value::int - 1
                    WHEN v.value = 'smash' THEN 0 ELSE 1 END AS idx
    ) x
    WHERE v.session_id BETWEEN %(lo)s AND %(hi)s
    GROUP BY v.session_id, v.track_id
), reports AS (
    SELECT p.session_id,
           jsonb_object_agg(
               p.track_id::text,
               jsonb_build_object(
                   'v',
                   to_jsonb(p.counts[1:CASE WHEN p.session_id % 10 < 8 THEN 11
                                            WHEN p.session_id % 10 = 8 THEN 5 ELSE 2 END]),
                   's', p.own)
           ) AS tracks
    FROM per_track p
    GROUP BY p.session_id
)
UPDATE listening_sessions ls
SET report = jsonb_build_object('version', 1, 'scale', ls.scale, 'tracks', r.tracks,
                                'voters', {VOTES_PER_SESSION})
FROM reports r WHERE r.session_id = ls.id;
"""

# Statements with parameters: a literal % is written %% for psycopg.
SESSIONS = SESSIONS.replace("%", "%%").replace("%%(lo)s", "%(lo)s").replace("%%(hi)s", "%(hi)s")

# What a chart page would cost without the aggregates: the top albums from the votes.
FROM_VOTES = """
SELECT ls.album_id, count(*) AS n,
       avg(CASE WHEN v.value = 'smash' THEN 1.0 WHEN v.value = 'pass' THEN 0.0
                WHEN ls.id % 10 = 8 THEN (v.value::numeric - 1) / 4
                ELSE v.value::numeric / 10 END) AS mean
FROM votes v JOIN listening_sessions ls ON ls.id = v.session_id
WHERE NOT v.is_streamer
GROUP BY ls.album_id ORDER BY mean DESC LIMIT 10
"""


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def timed_sql(url: str, sql: str, params: dict[str, Any] | None = None) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute(sql, params if "%(" in sql else None)  # type: ignore[arg-type]
        return time.perf_counter() - started


async def page_ms(client: httpx.AsyncClient, path: str) -> tuple[float, float]:
    """(first request, median of the next 3), in ms; the page must answer 200."""
    times = []
    for _ in range(4):
        started = time.perf_counter()
        response = await client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return times[0], statistics.median(times[1:])


async def main() -> None:
    server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"pe_bench_charts_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server, name)
    try:
        migrations.upgrade(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SETUP)
        settings = Settings(  # type: ignore[call-arg]
            environment="test",
            secret_key="bench-secret-key-" + "k" * 32,
            fake_apis=True,
            twitch_webhook_secret="bench-webhook-secret-0123",
            base_url="http://127.0.0.1",
            log_json=False,
            log_level="WARNING",
            database_url=url,
            _env_file=None,
        )
        c = build(settings, database_url=url, broker=InMemoryBroker(), pool_size=4)
        await c.start()
        try:
            await run_stages(c, url)
        finally:
            await c.stop()
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def run_stages(c: Any, url: str) -> None:
    app = web_app(c, run_background=False)
    transport = httpx.ASGITransport(app=app)
    lo = 1
    for hi in STAGES:
        generate_s = sum(
            timed_sql(url, statement, {"lo": lo, "hi": hi}) for statement in SESSIONS.split(";\n\n")
        )
        timed_sql(url, "VACUUM ANALYZE")
        started = time.perf_counter()
        summed = await refresh_charts(c.kernel)
        refresh_s = time.perf_counter() - started
        assert summed == hi - lo + 1, summed
        live = []
        for _ in range(3):
            async with c.db.session() as s:
                started = time.perf_counter()
                await queries.charts(s, c.kernel.clock.now(), queries.ChartFilter())
                live.append((time.perf_counter() - started) * 1000)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            charts = await page_ms(client, "/charts")
            week = await page_ms(client, "/charts?period=week&scale=0-10")
            album = await page_ms(client, f"/albums/album{1:017d}")
        me = await my_ratings_ms(c, transport)
        votes = hi * (VOTES_PER_SESSION + TRACKS_PER_ALBUM)
        from_votes = statistics.median(timed_sql(url, FROM_VOTES) for _ in range(3)) * 1000
        print(
            f"{hi:>6} sessions {votes:>9} votes | generated in {generate_s:6.1f} s | refresh of "
            f"{hi - lo + 1} new sessions + snapshots {refresh_s:6.2f} s | one chart computed "
            f"{statistics.median(live):6.1f} ms | /charts first {charts[0]:6.1f} ms "
            f"median {charts[1]:6.1f} ms | week/0-10 {week[1]:6.1f} ms | album {album[1]:6.1f} ms"
            f" | /me/ratings {me[1]:6.1f} ms | top albums from the votes {from_votes:8.1f} ms",
            flush=True,
        )
        lo = hi + 1
    timed_sql(
        url,
        "UPDATE listening_sessions SET updated_at = now() WHERE id = %(id)s",
        {"id": STAGES[-1] // 2},
    )
    started = time.perf_counter()
    summed = await refresh_charts(c.kernel)
    one_s = time.perf_counter() - started
    started = time.perf_counter()
    none = await refresh_charts(c.kernel)
    idle_s = time.perf_counter() - started
    async with c.db.session() as s:
        top = await queries.charts(s, c.kernel.clock.now(), queries.ChartFilter())
    print(
        "top albums:",
        ", ".join(f"{a['name']} {a['bayesian']:.3f} ({a['ratings']})" for a in top["albums"][:3]),
        "| most divisive track:",
        top["divisive_tracks"][0]["name"] if top["divisive_tracks"] else None,
    )
    print(
        f"refresh of {summed} changed session: {one_s * 1000:.1f} ms; "
        f"refresh with nothing to do ({none}): {idle_s * 1000:.1f} ms"
    )


async def my_ratings_ms(c: Any, transport: httpx.ASGITransport) -> tuple[float, float]:
    """The bench viewer (Twitch id v1) on /me/ratings, signed in with a session cookie."""
    raw = base64.b64encode(json.dumps({"user_id": STREAMERS + 1}).encode())
    cookie = TimestampSigner(c.settings.secret_key).sign(raw).decode()
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", cookies={"pe_session": cookie}
    ) as client:
        return await page_ms(client, "/me/ratings")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
