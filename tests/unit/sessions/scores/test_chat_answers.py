"""Chat commands: which lines ask, and what the bot answers (exact texts, English)."""

import pytest

from premiere_ecoute.sessions.scores.chat import parse_command, parse_vote
from premiere_ecoute.sessions.scores.chat_answers import (
    answer_myvote,
    answer_score,
    answer_top,
    number,
)
from premiere_ecoute.sessions.scores.honest import Prior, attach_figures
from premiere_ecoute.sessions.scores.report import ReportState, TrackRef
from premiere_ecoute.sessions.scores.scale import Scale

from .test_report import ALBUM, worked_example


def english(text: str) -> str:
    return text


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("!score", "score"),
        ("  !SCORE  ", "score"),
        ("!score please", "score"),
        ("!myvote", "myvote"),
        ("!MyVote now", "myvote"),
        ("!top", "top"),
        ("!top3", None),
        ("!top!", None),
        ("score", None),
        ("!vote 7", None),
        ("@bot !score", None),
        ("", None),
    ],
)
def test_which_lines_are_commands(text: str, command: str | None) -> None:
    assert parse_command(text) == command


def test_a_scale_option_that_looks_like_a_command_stays_a_vote() -> None:
    scale = Scale.parse(["!top", "meh"])
    assert parse_vote("!top", scale) == "!top"  # the ingest reads votes first


def _report() -> dict:
    return attach_figures(worked_example().to_report(1, "active", ALBUM), Prior(mean=0.6))


def test_score_answer_on_the_worked_example() -> None:
    # track 101: chat 65/9 = 7.22 from 9 votes, Bayesian 125/19 = 6.58, streamer 9;
    # album: chat 7.7361, streamer 8
    assert answer_score(_report(), 101, english, "en") == (
        "“Opening”: chat 7.2 (9 votes, Bayesian 6.6), streamer 9.0 · album: chat 7.7, streamer 8.0"
    )
    # an unrated track: no Bayesian figure to boast about
    assert answer_score(_report(), 103, english, "en") == (
        "“Closing”: chat – (0 votes, Bayesian –), streamer – · album: chat 7.7, streamer 8.0"
    )
    assert answer_score(_report(), 999, english, "en") is None


def test_top_answer_ranks_by_bayesian_average() -> None:
    # track 102: (60 + 66) / 18 = 7.0 ; track 101: 6.58
    assert answer_top(_report(), english, "en") == (
        "Top so far (Bayesian average): 1. Middle (7.0) · 2. Opening (6.6)"
    )
    empty = attach_figures(
        ReportState(Scale.parse("0-10")).to_report(1, "active", ALBUM), Prior(0.5)
    )
    assert answer_top(empty, english, "en") == "No track has been rated yet."


def test_myvote_answers() -> None:
    assert answer_myvote("Alice", "Opening", "8", english) == "@Alice your rating of “Opening”: 8"
    assert answer_myvote("Bob", "Opening", None, english) == (
        "@Bob you have not rated “Opening” yet"
    )


def test_smash_pass_answers() -> None:
    scale = Scale.parse("smash-pass")
    refs = [TrackRef(1, "a", 1, "Loved"), TrackRef(2, "b", 2, "Skipped")]
    state = ReportState(scale)
    for i in range(4):
        state.apply_viewer_rating(1, f"v{i}", "smash" if i < 3 else "pass")
    state.apply_viewer_rating(2, "v0", "pass")
    state.apply_streamer_rating(1, "smash")
    report = attach_figures(state.to_report(1, "active", refs), Prior(mean=0.5))
    assert answer_score(report, 1, english, "en") == (
        "“Loved”: chat smash (4 votes, 75 % “smash”), streamer smash · "
        "album: chat smash, streamer smash"
    )
    # shrunk shares: (5 + 3) / 14 = 57 %, (5 + 0) / 11 = 45 %
    assert answer_top(report, english, "en") == (
        "Top so far (share of “smash”): 1. Loved (57 %) · 2. Skipped (45 %)"
    )


def test_numbers_as_each_language_writes_them() -> None:
    assert [number(7.25, loc) for loc in ("en", "fr", "it")] == ["7.3", "7,3", "7,3"]
    assert number(None, "en") == "–"
    assert number(1234.5, "fr", 0) == "1\u202f235"


def test_long_names_are_cut_so_an_answer_fits_one_message() -> None:
    answer = answer_myvote("x" * 30, "y" * 400, "8", english)
    assert "y" * 59 + "…" in answer and len(answer) < 500
