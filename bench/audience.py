"""Target 3, audience: N concurrent SSE clients (half overlays, half public pages of one
streamer) on one web process, against a bare sse-starlette broadcast to the same N.

The clients are spread over several client processes (asyncio on uvloop, raw HTTP), so the
generator is not the bottleneck. Measured per round:

- ``connect_s``: time until all N streams have received their first frame (the snapshot);
- one vote at a time (``--votes`` of them): the time from the signed webhook's send to its
  arrival at every client (p50 and max over the clients);
- churn: ``--churn`` more streams open (to their snapshot) and close while the N stay; the
  web process's CPU per open+close, and the frames the N standing clients received meanwhile
  (0 means arrivals and departures cost the others nothing);
- the webhook acknowledgement p50/p99 while the N are connected, with ``--vote-rate`` votes per
  second offered (open-loop) for ``--load-seconds``;
- the web process's resident memory per client (RSS growth from before to after connecting).

    .venv/bin/python bench/audience.py [--quick] [--clients 10000] [--procs 4] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import time
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil
from _common import (
    Proc,
    Profiler,
    Signer,
    bare_seed,
    emit,
    fresh_database,
    log,
    median,
    percentile,
    raise_fd_limit,
    seed_session,
    start_bare,
    start_stack,
)
from _load import OpenLoop, SSEClient, first_reach, until_all

# Client processes ----------------------------------------------------------------------------


def client_process(conn: Connection) -> None:
    raise_fd_limit()
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    asyncio.run(_serve(conn))


async def _open(host: str, port: int, path: str, sem: asyncio.Semaphore) -> SSEClient | None:
    async with sem:
        client = SSEClient(host, port, path)
        try:
            await asyncio.wait_for(client.connect(), 300)
            return client
        except Exception:
            client.close()
            return None


async def _serve(conn: Connection) -> None:
    groups: dict[str, list[SSEClient]] = {}
    while True:
        cmd, arg = await asyncio.to_thread(conn.recv)
        if cmd == "quit":
            break
        if cmd == "connect":
            group, host, port, paths, concurrency = arg
            sem = asyncio.Semaphore(concurrency)
            made = await asyncio.gather(*(_open(host, port, p, sem) for p in paths))
            ok = [c for c in made if c is not None]
            groups.setdefault(group, []).extend(ok)
            conn.send((len(ok), len(paths) - len(ok)))
        elif cmd == "expect":
            group, target, timeout = arg
            clients = groups.get(group, [])
            await until_all(clients, target, timeout)
            times = [first_reach(c.seen, target) for c in clients]
            conn.send(([t for t in times if t is not None], sum(t is None for t in times)))
        elif cmd == "frames":
            clients = groups.get(arg, [])
            conn.send(
                (
                    sum(c.frames for c in clients),
                    sum(c.snapshots for c in clients),
                    sum(c.bytes for c in clients),
                )
            )
        elif cmd == "close":
            for c in groups.pop(arg, []):
                c.close()
            await asyncio.sleep(0)
            conn.send(True)


class Fleet:
    """The client processes, driven in lockstep."""

    def __init__(self, procs: int) -> None:
        ctx = mp.get_context("spawn")
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        for _ in range(procs):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=client_process, args=(child,), daemon=True)
            p.start()
            self.conns.append(parent)
            self.procs.append(p)

    def ask(self, cmd: str, args: list[Any]) -> list[Any]:
        for conn, arg in zip(self.conns, args, strict=True):
            conn.send((cmd, arg))
        return [conn.recv() for conn in self.conns]

    def all(self, cmd: str, arg: Any) -> list[Any]:
        return self.ask(cmd, [arg] * len(self.conns))

    def connect(self, group: str, base: str, paths: list[str], concurrency: int) -> tuple[int, int]:
        u = urlsplit(base)
        n = len(self.conns)
        shares = [paths[i::n] for i in range(n)]
        replies = self.ask(
            "connect", [(group, u.hostname, u.port, share, concurrency) for share in shares]
        )
        return sum(r[0] for r in replies), sum(r[1] for r in replies)

    def cpu(self) -> float:
        """CPU seconds the client processes used so far."""
        total = 0.0
        for p in self.procs:
            with contextlib.suppress(psutil.Error):
                t = psutil.Process(p.pid).cpu_times()
                total += t.user + t.system
        return total

    def close(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send(("quit", None))
        for p in self.procs:
            p.join(10)
            if p.is_alive():
                p.terminate()


# One side ------------------------------------------------------------------------------------


def audience_paths(login: str, n: int) -> list[str]:
    return [f"/overlay/{login}/stream" if i % 2 else f"/live/{login}/stream" for i in range(n)]


def measure(
    fleet: Fleet,
    base: str,
    web: Proc,
    signer: Signer,
    login: str,
    args: argparse.Namespace,
    profile: str | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"clients": args.clients}
    time.sleep(1)
    rss0, cpu0 = web.rss(), web.cpu()
    prof = Profiler(web.pid, f"{profile}-connect", 600) if profile else None
    t0, fleet_cpu0 = time.monotonic(), fleet.cpu()
    ok, failed = fleet.connect("main", base, audience_paths(login, args.clients), args.concurrency)
    out["connect_s"] = time.monotonic() - t0
    out["connected"], out["connect_failed"] = ok, failed
    out["connect_cpu_ms_per_client"] = 1000 * (web.cpu() - cpu0) / max(1, ok)
    out["connect_clients_cpu_share"] = (fleet.cpu() - fleet_cpu0) / out["connect_s"]
    if prof is not None:
        prof.stop()
        out["profile_connect"] = prof.summary()
        print(out["profile_connect"])
    log(f"  {ok} connected ({failed} failed) in {out['connect_s']:.1f} s")
    time.sleep(2)
    out["rss_kb_per_client"] = (web.rss() - rss0) / 1024 / max(1, ok)

    # One vote at a time, to all of them.
    u = urlsplit(base)
    p50s, maxes, missing = [], [], 0
    web_cpu0, fleet_cpu0 = web.cpu(), fleet.cpu()
    with httpx.Client(base_url=base, timeout=30) as h:
        for v in range(1, args.votes + 1):
            mid, ts, sig, body = signer.delivery(1_000_000 + v)
            headers = {
                "Content-Type": "application/json",
                "Twitch-Eventsub-Message-Id": mid,
                "Twitch-Eventsub-Message-Retry": "0",
                "Twitch-Eventsub-Message-Type": "notification",
                "Twitch-Eventsub-Message-Timestamp": ts,
                "Twitch-Eventsub-Message-Signature": sig,
                "Twitch-Eventsub-Subscription-Type": "channel.chat.message",
                "Twitch-Eventsub-Subscription-Version": "1",
            }
            t_send = time.monotonic()
            h.post("/webhooks/twitch", content=body, headers=headers).raise_for_status()
            replies = fleet.all("expect", ("main", v, 30))
            arrivals = [t - t_send for r in replies for t in r[0]]
            missing += sum(r[1] for r in replies)
            p50s.append(1000 * percentile(arrivals, 50))
            maxes.append(1000 * max(arrivals, default=float("nan")))
            time.sleep(0.5)
    # Whether the clients kept up: CPU seconds per single vote, server and all clients.
    out["web_cpu_s_per_vote_to_all"] = (web.cpu() - web_cpu0) / args.votes
    out["clients_cpu_s_per_vote_to_all"] = (fleet.cpu() - fleet_cpu0) / args.votes
    out["vote_to_all_p50_ms"] = median(p50s)
    out["vote_to_all_max_ms"] = median(maxes)
    out["vote_not_received"] = missing
    log(f"  one vote: p50 {out['vote_to_all_p50_ms']:.0f} ms, max {out['vote_to_all_max_ms']:.0f}")

    # Arrivals and departures while the audience stays.
    before = fleet.all("frames", "main")
    cpu1 = web.cpu()
    t1 = time.monotonic()
    churned, _ = fleet.connect("churn", base, audience_paths(login, args.churn), args.concurrency)
    fleet.all("close", "churn")
    out["churn_s"] = time.monotonic() - t1
    time.sleep(2)  # presence is told in batches
    after = fleet.all("frames", "main")
    out["churn_cpu_ms_per_connect_disconnect"] = 1000 * (web.cpu() - cpu1) / max(1, churned)
    frames = sum(a[0] for a in after) - sum(b[0] for b in before)
    snaps = sum(a[1] for a in after) - sum(b[1] for b in before)
    out["churn_frames_per_standing_client"] = frames / max(1, ok)
    out["churn_snapshots_to_standing_clients"] = snaps
    received = sum(a[2] for a in after) - sum(b[2] for b in before)
    out["churn_bytes_per_standing_client"] = received / max(1, ok)

    # Webhook acknowledgements while they are connected.
    prof = Profiler(web.pid, f"{profile}-fanout", args.load_seconds) if profile else None
    host = f"{u.hostname}:{u.port}"
    gen = OpenLoop(
        u.hostname or "127.0.0.1",
        u.port or 80,
        lambda i: signer.request(2_000_000 + i, host),
        args.vote_rate,
        args.load_seconds,
        connections=64,
        grace=30,
    )
    asyncio.run(gen.run())
    acks = [s.done - s.due for s in gen.results if 200 <= s.status < 300]
    # Unanswered requests count as infinitely late in the percentiles.
    late = acks + [float("inf")] * gen.unanswered
    out["load_offered"] = len(gen.results) + gen.failures + gen.unanswered
    out["load_acked"] = len(acks)
    out["load_unanswered_after_30s"] = gen.unanswered
    out["load_ack_p50_ms"] = 1000 * percentile(late, 50)
    out["load_ack_p99_ms"] = 1000 * percentile(late, 99)
    if prof is not None:
        out["profile_fanout"] = prof.summary()
        print(out["profile_fanout"])
    log(
        f"  acks while connected: p50 {out['load_ack_p50_ms']:.0f} ms, "
        f"p99 {out['load_ack_p99_ms']:.0f} ms"
    )
    t2 = time.monotonic()
    fleet.all("close", "main")
    out["close_all_s"] = time.monotonic() - t2
    return out


def bare_round(fleet: Fleet, args: argparse.Namespace) -> dict[str, Any]:
    base, proc = start_bare(broadcast=True)
    try:
        return measure(fleet, base, proc, Signer(bare_seed(base)), "bare", args, None)
    finally:
        proc.stop()


def ours_round(fleet: Fleet, url: str, r: int, args: argparse.Namespace) -> dict[str, Any]:
    stack = start_stack(url)
    try:
        seeded = seed_session(stack, f"audience{r}")
        profile = "web-audience" if args.profile and r == 0 else None
        return measure(fleet, stack.base, stack.web, Signer(seeded), seeded.login, args, profile)
    finally:
        stack.stop()


KEYS = (
    "connect_s",
    "vote_to_all_p50_ms",
    "vote_to_all_max_ms",
    "churn_cpu_ms_per_connect_disconnect",
    "churn_frames_per_standing_client",
    "load_ack_p50_ms",
    "load_ack_p99_ms",
    "rss_kb_per_client",
    "web_cpu_s_per_vote_to_all",
    "clients_cpu_s_per_vote_to_all",
    "connect_clients_cpu_share",
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="1,000 clients, 1 round")
    ap.add_argument("--clients", type=int, default=10_000)
    ap.add_argument("--procs", type=int, default=4, help="client processes")
    ap.add_argument("--concurrency", type=int, default=50, help="connects at once per process")
    ap.add_argument("--votes", type=int, default=3, help="single votes timed per round")
    ap.add_argument("--churn", type=int, default=200, help="streams opened and closed")
    ap.add_argument("--vote-rate", type=float, default=100)
    ap.add_argument("--load-seconds", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="py-spy the web process (round 1)")
    args = ap.parse_args()
    if args.quick:
        args.clients, args.load_seconds, args.churn = 1000, 5, 100
    limit = raise_fd_limit()
    if limit < args.clients + 1000:
        raise SystemExit(f"the open-file limit is {limit}: too low for {args.clients} clients")
    fleet = Fleet(args.procs)
    bare: list[dict[str, Any]] = []
    ours: list[dict[str, Any]] = []
    try:
        with fresh_database("audience") as url:
            for r in range(args.rounds):
                log(f"round {r + 1}/{args.rounds}: bare sse-starlette broadcast, {args.clients}")
                bare.append(bare_round(fleet, args))
                log(f"round {r + 1}/{args.rounds}: serve + worker, {args.clients} clients")
                ours.append(ours_round(fleet, url, r, args))
    finally:
        fleet.close()
    summary: dict[str, Any] = {}
    for k in KEYS:
        summary[f"ours_{k}"] = median([o[k] for o in ours])
        summary[f"bare_{k}"] = median([b[k] for b in bare])
    summary["connect_ratio_to_bare"] = median(
        [o["connect_s"] / b["connect_s"] for b, o in zip(bare, ours, strict=True)]
    )
    summary["vote_max_ratio_to_bare"] = median(
        [o["vote_to_all_max_ms"] / b["vote_to_all_max_ms"] for b, o in zip(bare, ours, strict=True)]
    )
    emit(
        "audience",
        {
            "mode": "quick" if args.quick else "full",
            "clients": args.clients,
            "procs": args.procs,
            "summary": summary,
            "bare": bare,
            "ours": ours,
        },
    )


if __name__ == "__main__":
    main()
