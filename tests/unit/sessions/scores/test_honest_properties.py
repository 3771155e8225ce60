"""Properties of the honest scores, checked against the naive computation on the ratings."""

import statistics

from hypothesis import given, settings
from hypothesis import strategies as st

from premiere_ecoute.sessions.scores.honest import (
    Prior,
    bayesian_average,
    distribution_figures,
    honest_figures,
    pearson,
    streamer_vs_chat,
)
from premiere_ecoute.sessions.scores.report import ReportState, TrackRef
from premiere_ecoute.sessions.scores.scale import Scale

NUMERIC = st.sampled_from(
    [Scale.parse("0-10"), Scale.parse("1-5"), Scale.parse(["-2", "-1", "0", "1", "2"])]
)
ANY_SCALE = st.sampled_from(
    [
        Scale.parse("0-10"),
        Scale.parse("1-5"),
        Scale.parse("smash-pass"),
        Scale.parse(["Banger", "ok", "skip"]),
    ]
)
PRIORS = st.builds(Prior, mean=st.floats(0, 1), weight=st.sampled_from([0.0, 1.0, 10.0, 50.0]))


@st.composite
def numeric_distribution(draw: st.DrawFn) -> tuple[Scale, list[int]]:
    scale = draw(NUMERIC)
    counts = draw(
        st.lists(st.integers(0, 40), min_size=len(scale.options), max_size=len(scale.options))
    )
    return scale, counts


@given(numeric_distribution(), PRIORS)
def test_numeric_figures_match_the_ratings(data: tuple[Scale, list[int]], prior: Prior) -> None:
    scale, counts = data
    ratings = [v for v, c in zip(scale.values, counts, strict=True) for _ in range(c)]
    fig = distribution_figures(scale, counts, prior)
    assert fig["ratings"] == len(ratings) == sum(fig["distribution"].values())
    lo, hi = min(scale.values), max(scale.values)
    m = lo + prior.mean * (hi - lo)
    if not ratings:
        assert fig["mean"] is None and fig["median"] is None and fig["std"] is None
        assert abs(fig["bayesian"] - m) < 1e-9
        return
    assert abs(fig["mean"] - statistics.fmean(ratings)) < 1e-9
    assert fig["median"] == statistics.median(ratings)
    assert abs(fig["std"] - statistics.pstdev(ratings)) < 1e-9
    assert -1e-12 <= fig["divisiveness"] <= 1 + 1e-12
    # the Bayesian average lies between the prior and the plain mean
    low, high = sorted((m, fig["mean"]))
    assert low - 1e-9 <= fig["bayesian"] <= high + 1e-9


@given(
    st.integers(1, 9),  # how many votes of 10 the small track gets
    st.floats(0.0, 0.89),  # the instance mean, normalised (any m below 8.9 on 0-10)
)
def test_few_perfect_votes_never_outrank_300_votes_averaging_9_2(few: int, m: float) -> None:
    scale = Scale.parse("0-10")
    refs = [TrackRef(1, "a", 1, "few"), TrackRef(2, "b", 2, "many")]
    state = ReportState(scale, external_voters=True)
    for i in range(few):
        state.apply_viewer_rating(1, f"v{i}", "10")
    state.set_poll_ballots(2, "p", {"10": 60, "9": 240})
    fig = honest_figures(state.to_report(1, "stopped", refs), Prior(mean=m))
    if few <= 3:
        assert fig["ranking"] == [2, 1]
    assert fig["tracks"]["2"]["mean"] == 9.2


@given(st.floats(-10, 10), st.integers(0, 1000), st.floats(-10, 10), st.floats(0, 100))
def test_bayesian_is_a_weighted_mean(mean: float, n: int, m: float, c: float) -> None:
    b = bayesian_average(mean * n, n, m, c)
    if n == 0:
        assert abs(b - m) < 1e-9
    elif c == 0:
        assert abs(b - mean) < 1e-9
    else:
        low, high = sorted((m, mean))
        assert low - 1e-9 <= b <= high + 1e-9


@st.composite
def rated_sessions(draw: st.DrawFn) -> dict:
    scale = draw(ANY_SCALE)
    k = len(scale.options)
    refs = [TrackRef(i, f"s{i}", i, f"T{i}") for i in range(1, draw(st.integers(1, 6)) + 1)]
    state = ReportState(scale)
    for ref in refs:
        for v in range(draw(st.integers(0, 6))):
            option = scale.options[draw(st.integers(0, k - 1))]
            state.apply_viewer_rating(ref.track_id, f"v{v}", option)
        if draw(st.booleans()):
            state.apply_streamer_rating(ref.track_id, scale.options[draw(st.integers(0, k - 1))])
    return state.to_report(1, "stopped", refs)


@settings(max_examples=150)
@given(rated_sessions(), PRIORS)
def test_report_figures_are_consistent(report: dict, prior: Prior) -> None:
    fig = honest_figures(report, prior)
    rated = [t["track_id"] for t in report["tracks"] if t["votes"]]
    assert sorted(fig["ranking"]) == sorted(rated)
    ranks = [fig["tracks"][str(t)]["rank"] for t in fig["ranking"]]
    assert ranks == list(range(1, len(rated) + 1))
    bayes = [fig["tracks"][str(t)]["bayesian"] for t in fig["ranking"]]
    assert bayes == sorted(bayes, reverse=True)
    assert fig["album"]["ratings"] == report["votes"]
    divisive = fig["most_divisive"]
    eligible = [fig["tracks"][str(t["track_id"])] for t in report["tracks"] if t["votes"] >= 3]
    if eligible:
        assert divisive["divisiveness"] == max(f["divisiveness"] for f in eligible)
    else:
        assert divisive is None
    svc = fig["streamer_vs_chat"]
    if svc["tracks_compared"]:
        assert -1e-12 <= svc["agreement"] <= 1 + 1e-12
    else:
        assert svc["agreement"] is None and svc["disagreements"] == []
    diffs = [d["difference"] for d in svc["disagreements"]]
    assert diffs == sorted(diffs, reverse=True) and all(d > 0 for d in diffs)
    # same input, same figures, bit for bit (what replay relies on)
    assert honest_figures(report, prior) == fig


@given(st.lists(st.tuples(st.integers(0, 10), st.integers(0, 10)), max_size=12))
def test_pearson_is_bounded_and_symmetric(pairs: list[tuple[int, int]]) -> None:
    r = pearson([(float(x), float(y)) for x, y in pairs])
    swapped = pearson([(float(y), float(x)) for x, y in pairs])
    if r is None:
        assert swapped is None
    else:
        assert -1 <= r <= 1 and abs(r - swapped) < 1e-9


@given(st.lists(st.integers(0, 10), min_size=1, max_size=8))
def test_a_streamer_who_rates_like_the_chat_agrees_fully(scores: list[int]) -> None:
    scale = Scale.parse("0-10")
    refs = [
        {
            "track_id": i,
            "track_number": i,
            "name": "t",
            "streamer_score": float(s),
            "viewer_score": float(s),
            "distribution": {},
        }
        for i, s in enumerate(scores)
    ]
    svc = streamer_vs_chat(scale, refs)
    assert svc["agreement"] == 1.0 and svc["disagreements"] == []
