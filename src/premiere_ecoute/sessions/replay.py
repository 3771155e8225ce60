"""Rebuild reports from the event log alone and compare them with the stored ones.

Both sides carry their honest figures, computed with the same instance prior (the prior is
the instance's, not the session's: the event log of one session cannot say it), so a
difference in any figure means a difference in the counters it was computed from."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from premiere_ecoute.core.event_store import EventStore
from premiere_ecoute.sessions.models import ListeningSession
from premiere_ecoute.sessions.queries import prior_for, sessions_to_replay
from premiere_ecoute.sessions.repository import track_refs
from premiere_ecoute.sessions.scores import Scale
from premiere_ecoute.sessions.scores.facts import RatingFacts
from premiere_ecoute.sessions.scores.honest import attach_figures
from premiere_ecoute.sessions.voting import load_report


async def replay_session(
    s: AsyncSession, store: EventStore, row: ListeningSession
) -> dict[str, Any]:
    """The report as the events of ``session-<id>`` say it is."""
    scale = Scale.from_json(row.scale)
    facts = RatingFacts()
    for ev in await store.read_stream(s, f"session-{row.id}"):
        p = ev.payload
        if ev.type == "SessionPrepared":
            scale, facts = Scale.from_json(p["scale"]), RatingFacts()
        elif ev.type == "SessionSettingsChanged" and "scale" in p["changes"]:
            scale, facts = Scale.from_json(p["changes"]["scale"]), RatingFacts()
        elif ev.type == "VoteAccepted":
            if p["is_streamer"]:
                facts.streamer[int(p["track_id"])] = p["value"]
            else:
                key = (int(p["track_id"]), str(p["viewer_id"]))
                facts.viewers.pop(key, None)  # the latest rating, in the order it came
                facts.viewers[key] = p["value"]
        elif ev.type == "PollBallotsUpdated":
            facts.polls[(int(p["track_id"]), p["poll_id"])] = dict(p["counts"])
        elif ev.type == "ViewerRatingsErased":
            facts.erase(set(p["viewer_ids"]))
        elif ev.type == "VoterRemoved":  # the streamer removed a troll's ratings
            facts.erase({str(p["viewer_id"])})
    report = facts.report(scale).to_report(row.id, row.status, await track_refs(s, row))
    return attach_figures(report, await prior_for(s, scale))


def differences(stored: Any, rebuilt: Any, path: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(stored, dict) and isinstance(rebuilt, dict):
        for key in sorted(set(stored) | set(rebuilt)):
            out += differences(stored.get(key), rebuilt.get(key), f"{path}.{key}" if path else key)
    elif isinstance(stored, list) and isinstance(rebuilt, list) and len(stored) == len(rebuilt):
        for i, (a, b) in enumerate(zip(stored, rebuilt, strict=True)):
            out += differences(a, b, f"{path}[{i}]")
    elif isinstance(stored, float) and isinstance(rebuilt, float):
        if abs(stored - rebuilt) > 1e-9:
            out.append(f"{path}: stored {stored!r}, rebuilt {rebuilt!r}")
    elif stored != rebuilt:
        out.append(f"{path}: stored {stored!r}, rebuilt {rebuilt!r}")
    return out


async def replay_reports(
    s: AsyncSession, store: EventStore, session_id: int | None = None
) -> dict[int, tuple[list[str], dict[str, Any]]]:
    """Per session: the differences between the stored report and the one rebuilt from the
    event log, and the rebuilt report (with its honest figures)."""
    result: dict[int, tuple[list[str], dict[str, Any]]] = {}
    for row in await sessions_to_replay(s, session_id):
        state = load_report(row)
        stored = attach_figures(
            state.to_report(row.id, row.status, await track_refs(s, row)),
            await prior_for(s, state.scale),
        )
        rebuilt = await replay_session(s, store, row)
        result[row.id] = (differences(stored, rebuilt), rebuilt)
    return result


async def replay_all(
    s: AsyncSession, store: EventStore, session_id: int | None = None
) -> dict[int, list[str]]:
    return {sid: diffs for sid, (diffs, _) in (await replay_reports(s, store, session_id)).items()}


def figures_summary(report: dict[str, Any]) -> list[str]:
    """The honest figures of a report in a few lines (``events replay --figures``)."""
    fig = report["figures"]
    names = {t["track_id"]: t["name"] for t in report["tracks"]}
    by_id = {t["track_id"]: t["figures"] for t in report["tracks"]}
    prior = fig["prior"]
    ranked = " · ".join(f"{names[tid]} {by_id[tid]['bayesian']:.2f}" for tid in fig["ranking"])
    lines = [
        f"ranked by Bayesian average (C = {prior['weight']:g}, m = "
        f"{prior['mean_on_scale']:.2f}): {ranked or 'no rated track'}"
    ]
    divisive = fig["most_divisive"]
    svc = fig["streamer_vs_chat"]
    agreement = "–" if svc["agreement"] is None else f"{svc['agreement']:.2f}"
    lines.append(
        "most divisive: "
        + (f"{divisive['name']} ({divisive['divisiveness']:.2f})" if divisive else "none")
        + f" · streamer vs chat agreement: {agreement} over {svc['tracks_compared']} track(s)"
    )
    return lines
