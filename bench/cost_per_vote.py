"""Target 5, cost per vote: our ingest path against raw PostgreSQL inserts of the same rows.

Each round, ours: the wrk ingest of ``ingest.py`` (signed webhooks -> inbox -> ingest ->
votes, events, report) on one ``serve`` + one ``worker``; the cost of a vote is the CPU time of
the two processes and of their PostgreSQL backends, divided by the votes counted, and the rate
is the votes counted per second from the first request to the drained inbox. Then raw: the
very rows ours wrote (``session_id, track_id, viewer_id, value, source, sent_at``) inserted
into a plain table of the same database, by ``COPY`` in one transaction and by
``executemany`` in transactions of 100 rows (the ingest's batch size order); the cost is the
CPU time of this client and of its backend per row.

    .venv/bin/python bench/cost_per_vote.py [--quick] [--seconds 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import psutil
import psycopg
from _common import emit, fresh_database, log, median, require_wrk, start_stack
from ingest import ours_round

COLUMNS = "session_id, track_id, viewer_id, value, source, sent_at"
RAW_TABLE = """
CREATE TABLE IF NOT EXISTS raw_votes (
    session_id bigint, track_id bigint, viewer_id text, value text, source text,
    sent_at timestamptz
)"""


def backend_cpu(conn: psycopg.Connection[Any]) -> float:
    row = conn.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    t = psutil.Process(row[0]).cpu_times()
    return t.user + t.system


def raw_inserts(url: str, session_id: int) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            f"SELECT {COLUMNS} FROM votes WHERE session_id = %s", (session_id,)
        ).fetchall()
        conn.execute(RAW_TABLE)
        conn.execute("TRUNCATE raw_votes")
        conn.commit()
        out: dict[str, Any] = {"rows": len(rows)}

        cpu0, pg0, t0 = time.process_time(), backend_cpu(conn), time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY raw_votes ({COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0 + backend_cpu(conn) - pg0
        out["copy_rows_per_s"] = len(rows) / wall
        out["copy_cpu_ms_per_row"] = 1000 * cpu / max(1, len(rows))

        conn.execute("TRUNCATE raw_votes")
        conn.commit()
        cpu0, pg0, t0 = time.process_time(), backend_cpu(conn), time.perf_counter()
        with conn.cursor() as cur:
            for i in range(0, len(rows), 100):
                cur.executemany(
                    f"INSERT INTO raw_votes ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)",
                    rows[i : i + 100],
                )
                conn.commit()
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0 + backend_cpu(conn) - pg0
        out["executemany_rows_per_s"] = len(rows) / wall
        out["executemany_cpu_ms_per_row"] = 1000 * cpu / max(1, len(rows))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="8 s runs")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--pool-rate", type=float, default=8000)
    args = ap.parse_args()
    if args.quick:
        args.seconds = 8
    require_wrk()
    rounds: list[dict[str, Any]] = []
    with fresh_database("cost") as url:
        for r in range(args.rounds):
            log(f"round {r + 1}/{args.rounds}: ours (serve + worker)")
            stack = start_stack(url)
            try:
                ours = ours_round(stack, f"cost{r}", args)
            finally:
                stack.stop()
            counted_per_s = ours["counted"] / (args.seconds + ours["drain_after_last_ack_s"])
            ours["counted_per_s"] = counted_per_s
            ours["cpu_ms_per_vote"] = ours["app_cpu_ms_per_vote"] + ours["pg_cpu_ms_per_vote"]
            log(f"  {counted_per_s:.0f} votes/s, {ours['cpu_ms_per_vote']:.3f} CPU ms per vote")
            log(f"round {r + 1}/{args.rounds}: raw inserts of the same rows")
            with psycopg.connect(url) as conn:
                sid = conn.execute(
                    "SELECT id FROM listening_sessions WHERE user_id = "
                    "(SELECT id FROM users WHERE login = %s)",
                    (f"cost{r}",),
                ).fetchone()
            assert sid is not None
            raw = raw_inserts(url, sid[0])
            log(
                f"  COPY {raw['copy_rows_per_s']:.0f} rows/s, "
                f"executemany {raw['executemany_rows_per_s']:.0f} rows/s"
            )
            rounds.append({"ours": ours, "raw": raw})

    def med(side: str, key: str) -> float:
        return median([float(x[side][key]) for x in rounds])

    summary = {
        "ours_votes_per_s": med("ours", "counted_per_s"),
        "ours_cpu_ms_per_vote": med("ours", "cpu_ms_per_vote"),
        "copy_rows_per_s": med("raw", "copy_rows_per_s"),
        "copy_cpu_ms_per_row": med("raw", "copy_cpu_ms_per_row"),
        "executemany_rows_per_s": med("raw", "executemany_rows_per_s"),
        "executemany_cpu_ms_per_row": med("raw", "executemany_cpu_ms_per_row"),
        "rate_fraction_of_copy": median(
            [x["ours"]["counted_per_s"] / x["raw"]["copy_rows_per_s"] for x in rounds]
        ),
        "rate_fraction_of_executemany": median(
            [x["ours"]["counted_per_s"] / x["raw"]["executemany_rows_per_s"] for x in rounds]
        ),
        "cpu_times_copy": median(
            [x["ours"]["cpu_ms_per_vote"] / x["raw"]["copy_cpu_ms_per_row"] for x in rounds]
        ),
        "cpu_times_executemany": median(
            [x["ours"]["cpu_ms_per_vote"] / x["raw"]["executemany_cpu_ms_per_row"] for x in rounds]
        ),
        "exactly_once": all(x["ours"]["exactly_once"] == "exact" for x in rounds),
    }
    emit(
        "cost_per_vote",
        {"mode": "quick" if args.quick else "full", "summary": summary, "rounds": rounds},
    )


if __name__ == "__main__":
    main()
