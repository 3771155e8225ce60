import pytest

from premiere_ecoute.core.errors import ValidationFailed
from premiere_ecoute.sessions.scores.scale import Scale, check_poll_compatible


def test_default_scale_is_zero_to_ten_numeric() -> None:
    scale = Scale.parse(None)
    assert scale.options == tuple(str(n) for n in range(11))
    assert scale.kind == "numeric"
    assert scale.max_numeric == 10


def test_presets_are_recognised_in_any_case() -> None:
    assert Scale.parse(" 1-5 ").options == ("1", "2", "3", "4", "5")
    assert Scale.parse("1-5").max_numeric == 5
    smash = Scale.parse("Smash-Pass")
    assert smash.options == ("smash", "pass")
    assert smash.kind == "categorical"
    assert smash.max_numeric is None


def test_custom_list_is_trimmed_and_keeps_its_spelling() -> None:
    scale = Scale.parse([" Banger ", "OK", "skip"])
    assert scale.options == ("Banger", "OK", "skip")
    assert scale.kind == "categorical"


def test_comma_separated_text_is_a_custom_list() -> None:
    assert Scale.parse("good, meh ,bad").options == ("good", "meh", "bad")


def test_custom_list_of_integers_is_numeric_with_its_largest_value() -> None:
    scale = Scale.parse(["-2", "0", "3"])
    assert scale.kind == "numeric"
    assert scale.max_numeric == 3
    assert scale.max_option == "3"


def test_a_single_non_integer_option_makes_the_scale_categorical() -> None:
    assert Scale.parse(["1", "2", "2.5"]).kind == "categorical"


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        (["only"], "2 to 10"),
        ([str(n) for n in range(11)], "2 to 10"),
        (["a", " "], "empty"),
        (["Yes", "yes"], "different"),
        (["1", "01"], "different numbers"),
        (["win", "tie", "lose"], "tie"),
        (["x" * 51, "y"], "longer"),
        ("1-10", "Unknown scale"),
        ([1, 2], "text"),
    ],
)
def test_bad_scales_are_refused_with_a_clear_message(spec: object, fragment: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Scale.parse(spec)  # type: ignore[arg-type]
    assert fragment in caught.value.message


def test_json_round_trip_keeps_options_and_kind() -> None:
    scale = Scale.parse(["Banger", "OK", "skip"])
    data = scale.to_json()
    assert data == {"kind": "categorical", "options": ["Banger", "OK", "skip"]}
    assert Scale.from_json(data) == scale


def test_from_json_refuses_a_kind_that_contradicts_the_options() -> None:
    with pytest.raises(ValidationFailed):
        Scale.from_json({"kind": "numeric", "options": ["a", "b"]})


def test_canonical_finds_options_in_any_case() -> None:
    scale = Scale.parse(["Banger", "OK"])
    assert scale.canonical("  banger ") == "Banger"
    assert scale.canonical("nope") is None
    assert scale.index("ok") == 1


def test_small_scales_are_poll_compatible() -> None:
    check_poll_compatible(Scale.parse("1-5"))
    check_poll_compatible(Scale.parse("smash-pass"))


def test_zero_to_ten_has_too_many_options_for_a_poll() -> None:
    with pytest.raises(ValidationFailed, match="2 to 5"):
        check_poll_compatible(Scale.parse("0-10"))


def test_poll_choices_longer_than_25_characters_are_refused() -> None:
    with pytest.raises(ValidationFailed, match="25"):
        check_poll_compatible(Scale.parse(["short", "x" * 26]))
