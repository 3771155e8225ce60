"""Target 4, history: the ingest rate with 1,000,000 stored votes of other sessions against the
rate on an empty database (target: >= 0.9 of it).

Two databases: one left empty, one loaded with the history. The history is made from a real
session (a streamer, a started session, a few votes through the real webhook and ingest,
then stopped) whose rows are cloned with ``generate_series`` in SQL into the real tables: 1,000
stopped sessions of 1,000 voters each (sessions, votes, voters, vote events, processed inbox
rows), then ANALYZE. Clones copy every column but the generated ids, so the load follows the
schema as it changes. Each round runs the same wrk ingest (``ingest.py``) on the empty
database and then on the loaded one, each with a new streamer and session.

    .venv/bin/python bench/history.py [--quick] [--votes 1000000] [--seconds 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import httpx
import psycopg
from _common import (
    Signer,
    emit,
    fresh_database,
    log,
    median,
    require_wrk,
    seed_session,
    start_stack,
    wait_drained,
)
from ingest import ours_round

PER_SESSION = 1000
HISTORY_CHATTER = 4_000_000_000


def columns(conn: psycopg.Connection[Any], table: str) -> list[tuple[str, bool]]:
    """(name, copied) of each column: generated ids are not copied."""
    rows = conn.execute(
        "SELECT column_name, coalesce(column_default, ''), is_identity, is_generated "
        "FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
        "ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    return [
        (name, not (ident == "YES" or gen == "ALWAYS" or default.startswith("nextval(")))
        for name, default, ident, gen in rows
    ]


def clone(
    conn: psycopg.Connection[Any],
    table: str,
    where: str,
    params: tuple[Any, ...],
    overrides: dict[str, str],
    joins: str = "",
) -> int:
    """INSERT copies of the row of ``table`` (alias ``src``) matching ``where``, once per row
    of ``joins``, with ``overrides`` (column -> SQL expression)."""
    names, exprs = [], []
    for name, copied in columns(conn, table):
        if name in overrides:
            names.append(f'"{name}"')
            exprs.append(overrides[name])
        elif copied:
            names.append(f'"{name}"')
            exprs.append(f'src."{name}"')
    sql = (
        f'INSERT INTO "{table}" ({", ".join(names)}) SELECT {", ".join(exprs)} '
        f'FROM "{table}" src {joins} WHERE {where}'
    )
    return conn.execute(sql, params).rowcount


def load_history(url: str, total_votes: int) -> dict[str, Any]:
    """A real stopped session to copy, then ``total_votes`` votes of copies of it."""
    stack = start_stack(url)
    try:
        seeded = seed_session(stack, "historian")
        signer = Signer(seeded)
        with httpx.Client(base_url=stack.base, timeout=30) as h:
            for i in range(20):
                mid, ts, sig, body = signer.delivery(i)
                h.post(
                    "/webhooks/twitch",
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "Twitch-Eventsub-Message-Id": mid,
                        "Twitch-Eventsub-Message-Retry": "0",
                        "Twitch-Eventsub-Message-Type": "notification",
                        "Twitch-Eventsub-Message-Timestamp": ts,
                        "Twitch-Eventsub-Message-Signature": sig,
                        "Twitch-Eventsub-Subscription-Type": "channel.chat.message",
                        "Twitch-Eventsub-Subscription-Version": "1",
                    },
                ).raise_for_status()
            wait_drained(url)
            h.post(
                f"/api/v1/sessions/{seeded.session_id}/stop",
                headers={"Authorization": f"Bearer {seeded.token}"},
            ).raise_for_status()
    finally:
        stack.stop()
    sid = seeded.session_id
    sessions = max(1, total_votes // PER_SESSION)
    t0 = time.monotonic()
    counts: dict[str, Any] = {}
    with psycopg.connect(url) as conn:
        first = conn.execute("SELECT max(id) FROM listening_sessions").fetchone()
        assert first is not None
        counts["sessions"] = clone(
            conn,
            "listening_sessions",
            "src.id = %s",
            (sid,),
            {"status": "'stopped'"},
            f"CROSS JOIN generate_series(1, {sessions}) g",
        )
        conn.execute(
            "CREATE TEMP TABLE hs AS SELECT id FROM listening_sessions WHERE id > %s",
            (first[0],),
        )
        vote = conn.execute(
            "SELECT min(id) FROM votes WHERE session_id = %s AND NOT is_streamer", (sid,)
        ).fetchone()
        assert vote is not None and vote[0] is not None, "the historian's votes were not counted"
        viewer = f"({HISTORY_CHATTER} + g)::text"
        joins = f"CROSS JOIN hs CROSS JOIN generate_series(1, {PER_SESSION}) g"
        counts["votes"] = clone(
            conn,
            "votes",
            "src.id = %s",
            (vote[0],),
            {"session_id": "hs.id", "viewer_id": viewer, "value": "(g %% 11)::text"},
            joins,
        )
        if columns(conn, "session_voters"):
            counts["voters"] = clone(
                conn,
                "session_voters",
                "src.session_id = %s AND src.viewer_id = (SELECT viewer_id FROM votes "
                "WHERE id = %s)",
                (sid, vote[0]),
                {"session_id": "hs.id", "viewer_id": viewer},
                joins,
            )
        event = conn.execute(
            "SELECT type, min(position) FROM events WHERE stream = %s GROUP BY type "
            "ORDER BY count(*) DESC LIMIT 1",
            (f"session-{sid}",),
        ).fetchone()
        if event is not None:
            counts["events"] = clone(
                conn,
                "events",
                "src.position = %s",
                (event[1],),
                {"stream": "'session-' || hs.id", "version": "g"},
                joins,
            )
            counts["event_type"] = event[0]
        inbox = conn.execute(
            "SELECT min(id) FROM inbox WHERE kind = 'chat' AND processed_at IS NOT NULL"
        ).fetchone()
        if inbox is not None and inbox[0] is not None:
            counts["inbox"] = clone(
                conn,
                "inbox",
                "src.id = %s",
                (inbox[0],),
                {"external_id": "'history-' || hs.id || '-' || g"},
                joins,
            )
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    counts["load_s"] = time.monotonic() - t0
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="200,000 stored votes, 8 s runs")
    ap.add_argument("--votes", type=int, default=1_000_000, help="stored votes of history")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--pool-rate", type=float, default=8000)
    args = ap.parse_args()
    if args.quick:
        args.votes, args.seconds = 200_000, 8
    require_wrk()
    empty: list[dict[str, Any]] = []
    loaded: list[dict[str, Any]] = []
    with fresh_database("empty") as empty_url, fresh_database("history") as hist_url:
        log(f"loading {args.votes} stored votes")
        history = load_history(hist_url, args.votes)
        log(f"  {history}")
        for r in range(args.rounds):
            for label, url, rows in (("empty", empty_url, empty), ("history", hist_url, loaded)):
                log(f"round {r + 1}/{args.rounds}: {label} database")
                stack = start_stack(url)
                try:
                    rows.append(ours_round(stack, f"hist{label}{r}", args))
                finally:
                    stack.stop()
                o = rows[-1]
                log(f"  {o['acks_per_s']:.0f} acks/s, p99 {o['p99_ms']:.1f} ms")
                log(f"  exactly once: {o['exactly_once']}")
    ratios = [h["acks_per_s"] / e["acks_per_s"] for e, h in zip(empty, loaded, strict=True)]
    emit(
        "history",
        {
            "mode": "quick" if args.quick else "full",
            "stored_votes": args.votes,
            "history": history,
            "summary": {
                "empty_acks_per_s": median([e["acks_per_s"] for e in empty]),
                "history_acks_per_s": median([h["acks_per_s"] for h in loaded]),
                "empty_p99_ms": median([e["p99_ms"] for e in empty]),
                "history_p99_ms": median([h["p99_ms"] for h in loaded]),
                "ratio": median(ratios),
                "exactly_once": all(x["exactly_once"] == "exact" for x in empty + loaded),
            },
            "empty": empty,
            "history_runs": loaded,
        },
    )


if __name__ == "__main__":
    main()
