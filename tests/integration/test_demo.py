"""The demo seed leaves a finished session whose report is consistent everywhere."""

from __future__ import annotations

from typing import Any

from premiere_ecoute.demo import seed
from premiere_ecoute.sessions.queries import report
from premiere_ecoute.sessions.replay import differences, replay_all
from tests.support.recompute import recomputed_report
from tests.support.sessions import load


async def test_demo_seed_creates_a_finished_session_with_a_consistent_report(
    container: Any,
) -> None:
    created = await seed(container, viewers=12)
    session_id = created["session_id"]
    assert created["users"] == ["demostreamer", "demoviewer", "demoadmin", "demobot"]
    row = await load(container, session_id)
    assert row.status == "stopped"
    async with container.db.session() as s:
        live = await report(s, session_id)
        recounted = await recomputed_report(s, session_id)
        replayed = await replay_all(s, container.store)
    assert live["tracks_rated"] == len(row.track_ids)
    assert 6 * len(row.track_ids) <= live["votes"] <= 12 * len(row.track_ids)
    assert live["streamer_score"] is not None
    assert differences(live, recounted) == []
    assert replayed == {session_id: []}
