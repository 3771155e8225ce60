from __future__ import annotations

import datetime as dt

import httpx
import pytest

from premiere_ecoute.apis.spotify import parser


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1997", dt.date(1997, 1, 1)),
        ("1997-06", dt.date(1997, 6, 1)),
        ("1997-06-16", dt.date(1997, 6, 16)),
        ("", None),
        ("soon", None),
    ],
)
def test_release_dates_with_missing_parts_start_on_the_first(
    raw: str, expected: dt.date | None
) -> None:
    assert parser.parse_release_date(raw) == expected


def test_cover_prefers_the_image_closest_to_300_px() -> None:
    images = [
        {"url": "big", "width": 640, "height": 640},
        {"url": "mid", "width": 320, "height": 320},
        {"url": "small", "width": 64, "height": 64},
    ]
    assert parser.pick_cover(images) == "mid"


def test_cover_falls_back_to_the_first_image_without_sizes() -> None:
    assert parser.pick_cover([{"url": "a"}, {"url": "b"}]) == "a"
    assert parser.pick_cover([]) is None


def test_playlist_items_skip_episodes_local_files_and_removed_tracks() -> None:
    page = {
        "total": 5,
        "items": [
            {"is_local": False, "item": {"id": "t1", "name": "One", "type": "track"}},
            {"is_local": False, "item": {"id": "e1", "name": "Pod", "type": "episode"}},
            {"is_local": True, "item": {"id": "l1", "name": "Local", "type": "track"}},
            {"is_local": False, "item": None},
            {"is_local": False, "track": {"id": "t2", "name": "Two", "type": "track"}},
        ],
    }
    tracks, seen, total = parser.parse_playlist_items(page, start_position=10)
    assert [(t.spotify_id, t.track_number) for t in tracks] == [("t1", 11), ("t2", 12)]
    assert (seen, total) == (5, 5)


def test_playback_state_reads_device_context_and_item() -> None:
    body = {
        "device": {"id": "d1", "name": "Desk", "type": "Computer", "is_active": True},
        "context": {"uri": "spotify:album:abc"},
        "item": {"id": "t9", "duration_ms": 200_000},
        "progress_ms": 1234,
        "is_playing": True,
        "shuffle_state": False,
        "repeat_state": "context",
    }
    state = parser.parse_playback_state(body)
    assert state.device is not None and state.device.name == "Desk"
    assert (state.context_uri, state.track_spotify_id) == ("spotify:album:abc", "t9")
    assert (state.progress_ms, state.duration_ms, state.repeat) == (1234, 200_000, "context")


def test_error_reason_is_read_from_the_error_object() -> None:
    response = httpx.Response(
        404, json={"error": {"status": 404, "message": "No device", "reason": "NO_ACTIVE_DEVICE"}}
    )
    assert parser.parse_error(response) == ("No device", "NO_ACTIVE_DEVICE")
    assert parser.parse_error(httpx.Response(502, text="<html>bad gateway")) == ("", None)
