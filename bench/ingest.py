"""Target 1, ingest: signed chat-vote webhooks acknowledged per second by one web process
(with one ``worker`` beside it) against a bare handler that only checks the HMAC.

Each round runs the baseline then ours, with the same ``wrk`` load (``bench/webhooks.lua``
replaying pre-signed ``channel.chat.message`` deliveries, each with a new message id and a new
chatter voting their fixed rating). After ours, the script waits until the inbox is drained and
checks in the database that every acknowledged (2xx) vote was counted exactly once.

    .venv/bin/python bench/ingest.py [--quick] [--seconds 20] [--rounds 3] [--profile]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    Profiler,
    Signer,
    Stack,
    bare_seed,
    count_votes,
    emit,
    fresh_database,
    log,
    median,
    pg_backend_cpu,
    require_wrk,
    run_wrk,
    seed_session,
    start_bare,
    start_stack,
    wait_drained,
)


def bare_round(args: argparse.Namespace) -> dict[str, Any]:
    base, proc = start_bare()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # The baseline stores nothing: a smaller pool replayed in a loop does the same work.
            pool = Signer(bare_seed(base)).write_pool(Path(tmp) / "pool.tsv", 20_000)
            cpu0 = proc.cpu()
            res = run_wrk(base, pool, args.seconds, args.connections, args.threads)
            cpu = proc.cpu() - cpu0
    finally:
        proc.stop()
    return {
        "acks_per_s": res.rate,
        "p50_ms": res.p50_ms,
        "p99_ms": res.p99_ms,
        "non2xx": res.non2xx,
        "errors": res.errors,
        "server_cpu_ms_per_ack": 1000 * cpu / max(1, res.acked),
        "wrk_cpu_s": res.cpu_s,
        "wrk_cpu_share": res.cpu_s / res.seconds,
    }


def ours_round(
    stack: Stack, login: str, args: argparse.Namespace, profile: str | None = None
) -> dict[str, Any]:
    """One wrk run against ``stack``; the stack is left running."""
    seeded = seed_session(stack, login)
    with tempfile.TemporaryDirectory() as tmp:
        pool_size = int(args.seconds * args.pool_rate)
        t0 = time.monotonic()
        pool = Signer(seeded).write_pool(Path(tmp) / "pool.tsv", pool_size)
        log(f"  {pool_size} signed deliveries in {time.monotonic() - t0:.1f} s")
        cpu0, pg0 = stack.cpu(), pg_backend_cpu(stack.database_url)
        prof = Profiler(stack.web.pid, profile, args.seconds) if profile else None
        res = run_wrk(stack.base, pool, args.seconds, args.connections, args.threads)
    lag = wait_drained(stack.database_url)
    cpu, pg = stack.cpu() - cpu0, pg_backend_cpu(stack.database_url) - pg0
    count = count_votes(stack.database_url, seeded)
    verdict = count.check(res.acked, res.issued)
    out = {
        "acks_per_s": res.rate,
        "p50_ms": res.p50_ms,
        "p99_ms": res.p99_ms,
        "acked": res.acked,
        "sent": res.issued,
        "wrapped": res.wrapped,
        "non2xx": res.non2xx,
        "errors": res.errors,
        "counted": count.votes,
        "exactly_once": verdict,
        "drain_after_last_ack_s": lag,
        "app_cpu_ms_per_vote": 1000 * cpu / max(1, count.votes),
        "pg_cpu_ms_per_vote": 1000 * pg / max(1, count.votes),
        "wrk_cpu_s": res.cpu_s,
        "wrk_cpu_share": res.cpu_s / res.seconds,
    }
    if prof is not None:
        out["profile"] = prof.summary()
        print(out["profile"])
    return out


def summarise(bare: list[dict[str, Any]], ours: list[dict[str, Any]]) -> dict[str, Any]:
    def med(rows: list[dict[str, Any]], key: str) -> float:
        return median([float(r[key]) for r in rows])

    ratios = [o["acks_per_s"] / b["acks_per_s"] for b, o in zip(bare, ours, strict=True)]
    return {
        "ours_acks_per_s": med(ours, "acks_per_s"),
        "ours_p50_ms": med(ours, "p50_ms"),
        "ours_p99_ms": med(ours, "p99_ms"),
        "bare_acks_per_s": med(bare, "acks_per_s"),
        "bare_p50_ms": med(bare, "p50_ms"),
        "bare_p99_ms": med(bare, "p99_ms"),
        "ratio_to_bare": median(ratios),
        "exactly_once": all(o["exactly_once"] == "exact" for o in ours),
        "ours_app_cpu_ms_per_vote": med(ours, "app_cpu_ms_per_vote"),
        "ours_pg_cpu_ms_per_vote": med(ours, "pg_cpu_ms_per_vote"),
        "bare_cpu_ms_per_ack": med(bare, "server_cpu_ms_per_ack"),
        "wrk_cpu_share_ours": med(ours, "wrk_cpu_share"),
        "wrk_cpu_share_bare": med(bare, "wrk_cpu_share"),
        "drain_after_last_ack_s": med(ours, "drain_after_last_ack_s"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="8 s runs")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1, help="wrk threads")
    ap.add_argument(
        "--pool-rate",
        type=float,
        default=8000,
        help="signed deliveries prepared per second of run (more than ours can take)",
    )
    ap.add_argument("--profile", action="store_true", help="py-spy the web process (round 1)")
    args = ap.parse_args()
    if args.quick:
        args.seconds = 8
    require_wrk()
    bare: list[dict[str, Any]] = []
    ours: list[dict[str, Any]] = []
    with fresh_database("ingest") as url:
        for r in range(args.rounds):
            log(f"round {r + 1}/{args.rounds}: bare HMAC handler")
            bare.append(bare_round(args))
            log(f"  {bare[-1]['acks_per_s']:.0f} acks/s, p99 {bare[-1]['p99_ms']:.1f} ms")
            log(f"round {r + 1}/{args.rounds}: serve + worker")
            stack = start_stack(url)
            try:
                profile = "web-ingest" if args.profile and r == 0 else None
                ours.append(ours_round(stack, f"ingest{r}", args, profile))
            finally:
                stack.stop()
            o = ours[-1]
            log(
                f"  {o['acks_per_s']:.0f} acks/s, p99 {o['p99_ms']:.1f} ms, "
                f"counted {o['counted']}/{o['acked']} acked: {o['exactly_once']}"
            )
    emit(
        "ingest",
        {
            "mode": "quick" if args.quick else "full",
            "seconds": args.seconds,
            "connections": args.connections,
            "summary": summarise(bare, ours),
            "bare": bare,
            "ours": ours,
        },
    )


if __name__ == "__main__":
    main()
