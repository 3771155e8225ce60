"""The recap card (issue 11 item 7): the album's cover from its stored URL (a record sleeve
only when there is none or it cannot be read), and long titles that fit instead of being cut."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image, ImageDraw

from premiere_ecoute.web.routes.session_recap import (
    RecapLabels,
    draw_recap,
    fetch_cover,
    title_lines,
)

LABELS = RecapLabels("Chat", "Streamer", "votes", "voters", "Top", "Premiere Ecoute")
REPORT: dict[str, Any] = {
    "scale": {"kind": "numeric", "options": [str(n) for n in range(11)]},
    "viewer_score": 6.75,
    "streamer_score": None,
    "votes": 3,
    "voters": 2,
    "tracks": [],
}


def red_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 640), (220, 20, 20)).save(out, format="PNG")
    return out.getvalue()


def pixel(png: bytes, xy: tuple[int, int]) -> tuple[int, ...]:
    with Image.open(io.BytesIO(png)) as card:
        return tuple(card.convert("RGB").getpixel(xy))  # type: ignore[arg-type]


def test_the_card_shows_the_cover_when_there_is_one() -> None:
    source = {"name": "Harbour Lights", "artist": "The Quiet Engines"}

    with_cover = draw_recap(source, "streamerone", REPORT, LABELS, red_png())
    without = draw_recap(source, "streamerone", REPORT, LABELS, None)
    unreadable = draw_recap(source, "streamerone", REPORT, LABELS, b"<svg/>")

    assert pixel(with_cover, (120, 120)) == (220, 20, 20)
    assert pixel(without, (120, 120)) != (220, 20, 20)
    assert pixel(unreadable, (120, 120)) == pixel(without, (120, 120))  # the sleeve


def test_a_long_title_shrinks_then_takes_two_lines_without_losing_words() -> None:
    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    short, short_face = title_lines(draw, "Harbour Lights", 670)
    medium, medium_face = title_lines(draw, "Harbour Lights at Dusk, Live", 670)
    title = "Harbour Lights at Dusk and the Long Way Home, Live"
    long, long_face = title_lines(draw, title, 670)
    endless, _ = title_lines(draw, " ".join([title] * 3), 670)

    assert short == ["Harbour Lights"] and getattr(short_face, "size", 0) == 52
    assert len(medium) == 1 and getattr(medium_face, "size", 0) < 52
    assert len(long) == 2 and " ".join(long) == title  # every word kept
    assert all(draw.textlength(line, font=long_face) <= 670 for line in long)
    assert len(endless) == 2 and endless[1].endswith("…")


async def test_the_cover_is_fetched_from_its_url_once_and_refused_gracefully() -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        if request.url.path.endswith("missing.jpg"):
            return httpx.Response(404)
        return httpx.Response(200, content=red_png())

    transport = httpx.MockTransport(answer)
    first = await fetch_cover("https://covers.example/a.jpg", transport)
    again = await fetch_cover("https://covers.example/a.jpg", transport)
    missing = await fetch_cover("https://covers.example/missing.jpg", transport)
    local = await fetch_cover("file:///etc/passwd", transport)

    assert first == again == red_png()
    assert calls == ["https://covers.example/a.jpg", "https://covers.example/missing.jpg"]
    assert missing is None and local is None
