import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from premiere_ecoute.sessions.scores.chat import VOTE_PREFIXES, classify_chat, parse_vote
from premiere_ecoute.sessions.scores.scale import Scale

ZERO_TEN = Scale.parse("0-10")
ONE_FIVE = Scale.parse("1-5")
SMASH = Scale.parse("smash-pass")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", "7"),
        ("0", "0"),
        ("10", "10"),
        ("!vote 7", "7"),
        ("!rate 7", "7"),
        ("!note 7", "7"),
        ("  !VOTE 7  ", "7"),
        ("7/10", "7"),
        ("!vote 10/10", "10"),
        ("7!!", "7"),
        ("7/10!", "7"),
        ("!note 3/10!!!", "3"),
    ],
)
def test_zero_to_ten_votes_are_accepted(text: str, expected: str) -> None:
    assert parse_vote(text, ZERO_TEN) == expected


@pytest.mark.parametrize(
    "text",
    [
        "11",
        "-1",
        "7.5",
        "7 8",
        "I'd say 7",
        "@bob 7",
        "",
        "!vote",
        "!vote7",
        "!vote  7",
        "7/5",
        "7 /10",
        "7/10/10",
        "!7",
        "07",
        "!vote !rate 7",
    ],
)
def test_other_messages_are_not_votes(text: str) -> None:
    assert parse_vote(text, ZERO_TEN) is None


def test_one_to_five_accepts_out_of_five_only() -> None:
    assert parse_vote("4/5", ONE_FIVE) == "4"
    assert parse_vote("4/10", ONE_FIVE) is None
    assert parse_vote("0", ONE_FIVE) is None


def test_categorical_scale_matches_words_in_any_case() -> None:
    assert parse_vote("smash", SMASH) == "smash"
    assert parse_vote("SMASH!", SMASH) == "smash"
    assert parse_vote("!vote Pass", SMASH) == "pass"
    assert parse_vote("smash/10", SMASH) is None
    assert parse_vote("smash pass", SMASH) is None


def test_custom_option_is_returned_as_spelled_in_the_scale() -> None:
    scale = Scale.parse(["Banger", "Mid", "Skip it"])
    assert parse_vote("!rate skip it", scale) == "Skip it"
    assert parse_vote("BANGER!!", scale) == "Banger"


def test_trailing_punctuation_is_trimmed_the_same_way_on_every_scale() -> None:
    custom = Scale.parse(["bad", "ok", "great"])
    assert parse_vote("Smash!", SMASH) == "smash"
    assert parse_vote("bad.", custom) == "bad"
    assert parse_vote("bad!", custom) == "bad"
    assert parse_vote("Smash.", SMASH) == "smash"
    assert parse_vote("great?!", custom) == "great"
    assert parse_vote("!vote ok...", custom) == "ok"
    assert parse_vote("7.", ZERO_TEN) == "7"
    assert parse_vote("7/10.", ZERO_TEN) == "7"
    assert parse_vote("7.5", ZERO_TEN) is None
    assert parse_vote(".bad", custom) is None


def test_option_ending_with_punctuation_keeps_its_own() -> None:
    scale = Scale.parse(["meh.", "meh"])
    assert parse_vote("meh.", scale) == "meh."
    assert parse_vote("meh..", scale) == "meh."
    assert parse_vote("meh", scale) == "meh"


def test_option_ending_with_bang_keeps_its_own_bang() -> None:
    scale = Scale.parse(["wow", "wow!"])
    assert parse_vote("wow!", scale) == "wow!"
    assert parse_vote("wow", scale) == "wow"


def test_bot_messages_are_ignored_and_broadcaster_messages_are_the_streamers() -> None:
    assert classify_chat("bot", broadcaster_id="b1", bot_user_id="bot") == "ignored"
    assert classify_chat("b1", broadcaster_id="b1", bot_user_id="bot") == "streamer"
    assert classify_chat("v9", broadcaster_id="b1", bot_user_id="bot") == "viewer"
    assert classify_chat("v9", broadcaster_id="b1", bot_user_id=None) == "viewer"


# ---- properties ---------------------------------------------------------------------------

WORDS = st.text(alphabet="abcxyzAB é", min_size=1, max_size=6).map(str.strip).filter(bool)
CUSTOM = st.lists(WORDS, min_size=2, max_size=5, unique_by=str.casefold).filter(
    lambda opts: "tie" not in {o.casefold() for o in opts}
)
SCALES = st.one_of(
    st.sampled_from([ZERO_TEN, ONE_FIVE, SMASH]),
    CUSTOM.map(Scale.parse),
    st.lists(st.integers(-3, 20), min_size=2, max_size=6, unique=True).map(
        lambda ns: Scale.parse([str(n) for n in ns])
    ),
)


def reference_grammar(scale: Scale) -> re.Pattern[str]:
    """The §4.1 grammar written as a regular expression, independently of the parser."""
    options = "|".join(re.escape(o.casefold()) for o in scale.options)
    prefixes = "|".join(re.escape(p) for p in VOTE_PREFIXES)
    suffix = "" if scale.max_option is None else f"(?:/{re.escape(scale.max_option)})?"
    return re.compile(f"(?:{prefixes})?(?P<option>{options}){suffix}[!.?]*")


def reference_parse(text: str, scale: Scale) -> str | None:
    match = reference_grammar(scale).fullmatch(text.strip().casefold())
    return None if match is None else scale.canonical(match["option"])


def fuzz_piece(scale: Scale) -> st.SearchStrategy[str]:
    pieces = [*scale.options, *VOTE_PREFIXES, "!", ".", "?", "/", " ", "10", "5", "7.5", "@bob"]
    return st.one_of(st.sampled_from(pieces), st.text(max_size=3))


@st.composite
def scale_and_noise(draw: st.DrawFn) -> tuple[Scale, str]:
    scale = draw(SCALES)
    parts = draw(st.lists(fuzz_piece(scale), max_size=5))
    text = "".join(parts)
    if draw(st.booleans()):
        text = text.swapcase()
    return scale, text


@st.composite
def scale_and_vote(draw: st.DrawFn) -> tuple[Scale, str, str]:
    scale = draw(SCALES)
    option = draw(st.sampled_from(scale.options))
    prefix = draw(st.sampled_from(("", *VOTE_PREFIXES)))
    suffix = ""
    if scale.max_option is not None and draw(st.booleans()):
        suffix = "/" + scale.max_option
    bangs = "!" * draw(st.integers(0, 3))
    body = prefix + option + suffix + bangs
    cased = "".join(c.upper() if draw(st.booleans()) else c for c in body)
    padding = draw(st.sampled_from(["", " ", "\t", "  \n"]))
    return scale, padding + cased + padding[::-1], option


@given(scale_and_vote())
def test_every_message_built_by_the_grammar_is_accepted(case: tuple[Scale, str, str]) -> None:
    scale, text, option = case
    assert parse_vote(text, scale) == option


@given(scale_and_noise())
def test_parser_accepts_exactly_the_messages_of_the_grammar(case: tuple[Scale, str]) -> None:
    scale, text = case
    # accepted -> matches the grammar with that option; not matching -> rejected
    assert parse_vote(text, scale) == reference_parse(text, scale)


@given(st.text(max_size=40))
def test_random_text_is_a_vote_only_when_it_matches_the_grammar(text: str) -> None:
    assert parse_vote(text, ZERO_TEN) == reference_parse(text, ZERO_TEN)
