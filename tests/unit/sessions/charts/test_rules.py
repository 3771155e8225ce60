"""The chart arithmetic on small hand-worked cases."""

from __future__ import annotations

import pytest

from premiere_ecoute.sessions.charts.rules import (
    Moments,
    bayesian,
    divisiveness,
    family_of,
    moments,
    normaliser,
    pearson,
)
from premiere_ecoute.sessions.scores import Scale


def test_families_and_normalised_values() -> None:
    assert family_of(Scale.parse("0-10")) == "0-10"
    assert family_of(Scale.parse("1-5")) == "1-5"
    assert family_of(Scale.parse("smash-pass")) == "smash-pass"
    assert family_of(Scale.parse("1,2,3")) == "custom-numeric"
    assert family_of(Scale.parse("bof,ok,top")) == "custom"
    assert normaliser(Scale.parse("0-10"))["7"] == pytest.approx(0.7)  # type: ignore[index]
    assert normaliser(Scale.parse("1-5")) == {"1": 0, "2": 0.25, "3": 0.5, "4": 0.75, "5": 1}
    assert normaliser(Scale.parse("smash-pass")) == {"smash": 1.0, "pass": 0.0}
    assert normaliser(Scale.parse("-2,0,2")) == {"-2": 0.0, "0": 0.5, "2": 1.0}
    assert normaliser(Scale.parse("bof,ok,top")) is None


def test_moments_of_a_distribution() -> None:
    norm = normaliser(Scale.parse("1-5"))
    assert moments({"1": 1, "2": 0, "3": 2, "4": 0, "5": 1}, norm) == Moments(4, 2.0, 1.5, 2)
    assert moments({"bof": 2, "top": 1}, None) == Moments(3, None, None, 0)
    assert Moments(4, 2.0, 1.5, 2).mean == 0.5


def test_three_tens_do_not_outrank_three_hundred_ratings_averaging_nine_point_two() -> None:
    prior = 0.5
    few = bayesian(3 * 1.0, 3, prior)  # (10·0.5 + 3) / 13
    many = bayesian(300 * 0.92, 300, prior)  # (10·0.5 + 276) / 310
    assert few == pytest.approx(8 / 13)
    assert many == pytest.approx(281 / 310)
    assert many > few
    assert bayesian(0.0, 0, prior) == prior


def test_divisiveness_is_twice_the_standard_deviation() -> None:
    assert divisiveness(2.0, 2.0, 4) == 1.0  # two at 1, two at 0
    assert divisiveness(2.8, 1.96, 4) == pytest.approx(0.0)  # all at 0.7
    assert divisiveness(1.5, 1.25, 3) == pytest.approx(2 * (1.25 / 3 - 0.25) ** 0.5)
    assert divisiveness(0.0, 0.0, 0) == 0.0


def test_pearson_on_hand_worked_pairs() -> None:
    assert pearson([(1, 2), (2, 4), (3, 6)]) == pytest.approx(1.0)
    assert pearson([(1, 3), (2, 2), (3, 1)]) == pytest.approx(-1.0)
    # x = 1,2,3,4; y = 1,3,2,4: sxy = 4, sxx = syy = 5 → 0.8
    assert pearson([(1, 1), (2, 3), (3, 2), (4, 4)]) == pytest.approx(0.8)
    assert pearson([(1, 5), (2, 5), (3, 5)]) is None  # the streamer never varies
    assert pearson([(1, 1)]) is None
