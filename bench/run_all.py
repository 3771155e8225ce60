"""Runs the five benchmarks of the live path and writes ``bench/RESULTS.md``: the machine,
then for each target the medians of the rounds, the baseline measured in the same run, the
ratios, whether the target is met, and (with ``--profile``) what py-spy saw in the web process.

    .venv/bin/python bench/run_all.py [--quick] [--profile] [--only ingest,burst,...]
        [--output bench/RESULTS.md]

Each script can also be run alone (see bench/README.md); ``--from-json`` rewrites the report
from the JSON files the last runs left (in $BENCH_OUT/pe-bench, default /tmp/pe-bench).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import BENCH, OUT, ROOT, log, machine

nan = float("nan")
SCRIPTS = ("ingest", "burst", "audience", "history", "cost_per_vote")
PROFILED = ("ingest", "burst", "audience")


def run(name: str, quick: bool, profile: bool, extra: list[str]) -> float:
    argv = [sys.executable, str(BENCH / f"{name}.py")]
    if quick:
        argv.append("--quick")
    if profile and name in PROFILED:
        argv.append("--profile")
    argv += extra
    log("running", " ".join(argv[1:]))
    t0 = time.monotonic()
    subprocess.run(argv, cwd=ROOT, check=True)
    return time.monotonic() - t0


def fmt(value: Any, digits: int = 1) -> str:
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, int | float):
        if value != value:
            return "n/a"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return str(value)


def met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def table(rows: list[tuple[str, Any, Any, str]]) -> list[str]:
    out = ["| figure | ours | baseline | ratio / target |", "|---|---:|---:|---|"]
    for label, ours, base, note in rows:
        out.append(f"| {label} | {fmt(ours)} | {fmt(base)} | {note} |")
    return out


def profiles(data: dict[str, Any]) -> list[str]:
    found = []
    for row in data.get("ours", []) + [r.get("ours", {}) for r in data.get("rounds", [])]:
        for key in ("profile", "profile_connect", "profile_fanout"):
            if isinstance(row, dict) and row.get(key):
                found.append(row[key])
    if not found:
        return []
    return ["", "```", *"\n\n".join(found).splitlines(), "```"]


def ingest_section(d: dict[str, Any]) -> list[str]:
    s = d["summary"]
    return [
        f"Signed `channel.chat.message` webhooks from wrk ({d['connections']} connections, "
        f"{fmt(d['seconds'], 0)} s per run), one `serve` + one `worker` against the bare HMAC "
        "handler (`bench/bare_app.py`).",
        "",
        *table(
            [
                (
                    "acks/s",
                    s["ours_acks_per_s"],
                    s["bare_acks_per_s"],
                    f"{100 * s['ratio_to_bare']:.0f} % of bare (target ≥ 5,000/s and ≥ 40 %): "
                    + met(s["ours_acks_per_s"] >= 5000 and s["ratio_to_bare"] >= 0.4),
                ),
                ("ack p50 (ms)", s["ours_p50_ms"], s["bare_p50_ms"], ""),
                (
                    "ack p99 (ms)",
                    s["ours_p99_ms"],
                    s["bare_p99_ms"],
                    "target ≤ 100 ms: " + met(s["ours_p99_ms"] <= 100),
                ),
                ("every acknowledged vote counted once", s["exactly_once"], "", ""),
                ("inbox drained after the last ack (s)", s["drain_after_last_ack_s"], "", ""),
                (
                    "server CPU ms per vote (app / PostgreSQL)",
                    f"{s['ours_app_cpu_ms_per_vote']:.3f} / {s['ours_pg_cpu_ms_per_vote']:.3f}",
                    f"{s['bare_cpu_ms_per_ack']:.3f}",
                    "",
                ),
                (
                    "wrk CPU (share of one core)",
                    s["wrk_cpu_share_ours"],
                    s["wrk_cpu_share_bare"],
                    "",
                ),
            ]
        ),
    ]


def burst_section(d: dict[str, Any]) -> list[str]:
    s = d["summary"]
    return [
        f"{fmt(d['rate'], 0)} votes/s offered for {fmt(d['seconds'], 0)} s (open loop), one SSE "
        "client on the session stream; baseline: bare sse-starlette broadcast of the count.",
        "",
        *table(
            [
                ("acks/s achieved", s["ours_acks_per_s"], s["bare_acks_per_s"], ""),
                ("ack p50 (ms)", s["ours_ack_p50_ms"], s["bare_ack_p50_ms"], ""),
                (
                    "ack p99 (ms)",
                    s["ours_ack_p99_ms"],
                    s["bare_ack_p99_ms"],
                    "target ≤ 100 ms: " + met(s["ours_ack_p99_ms"] <= 100),
                ),
                ("vote → SSE p50 (ms)", s["ours_sse_p50_ms"], s["bare_sse_p50_ms"], ""),
                (
                    "vote → SSE p99 (ms)",
                    s["ours_sse_p99_ms"],
                    s["bare_sse_p99_ms"],
                    f"×{s['sse_p99_ratio_to_bare']:.1f} bare; target ≤ 250 ms: "
                    + met(s["ours_sse_p99_ms"] <= 250),
                ),
                ("every acknowledged vote counted once", s["exactly_once"], "", ""),
                ("generator CPU (share of one core)", s["generator_cpu_share"], "", ""),
                (
                    "raw broker message, NOTIFY → LISTEN p50 / p99 (ms)",
                    f"{s.get('broker_notify_p50_ms', nan):.1f} / "
                    f"{s.get('broker_notify_p99_ms', nan):.1f}",
                    "",
                    f"one connection sends at most {fmt(s.get('broker_notify_max_per_s', nan))}/s",
                ),
            ]
        ),
    ]


def audience_section(d: dict[str, Any]) -> list[str]:
    s = d["summary"]
    return [
        f"{d['clients']:,} SSE clients (half overlays, half public pages) over {d['procs']} "
        "client processes, one web process; baseline: bare sse-starlette broadcast.",
        "",
        *table(
            [
                (
                    "connect all (s)",
                    s["ours_connect_s"],
                    s["bare_connect_s"],
                    f"×{s['connect_ratio_to_bare']:.1f} bare",
                ),
                (
                    "one vote to all, p50 (ms)",
                    s["ours_vote_to_all_p50_ms"],
                    s["bare_vote_to_all_p50_ms"],
                    "",
                ),
                (
                    "one vote to all, max (ms)",
                    s["ours_vote_to_all_max_ms"],
                    s["bare_vote_to_all_max_ms"],
                    "target ≤ 1,000 ms: " + met(s["ours_vote_to_all_max_ms"] <= 1000),
                ),
                (
                    "server CPU per connect + disconnect (ms)",
                    s["ours_churn_cpu_ms_per_connect_disconnect"],
                    s["bare_churn_cpu_ms_per_connect_disconnect"],
                    "",
                ),
                (
                    "frames to each standing client during churn",
                    s["ours_churn_frames_per_standing_client"],
                    s["bare_churn_frames_per_standing_client"],
                    "target 0 snapshots: " + met(s["ours_churn_frames_per_standing_client"] == 0),
                ),
                (
                    "webhook ack p50 while connected (ms)",
                    s["ours_load_ack_p50_ms"],
                    s["bare_load_ack_p50_ms"],
                    "",
                ),
                (
                    "webhook ack p99 while connected (ms)",
                    s["ours_load_ack_p99_ms"],
                    s["bare_load_ack_p99_ms"],
                    "target ≤ 250 ms: " + met(s["ours_load_ack_p99_ms"] <= 250),
                ),
                (
                    "CPU s per vote to all: web process / client processes",
                    f"{s.get('ours_web_cpu_s_per_vote_to_all', nan):.2f} / "
                    f"{s.get('ours_clients_cpu_s_per_vote_to_all', nan):.2f}",
                    f"{s.get('bare_web_cpu_s_per_vote_to_all', nan):.2f} / "
                    f"{s.get('bare_clients_cpu_s_per_vote_to_all', nan):.2f}",
                    "",
                ),
                (
                    "client processes' CPU while connecting (cores)",
                    s.get("ours_connect_clients_cpu_share", nan),
                    s.get("bare_connect_clients_cpu_share", nan),
                    "",
                ),
                (
                    "web RSS per client (KiB)",
                    s["ours_rss_kb_per_client"],
                    s["bare_rss_kb_per_client"],
                    "",
                ),
            ]
        ),
    ]


def history_section(d: dict[str, Any]) -> list[str]:
    s = d["summary"]
    h = d["history"]
    return [
        f"The wrk ingest on an empty database and on one holding {d['stored_votes']:,} stored "
        f"votes of {h.get('sessions', '?'):,} other sessions (with their voters, events and "
        f"inbox rows; loaded in {h.get('load_s', 0):.0f} s).",
        "",
        *table(
            [
                (
                    "acks/s (history vs empty)",
                    s["history_acks_per_s"],
                    s["empty_acks_per_s"],
                    f"{100 * s['ratio']:.0f} % (target ≥ 90 %): " + met(s["ratio"] >= 0.9),
                ),
                ("ack p99 (ms)", s["history_p99_ms"], s["empty_p99_ms"], ""),
                ("every acknowledged vote counted once", s["exactly_once"], "", ""),
            ]
        ),
    ]


def cost_section(d: dict[str, Any]) -> list[str]:
    s = d["summary"]
    return [
        "Our ingest (votes counted per second, CPU of serve + worker + their PostgreSQL "
        "backends per vote) against raw inserts of the same rows into a plain table.",
        "",
        "| figure | ours | COPY | executemany, 100 a transaction |",
        "|---|---:|---:|---:|",
        f"| votes (rows) per second | {fmt(s['ours_votes_per_s'])} | "
        f"{fmt(s['copy_rows_per_s'])} | {fmt(s['executemany_rows_per_s'])} |",
        f"| CPU ms per vote (row) | {s['ours_cpu_ms_per_vote']:.3f} | "
        f"{s['copy_cpu_ms_per_row']:.4f} | {s['executemany_cpu_ms_per_row']:.4f} |",
        f"| our rate as a fraction of it | | {100 * s['rate_fraction_of_copy']:.1f} % | "
        f"{100 * s['rate_fraction_of_executemany']:.0f} % |",
        f"| our CPU per vote, times | | ×{s['cpu_times_copy']:.0f} | "
        f"×{s['cpu_times_executemany']:.1f} |",
        "",
        f"Every acknowledged vote counted once: {fmt(s['exactly_once'])}.",
    ]


SECTIONS: dict[str, tuple[str, Callable[[dict[str, Any]], list[str]]]] = {
    "ingest": ("1. Ingest (`bench/ingest.py`)", ingest_section),
    "burst": ("2. Burst (`bench/burst.py`)", burst_section),
    "audience": ("3. Audience (`bench/audience.py`)", audience_section),
    "history": ("4. History (`bench/history.py`)", history_section),
    "cost_per_vote": ("5. Cost per vote (`bench/cost_per_vote.py`)", cost_section),
}


def report(
    names: list[str], quick: bool, took: dict[str, float], also: list[str] | None = None
) -> str:
    m = machine()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    lines = [
        "# Live path benchmarks (issue 9)",
        "",
        f"Written by `bench/run_all.py` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"mode **{'quick' if quick else 'full'}**, code at commit `{commit or '?'}`. "
        "Every figure is the median of the rounds of its script; each round measures ours "
        "and its baseline one after the other, so the ratios compare runs under the same "
        "machine load.",
        "",
        f"Machine: {m['nproc']} cores ({m['cpu']}), {m['ram_gb']} GiB RAM, PostgreSQL "
        f"{m['postgresql']} on the same host over TCP, Python {m['python']}; load average "
        f"when written {m['load_avg']} (the machine is shared: absolute figures move with it).",
    ]
    entries = [(name, OUT / f"{name}.json", "") for name in names]
    for extra in also or []:
        name, _, path = extra.partition("=")
        entries.append((name, Path(path), " — separate run"))
    for name, path, suffix in entries:
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        title, section = SECTIONS[name]
        lines += ["", f"## {title}{suffix}", ""]
        mode = data.get("mode", "?")
        rounds = len(data.get("ours", data.get("rounds", data.get("empty", []))))
        took_s = f", took {took[name] / 60:.1f} min" if name in took else ""
        lines.append(f"_Mode {mode}, {rounds} rounds{took_s}._")
        lines.append("")
        lines += section(data)
        lines += profiles(data)
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--profile", action="store_true", help="py-spy the web process")
    ap.add_argument("--only", default=",".join(SCRIPTS), help="comma-separated scripts")
    ap.add_argument("--output", default=str(BENCH / "RESULTS.md"))
    ap.add_argument("--from-json", action="store_true", help="only rewrite the report")
    ap.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="add the section of another run's JSON (e.g. audience=/tmp/full/audience.json)",
    )
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n]
    took: dict[str, float] = {}
    if not args.from_json:
        for name in names:
            took[name] = run(name, args.quick, args.profile, [])
    Path(args.output).write_text(report(names, args.quick, took, args.also))
    log("wrote", args.output)


if __name__ == "__main__":
    main()
