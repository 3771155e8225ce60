"""What the bot says in chat (issue 11 item 6): in the session's language, with the scale and
how to vote, each track's result when its votes close, and the album's result at the stop."""

from __future__ import annotations

from typing import Any

import pytest

from premiere_ecoute.sessions import commands as cmd
from tests.support.sessions import Cast, apply, ballot, move, prepared_and_started, stop, window


def said(memory_ports: Any) -> list[str]:
    return [text for _, text in memory_ports.chat.sent]


@pytest.mark.parametrize(
    ("scale", "vote_mode", "expected"),
    [
        ("1-5", "chat", "Rate it in chat: type 1–5 (for example 5)."),
        ("smash-pass", "chat", "Rate it in chat: type smash / pass (for example smash)."),
        (("bad", "ok", "great"), "poll", "Vote in the Twitch poll: bad / ok / great."),
        ("1-5", "both", "Rate it in chat or in the Twitch poll: 1–5."),
    ],
)
async def test_the_start_states_the_scale_and_how_to_vote(
    container: Any, cast: Cast, memory_ports: Any, scale: Any, vote_mode: str, expected: str
) -> None:
    await prepared_and_started(container, cast.streamer, scale=scale, vote_mode=vote_mode)

    assert said(memory_ports) == [
        f"Listening session started! Now playing: Morning Static. {expected}"
    ]


async def test_results_of_each_track_and_of_the_album_in_french(
    container: Any, cast: Cast, memory_ports: Any, fake_clock: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer, language="fr")
    now = fake_clock.now
    await apply(container, session_id, [ballot("v1", "7", now()), ballot("v2", "8", now())])
    fake_clock.advance(10)
    await window(container, cast.streamer, session_id, open=False)  # first result
    fake_clock.advance(10)
    await move(container, cast.streamer, session_id, "next")  # closed already: no result
    fake_clock.advance(1)
    await apply(container, session_id, [ballot("v1", "3", now())])
    fake_clock.advance(10)
    await move(container, cast.streamer, session_id, "next")  # second result
    fake_clock.advance(10)
    await stop(container, cast.streamer, session_id)  # nobody rated track 3: album only

    assert said(memory_ports) == [
        "Session d’écoute lancée ! En cours : Morning Static."
        " Notez dans le chat : tapez 0–10 (par exemple 10).",
        "Votes clos pour Morning Static : note du chat 7,5 (2 votes).",
        "En cours : Glass Harbour. Notez dans le chat : tapez 0–10 (par exemple 10).",
        "Votes clos pour Glass Harbour : note du chat 3,0 (1 vote).",
        "En cours : Paper Lanterns. Notez dans le chat : tapez 0–10 (par exemple 10).",
        "Session terminée ! Note de l’album par le chat : 5,3. 3 votes, 2 votants."
        " Meilleure piste : Morning Static (7,5). Merci d’avoir écouté !",
    ]


async def test_italian_and_an_album_without_votes(
    container: Any, cast: Cast, memory_ports: Any
) -> None:
    session_id = await prepared_and_started(container, cast.streamer, language="it")
    await stop(container, cast.streamer, session_id)

    assert said(memory_ports)[-1] == (
        "Sessione finita! Nessun voto questa volta. Grazie per l’ascolto!"
    )


async def test_the_language_is_a_setting_of_the_session(container: Any, cast: Cast) -> None:
    with pytest.raises(Exception, match="language must be one of en, fr, it"):
        cmd.PrepareSession(user_id=cast.streamer.id, album="x", language="de").validate()
