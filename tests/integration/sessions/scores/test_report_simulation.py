"""A simulated session of 10,000 chat votes driven through the real functions in batches:
the live report equals an independent oracle, the report recounted from the tables, and the
report replayed from the event log (SPEC §5)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from premiere_ecoute.core.errors import InvalidState
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.queries import prior_for
from premiere_ecoute.sessions.replay import differences, replay_all
from premiere_ecoute.sessions.scores.honest import attach_figures
from premiere_ecoute.sessions.voting import IncomingVote
from tests.support.memory_ports import sample_album
from tests.support.recompute import (
    PollBallots,
    Scale,
    StreamerVote,
    ViewerVote,
    recompute_report,
    recomputed_report,
)
from tests.support.sessions import (
    Cast,
    apply,
    at,
    live_report,
    load,
    move,
    poll_update,
    prepare,
    start,
    stop,
    window,
)

VOTES = 10_000
DELAY = 7
STOP_AT = 720.0
ALBUM = "5imuLaTiOnA1bum0000000"
# (time, command); "to" takes a 1-based position. Track order: 0 1 2 1 3 4 5.
SCRIPT: list[tuple[float, str, int | None]] = [
    (120, "next", None),
    (200, "close", None),
    (220, "open", None),
    (240, "next", None),
    (330, "previous", None),
    (360, "to", 4),
    (440, "close", None),
    (480, "next", None),
    (600, "next", None),
    (STOP_AT, "stop", None),
]
SEGMENTS = [(0.0, 0), (120.0, 1), (240.0, 2), (330.0, 1), (360.0, 3), (480.0, 4), (600.0, 5)]
WINDOWS = {
    0: [(0, 120)],
    1: [(120, 200), (220, 240), (330, 360)],
    2: [(240, 330)],
    3: [(360, 440)],
    4: [(480, 600)],
    5: [(600, math.inf)],
}


def oracle_track(sent: float) -> int | None:
    """SPEC §4.3 written out plainly: the track index a vote sent at ``sent`` counts for."""
    moment = sent - DELAY
    if moment < 0 or moment > STOP_AT:
        return None
    index = [i for start_s, i in SEGMENTS if start_s <= moment][-1]
    return index if any(o <= moment < c for o, c in WINDOWS[index]) else None


@dataclass
class Sim:
    rng: random.Random
    chat: list[tuple[float, float, str, str, bool]] = field(default_factory=list)
    streamer_web: list[tuple[float, str]] = field(default_factory=list)
    poll_totals: dict[str, dict[str, int]] = field(default_factory=dict)


def generate(rng: random.Random, broadcaster: str) -> Sim:
    sim = Sim(rng)
    crowd = [f"v{n:05d}" for n in range(1500)]
    weights = [1, 2, 4, 5, 3]
    times = rng.sample(range(-10_000, 745_000), VOTES)  # distinct milliseconds
    for ms in times:
        sent = ms / 1000
        lag = min(rng.expovariate(1 / 4), 25.0)
        if rng.random() < 0.004:
            sim.chat.append((sent, sent + lag, broadcaster, rng.choice("12345"), True))
        else:
            option = rng.choices("12345", weights)[0]
            sim.chat.append((sent, sent + lag, rng.choice(crowd), option, False))
    return sim


async def drive(c: Any, cast: Cast, session_id: int, sim: Sim, clock: Any) -> dict[str, int]:
    rng = sim.rng
    pending = sorted(sim.chat, key=lambda v: v[1])
    script = list(SCRIPT)
    current_poll = (await load(c, session_id)).current_poll_id
    finals: list[tuple[float, str]] = []
    counts = {"accepted": 0, "rejected": 0, "batches": 0}

    async def bump_poll(poll_id: str, final: bool) -> None:
        totals = sim.poll_totals.setdefault(poll_id, dict.fromkeys("12345", 0))
        if not final:
            for _ in range(rng.randint(1, 6)):
                totals[rng.choices("12345", [1, 1, 2, 3, 3])[0]] += 1
        await poll_update(c, poll_id, dict(totals), final=final)

    tick = 0.0
    while pending or script or finals:
        tick += 2.0
        while script and script[0][0] <= tick:
            when, action, position = script.pop(0)
            clock.set(at(c, when))
            if action in ("open", "close"):
                await window(c, cast.streamer, session_id, open=action == "open")
                continue
            if action == "stop":
                row = await stop(c, cast.streamer, session_id)
            else:
                row = await move(c, cast.streamer, session_id, action, position)
            if current_poll:
                finals.append((when + 3, current_poll))
            current_poll = row.current_poll_id if action != "stop" else None
            # the streamer rates from the control page now and then (server time)
            clock.advance(rng.uniform(8, 30))
            value = rng.choice("12345")
            try:
                await c.bus.execute(
                    cmd.CastVote(
                        session_id=session_id,
                        actor_id=cast.streamer.id,
                        value=value,
                        source="control",
                    )
                )
                sim.streamer_web.append(((clock.now() - at(c, 0)).total_seconds(), value))
            except InvalidState:
                assert oracle_track((clock.now() - at(c, 0)).total_seconds()) is None
        if current_poll and rng.random() < 0.3:
            await bump_poll(current_poll, final=False)
        while finals and finals[0][0] <= tick:
            await bump_poll(finals.pop(0)[1], final=True)
        due = [v for v in pending if v[1] <= tick]
        pending = pending[len(due) :]
        for i in range(0, len(due), 250):
            batch = [
                IncomingVote(
                    viewer_id=viewer,
                    option=option,
                    is_streamer=is_streamer,
                    source="chat",
                    sent_at=at(c, sent),
                )
                for sent, _, viewer, option, is_streamer in due[i : i + 250]
            ]
            rng.shuffle(batch)
            outcome = await apply(c, session_id, batch)
            counts["accepted"] += len(outcome.accepted)
            counts["rejected"] += len(outcome.rejected)
            for _, reason in outcome.rejected:
                counts[reason] = counts.get(reason, 0) + 1
            counts["batches"] += 1
    return counts


def oracle_report(sim: Sim, session_id: int, track_ids: list[int], refs: Any) -> dict[str, Any]:
    viewer: list[ViewerVote] = []
    streamer: list[StreamerVote] = []
    for sent, _, who, option, is_streamer in sim.chat:
        index = oracle_track(sent)
        if index is None:
            continue
        order = round(sent * 1000)
        if is_streamer:
            streamer.append(StreamerVote(track_ids[index], option, order))
        else:
            viewer.append(ViewerVote(track_ids[index], who, option, order))
    for sent, option in sim.streamer_web:
        index = oracle_track(sent)
        assert index is not None
        streamer.append(StreamerVote(track_ids[index], option, round(sent * 1000)))
    poll_tracks = {f"poll-{n + 1}": track_ids[i] for n, (_, i) in enumerate(SEGMENTS)}
    ballots = [
        PollBallots(poll_tracks[p], p, {k: v for k, v in totals.items() if v}, 0)
        for p, totals in sim.poll_totals.items()
    ]
    return recompute_report(
        session_id=session_id,
        status="stopped",
        scale=Scale.parse("1-5"),
        tracks=refs,
        viewer_votes=viewer,
        streamer_votes=streamer,
        poll_ballots=ballots,
    )


async def test_ten_thousand_votes_live_equals_oracle_recount_and_replay(
    container: Any, cast: Cast, memory_ports: Any, fake_clock: Any
) -> None:
    memory_ports.catalog.albums[ALBUM] = sample_album(ALBUM, tracks=6)
    session_id = await prepare(
        container, cast.streamer, album=ALBUM, scale="1-5", vote_mode="both", stream_delay_s=DELAY
    )
    await start(container, cast.streamer, session_id)
    sim = generate(random.Random(20261123), cast.streamer.twitch_user_id or "")
    counts = await drive(container, cast, session_id, sim, fake_clock)

    assert counts["accepted"] + counts["rejected"] == VOTES
    assert counts["batches"] > 100
    for reason in ("before_start", "after_stop", "window_closed", "superseded"):
        assert counts.get(reason, 0) > 0, reason
    live = await live_report(container, session_id)
    row = await load(container, session_id)
    from premiere_ecoute.sessions.repository import track_refs

    async with container.db.session() as s:
        refs = await track_refs(s, row)
        recounted = await recomputed_report(s, session_id)
        replayed = await replay_all(s, container.store, session_id)
        prior = await prior_for(s, Scale.parse("1-5"))
    # the oracle's counts, with the honest figures computed from them
    expected = attach_figures(oracle_report(sim, session_id, row.track_ids, refs), prior)
    assert differences(live, expected) == []
    assert differences(live, recounted) == []
    assert replayed == {session_id: []}
    assert live["votes"] > 5_000 and live["poll_votes"] > 100
    assert live["tracks_rated"] == 6 and live["streamer_score"] is not None
