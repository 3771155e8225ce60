"""Target 2, burst: 1,000 signed chat votes per second offered for 60 s, with one SSE client
subscribed to the session stream; against a bare sse-starlette broadcast that checks the HMAC
and pushes the vote count to its clients at once.

Measured per round: the acknowledgement latency (p50/p99, from each request's due time: the
generator is open-loop), the achieved acknowledgement rate, and the vote -> SSE update latency
at the subscribed client. Every vote comes from a new chatter, so the stream's
``session.votes`` counts them: the k-th acknowledged vote (in acknowledgement order) is taken
as shown when the stream first shows k votes, and its latency runs from its due time.

    .venv/bin/python bench/burst.py [--quick] [--rate 1000] [--seconds 60] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from typing import Any
from urllib.parse import urlsplit

import psycopg
from _common import (
    Profiler,
    Signer,
    bare_seed,
    count_votes,
    emit,
    fresh_database,
    log,
    median,
    percentile,
    raise_fd_limit,
    seed_session,
    start_bare,
    start_stack,
    wait_drained,
)
from _load import OpenLoop, SSEClient, first_reach, until_all


async def measure(
    base: str, signer: Signer, stream_path: str, headers: dict[str, str], args: argparse.Namespace
) -> dict[str, Any]:
    u = urlsplit(base)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    client = SSEClient(host, port, stream_path, headers)
    await client.connect()
    start_votes = client.votes
    host_header = f"{host}:{port}"
    gen = OpenLoop(host, port, lambda i: signer.request(i, host_header), args.rate, args.seconds)
    cpu0 = time.process_time()
    t0 = await gen.run()
    gen_cpu = time.process_time() - cpu0
    acked = sorted((s for s in gen.results if 200 <= s.status < 300), key=lambda s: s.done)
    last_ack = acked[-1].done if acked else t0
    target = start_votes + len(acked)
    await until_all([client], target, 60)
    client.close()
    shown: list[float] = []
    missing = 0
    for k, s in enumerate(acked, start=1):
        t = first_reach(client.seen, start_votes + k)
        if t is None:
            missing += 1
        else:
            shown.append(max(0.0, t - s.due))
    # Unanswered requests count as infinitely late in the percentiles.
    ack = [s.done - s.due for s in acked] + [float("inf")] * gen.unanswered
    return {
        "offered_per_s": args.rate,
        "sent": len(gen.results) + gen.failures + gen.unanswered,
        "unanswered_after_60s": gen.unanswered,
        "acked": len(acked),
        "failed": gen.failures + sum(1 for s in gen.results if s.status >= 300),
        "acks_per_s": len(acked) / max(1e-9, last_ack - t0),
        "ack_p50_ms": 1000 * percentile(ack, 50),
        "ack_p99_ms": 1000 * percentile(ack, 99),
        "sse_p50_ms": 1000 * percentile(shown, 50),
        "sse_p99_ms": 1000 * percentile(shown, 99),
        "not_shown_in_60s": missing,
        "sse_frames": client.frames,
        "generator_cpu_share": gen_cpu / max(1e-9, time.monotonic() - t0),
    }


async def raw_broker(url: str, rate: float, seconds: float) -> dict[str, Any]:
    """The broker hop alone: PostgreSQL NOTIFY at ``rate`` a second on one connection, LISTEN
    on another (as the app's default broker does), send -> receive latency; then as many as
    one connection can send, for the ceiling."""
    async with (
        await psycopg.AsyncConnection.connect(url, autocommit=True) as listen,
        await psycopg.AsyncConnection.connect(url, autocommit=True) as send,
    ):
        await listen.execute("LISTEN bench_raw")
        latencies: list[float] = []
        total = int(rate * seconds)
        flood = 5000

        async def receive() -> None:
            async for n in listen.notifies():
                latencies.append(time.monotonic() - float(n.payload.split()[0]))
                if len(latencies) >= total + flood:
                    return

        reader = asyncio.create_task(receive())
        t0 = time.monotonic()
        for i in range(total):
            await asyncio.sleep(max(0.0, t0 + i / rate - time.monotonic()))
            await send.execute("SELECT pg_notify('bench_raw', %s)", (f"{time.monotonic()} {i}",))
        paced = len(latencies)
        t1 = time.monotonic()
        for i in range(flood):
            await send.execute("SELECT pg_notify('bench_raw', %s)", (f"{time.monotonic()} {i}",))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader, 30)
        flood_s = time.monotonic() - t1
    paced_lat = latencies[:total]
    return {
        "notify_p50_ms": 1000 * percentile(paced_lat, 50),
        "notify_p99_ms": 1000 * percentile(paced_lat, 99),
        "notify_received": len(paced_lat),
        "notify_received_before_flood": paced,
        "notify_max_per_s": flood / flood_s,
    }


def bare_round(args: argparse.Namespace) -> dict[str, Any]:
    base, proc = start_bare(broadcast=True)
    try:
        signer = Signer(bare_seed(base))
        return asyncio.run(measure(base, signer, "/api/v1/sessions/1/stream", {}, args))
    finally:
        proc.stop()


def ours_round(url: str, r: int, args: argparse.Namespace) -> dict[str, Any]:
    stack = start_stack(url)
    try:
        seeded = seed_session(stack, f"burst{r}")
        prof = Profiler(stack.web.pid, "web-burst", args.seconds) if args.profile else None
        out = asyncio.run(
            measure(
                stack.base,
                Signer(seeded),
                f"/api/v1/sessions/{seeded.session_id}/stream",
                {"Authorization": f"Bearer {seeded.token}"},
                args,
            )
        )
        wait_drained(url)
        count = count_votes(url, seeded)
        out["counted"] = count.votes
        out["exactly_once"] = count.check(out["acked"], out["sent"])
        if prof is not None and r == 0:
            out["profile"] = prof.summary()
            print(out["profile"])
        return out
    finally:
        stack.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="10 s bursts")
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="py-spy the web process (round 1)")
    args = ap.parse_args()
    if args.quick:
        args.seconds = 10
    raise_fd_limit()
    keys = ("acks_per_s", "ack_p50_ms", "ack_p99_ms", "sse_p50_ms", "sse_p99_ms")
    bare: list[dict[str, Any]] = []
    ours: list[dict[str, Any]] = []
    broker: list[dict[str, Any]] = []
    with fresh_database("burst") as url:
        for r in range(args.rounds):
            log(f"round {r + 1}/{args.rounds}: bare sse-starlette broadcast")
            bare.append(bare_round(args))
            log("  " + ", ".join(f"{k} {bare[-1][k]:.1f}" for k in keys))
            log(f"round {r + 1}/{args.rounds}: serve + worker")
            ours.append(ours_round(url, r, args if r == 0 else _no_profile(args)))
            log("  " + ", ".join(f"{k} {ours[-1][k]:.1f}" for k in keys))
            log(f"  exactly once: {ours[-1]['exactly_once']}")
            log(f"round {r + 1}/{args.rounds}: raw broker messages (NOTIFY/LISTEN)")
            broker.append(asyncio.run(raw_broker(url, args.rate, min(args.seconds, 10))))
            log(
                f"  p50 {broker[-1]['notify_p50_ms']:.1f} ms, "
                f"p99 {broker[-1]['notify_p99_ms']:.1f} ms, "
                f"max {broker[-1]['notify_max_per_s']:.0f}/s"
            )
    summary: dict[str, Any] = {}
    for k in keys:
        summary[f"ours_{k}"] = median([o[k] for o in ours])
        summary[f"bare_{k}"] = median([b[k] for b in bare])
    summary["sse_p99_ratio_to_bare"] = median(
        [o["sse_p99_ms"] / b["sse_p99_ms"] for b, o in zip(bare, ours, strict=True)]
    )
    summary["exactly_once"] = all(o["exactly_once"] == "exact" for o in ours)
    for k in ("notify_p50_ms", "notify_p99_ms", "notify_max_per_s"):
        summary[f"broker_{k}"] = median([b[k] for b in broker])
    summary["generator_cpu_share"] = median([o["generator_cpu_share"] for o in ours])
    emit(
        "burst",
        {
            "mode": "quick" if args.quick else "full",
            "rate": args.rate,
            "seconds": args.seconds,
            "summary": summary,
            "bare": bare,
            "ours": ours,
            "broker": broker,
        },
    )


def _no_profile(args: argparse.Namespace) -> argparse.Namespace:
    copy = argparse.Namespace(**vars(args))
    copy.profile = False
    return copy


if __name__ == "__main__":
    main()
