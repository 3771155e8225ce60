"""Year in review: most generous and harshest ratings, ties going to the latest."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from premiere_ecoute.sessions.charts.queries import _review


def _rating(session_id: int, mine: float, chat: float, day: int) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "channel": "streamerone",
        "album_spotify_id": "alpha",
        "album_name": "Alpha",
        "artist": "A",
        "mine_norm": mine,
        "chat_norm": chat,
        "sent_at": datetime(2026, 3, day, tzinfo=UTC),
    }


def test_ties_for_most_generous_and_harshest_go_to_the_latest_rating() -> None:
    ratings = [
        _rating(1, 1.0, 0.5, 1),
        _rating(2, 0.2, 0.5, 2),
        _rating(3, 1.0, 0.5, 3),  # as generous as session 1, later
        _rating(4, 0.2, 0.5, 4),  # as harsh as session 2, later
        _rating(5, 0.5, 0.5, 5),
    ]
    review = _review(ratings)
    assert review["generous"]["session_id"] == 3
    assert review["harshest"]["session_id"] == 4
    assert review["harshest"]["gap"] < 0 < review["generous"]["gap"]


def test_no_harshest_when_no_rating_is_below_the_chat() -> None:
    review = _review([_rating(1, 0.8, 0.5, 1), _rating(2, 0.5, 0.5, 2)])
    assert review["generous"]["session_id"] == 1
    assert review["harshest"] is None
