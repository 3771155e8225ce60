"""Honest scores on hand-built reports, with exact expected values."""

import math

import pytest

from premiere_ecoute.sessions.scores.honest import (
    Prior,
    bayesian_average,
    default_prior,
    distribution_figures,
    honest_figures,
    normalised_total,
    pearson,
    prior_from_totals,
    scale_family,
)
from premiere_ecoute.sessions.scores.report import ReportState, TrackRef
from premiere_ecoute.sessions.scores.scale import Scale

from .test_report import ALBUM, worked_example

ZERO_TEN = Scale.parse("0-10")
SIX = Prior(mean=0.6)  # an instance whose 0-10 ratings average 6


def test_worked_example_track_figures() -> None:
    report = worked_example().to_report(1, "stopped", ALBUM)
    fig = honest_figures(report, SIX)
    t1, t2, t3 = fig["tracks"]["101"], fig["tracks"]["102"], fig["tracks"]["103"]
    # track 1: 8, 6, 7, 5, 5, 8, 8, 8, 10
    assert t1["ratings"] == 9 and t1["voters"] == 3
    assert t1["mean"] == 65 / 9
    assert t1["median"] == 8.0
    assert t1["std"] == pytest.approx(math.sqrt(194) / 9, abs=1e-12)
    assert t1["divisiveness"] == pytest.approx(math.sqrt(194) / 45, abs=1e-12)
    assert t1["bayesian"] == pytest.approx(125 / 19, abs=1e-12)
    assert t1["distribution"] == {
        **dict.fromkeys(ZERO_TEN.options, 0),
        "5": 2,
        "6": 1,
        "7": 1,
        "8": 4,
        "10": 1,
    }
    assert t1["modal"] == "8" and t1["modal_share"] == 4 / 9
    # track 2: 9, 5, 8, 6, 9, 9, 10, 10
    assert t2["mean"] == 8.25 and t2["median"] == 9.0
    assert t2["std"] == pytest.approx(math.sqrt(47) / 4, abs=1e-12)
    assert t2["bayesian"] == pytest.approx(7.0, abs=1e-12)
    # track 3: nobody rated it
    assert t3["ratings"] == 0 and t3["mean"] is None and t3["median"] is None
    assert t3["std"] is None and t3["divisiveness"] is None and t3["rank"] is None
    assert t3["bayesian"] == 6.0  # only the prior
    # ranked by Bayesian average: 7.0 before 6.58
    assert fig["ranking"] == [102, 101]
    assert (t2["rank"], t1["rank"]) == (1, 2)
    assert fig["ranked_by"] == "bayesian"
    assert fig["prior"] == {
        "family": "0-10",
        "mean": 0.6,
        "weight": 10.0,
        "ratings": 0,
        "mean_on_scale": 6.0,
        "formula": "(C·m + Σx) / (C + n)",
    }


def test_worked_example_album_divisive_and_agreement() -> None:
    fig = honest_figures(worked_example().to_report(1, "stopped", ALBUM), SIX)
    album = fig["album"]
    assert album["ratings"] == 17 and album["voters"] == 5
    assert album["mean"] == 131 / 17
    assert album["median"] == 8.0
    assert album["bayesian"] == pytest.approx(191 / 27, abs=1e-12)
    assert album["distribution"]["8"] == 5 and album["distribution"]["10"] == 3
    # track 2 (sqrt(47)/20 = 0.343) is more split than track 1 (sqrt(194)/45 = 0.310)
    assert fig["most_divisive"] == {
        "track_id": 102,
        "track_number": 2,
        "name": "Middle",
        "divisiveness": pytest.approx(math.sqrt(47) / 20, abs=1e-12),
        "ratings": 8,
    }
    svc = fig["streamer_vs_chat"]
    assert svc["tracks_compared"] == 2
    assert svc["mean_absolute_difference"] == pytest.approx(109 / 72, abs=1e-12)
    assert svc["agreement"] == pytest.approx(611 / 720, abs=1e-12)
    assert svc["correlation"] is None  # fewer than 3 tracks
    assert [(d["track_id"], d["streamer"], d["chat"]) for d in svc["disagreements"]] == [
        (101, 9.0, 65 / 9),
        (102, 7.0, 8.25),
    ]
    assert svc["disagreements"][0]["difference"] == pytest.approx(16 / 9, abs=1e-12)


def test_three_tens_do_not_outrank_three_hundred_votes_averaging_9_2() -> None:
    refs = [TrackRef(1, "a", 1, "Few tens"), TrackRef(2, "b", 2, "Many nines")]
    state = ReportState(ZERO_TEN)
    for i in range(3):
        state.apply_viewer_rating(1, f"v{i}", "10")
    for i in range(300):  # 60 tens and 240 nines: mean 9.2
        state.apply_viewer_rating(2, f"w{i}", "10" if i < 60 else "9")
    report = state.to_report(1, "stopped", refs)
    assert report["tracks"][0]["viewer_score"] == 10.0  # the plain mean puts it first
    assert report["tracks"][1]["viewer_score"] == pytest.approx(9.2)
    fig = honest_figures(report, default_prior(ZERO_TEN))  # m = 5
    assert fig["tracks"]["1"]["bayesian"] == pytest.approx(80 / 13, abs=1e-12)  # 6.15
    assert fig["tracks"]["2"]["bayesian"] == pytest.approx(2810 / 310, abs=1e-12)  # 9.06
    assert fig["ranking"] == [2, 1]
    fig = honest_figures(report, SIX)
    assert fig["ranking"] == [2, 1]


def test_smash_pass_figures() -> None:
    scale = Scale.parse("smash-pass")
    refs = [TrackRef(1, "a", 1, "Loved"), TrackRef(2, "b", 2, "One fan")]
    state = ReportState(scale)
    for i in range(10):
        state.apply_viewer_rating(1, f"v{i}", "smash" if i < 7 else "pass")
    state.apply_viewer_rating(2, "v0", "smash")
    state.apply_streamer_rating(1, "smash")
    state.apply_streamer_rating(2, "pass")
    fig = honest_figures(state.to_report(1, "stopped", refs), default_prior(scale))
    loved, fan = fig["tracks"]["1"], fig["tracks"]["2"]
    assert loved["first_option"] == "smash" and loved["first_share"] == 0.7
    assert loved["modal"] == "smash" and loved["modal_share"] == 0.7
    assert loved["divisiveness"] == pytest.approx(0.6, abs=1e-12)
    assert loved["bayesian"] == pytest.approx(0.6, abs=1e-12)  # (10·0.5 + 7) / 20
    assert fan["first_share"] == 1.0
    assert fan["bayesian"] == pytest.approx(6 / 11, abs=1e-12)
    assert fig["ranking"] == [1, 2]
    assert "mean" not in loved and "median" not in loved
    assert fig["most_divisive"]["track_id"] == 1  # the other has one rating only
    svc = fig["streamer_vs_chat"]
    assert svc["tracks_compared"] == 2 and svc["matches"] == 1
    assert svc["agreement"] == pytest.approx(0.35, abs=1e-12)  # shares 0.7 and 0
    assert [d["track_id"] for d in svc["disagreements"]] == [2, 1]
    assert svc["disagreements"][0]["difference"] == 1.0
    assert fig["album"]["first_share"] == 8 / 11 and fig["album"]["modal"] == "smash"


def test_custom_word_scale_has_no_family_and_a_uniform_prior() -> None:
    scale = Scale.parse("gold, silver, bronze")
    assert scale_family(scale) is None
    assert default_prior(scale).mean == 1 / 3
    assert prior_from_totals(scale, 50.0, 100).mean == 1 / 3
    fig = distribution_figures(scale, [1, 1, 0], default_prior(scale))
    assert fig["modal"] == "tie" and fig["modal_share"] == 0.5
    assert fig["divisiveness"] == pytest.approx(0.75, abs=1e-12)  # (1 - 1/2) / (1 - 1/3)


def test_families_and_normalised_totals() -> None:
    assert scale_family(ZERO_TEN) == "0-10"
    assert scale_family(Scale.parse("1-5")) == "1-5"
    assert scale_family(Scale.parse("smash-pass")) == "smash-pass"
    assert scale_family(Scale.parse("1,2,3")) == "numeric"
    # 1-5: ratings 1 and 5 and 3 are 0, 1 and 0.5 of the range
    assert normalised_total(Scale.parse("1-5"), [1, 0, 1, 0, 1]) == (1.5, 3)
    assert normalised_total(Scale.parse("smash-pass"), [4, 6]) == (4.0, 10)
    prior = prior_from_totals(Scale.parse("1-5"), 1.5, 3)
    assert prior == Prior(mean=0.5, weight=10.0, ratings=3)


def test_pearson_exact() -> None:
    assert pearson([(1, 1), (2, 3), (3, 2)]) == pytest.approx(0.5, abs=1e-12)
    assert pearson([(1, 2), (2, 4), (3, 6)]) == pytest.approx(1.0, abs=1e-12)
    assert pearson([(1, 2), (2, 2), (3, 2)]) is None  # the chat does not vary
    assert pearson([(1, 2), (2, 3)]) is None


def test_correlation_over_three_tracks() -> None:
    refs = [TrackRef(i, f"s{i}", i, f"T{i}") for i in (1, 2, 3)]
    state = ReportState(ZERO_TEN)
    for track, streamer, chat in ((1, "1", "1"), (2, "2", "3"), (3, "3", "2")):
        state.apply_viewer_rating(track, "v", chat)
        state.apply_streamer_rating(track, streamer)
    svc = honest_figures(state.to_report(1, "active", refs), SIX)["streamer_vs_chat"]
    assert svc["correlation"] == pytest.approx(0.5, abs=1e-12)
    assert svc["mean_absolute_difference"] == pytest.approx(2 / 3, abs=1e-12)
    assert [d["track_id"] for d in svc["disagreements"]] == [2, 3]  # track 1 agrees


def test_bayesian_formula() -> None:
    assert bayesian_average(30.0, 3, 5.0, 10.0) == 80 / 13
    assert bayesian_average(0.0, 0, 5.0, 10.0) == 5.0
    assert bayesian_average(0.0, 0, 5.0, 0.0) == 5.0
