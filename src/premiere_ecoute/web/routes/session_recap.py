"""The shareable recap card of a session: a 1200x630 PNG (the size social networks preview),
drawn with Pillow from the report and the album's cover (fetched from its stored URL; a
record sleeve stands in when there is none or it cannot be read). Long titles shrink, then
take two lines, before an ellipsis cuts them."""

from __future__ import annotations

import hashlib
import io
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx
import structlog
from PIL import Image, ImageDraw, ImageFont, ImageOps

from premiere_ecoute.core.display import rounded_score

log = structlog.get_logger(__name__)

WIDTH, HEIGHT = 1200, 630
BG_TOP, BG_BOTTOM = (15, 17, 21), (34, 22, 58)
TEXT, MUTED, ACCENT = (232, 234, 240), (154, 163, 178), (183, 148, 255)
FONT_FILES = {
    True: ("DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    False: ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
}
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
COVER_BOX = (60, 60, 420, 420)
COVER_MAX_BYTES = 5_000_000
COVER_TIMEOUT_S = 3.0
TITLE_SIZES = (52, 46, 40, 34)  # the largest that fits on one line, else two lines of the last
_covers: OrderedDict[str, bytes | None] = OrderedDict()  # a few recent covers, by URL


@dataclass(frozen=True)
class RecapLabels:
    chat: str
    streamer: str
    votes: str
    voters: str
    top: str
    brand: str


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> Font:
    for name in FONT_FILES[bold]:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def fmt_score(value: Any) -> str:
    """The pages' rule (``core.display``): one decimal, half up."""
    if value is None:
        return "–"
    if isinstance(value, int | float):
        return str(rounded_score(value))
    return str(value)


async def fetch_cover(
    url: str | None, transport: httpx.AsyncBaseTransport | None = None
) -> bytes | None:
    """The cover's bytes from its stored URL (http or https, at most 5 MB, 3 s), or None;
    remembered for the next cards of the same album."""
    if not url or not url.startswith(("https://", "http://")):
        return None
    if url in _covers:
        _covers.move_to_end(url)
        return _covers[url]
    data: bytes | None = None
    try:
        async with httpx.AsyncClient(transport=transport, timeout=COVER_TIMEOUT_S) as http:
            answer = await http.get(url, follow_redirects=True)
        if answer.status_code == 200 and len(answer.content) <= COVER_MAX_BYTES:
            data = answer.content
    except httpx.HTTPError as exc:
        log.info("recap.cover.unavailable", url=url, error=str(exc))
    _covers[url] = data
    while len(_covers) > 32:
        _covers.popitem(last=False)
    return data


def _cover(image: Image.Image, data: bytes | None, box: tuple[int, int, int, int]) -> bool:
    """Paste the cover (cropped to a square) into ``box``; False when it cannot be read."""
    if not data:
        return False
    try:
        with Image.open(io.BytesIO(data)) as opened:
            cover = ImageOps.fit(opened.convert("RGB"), (box[2] - box[0], box[3] - box[1]))
    except (OSError, ValueError, Image.DecompressionBombError):
        return False
    mask = Image.new("L", cover.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, *cover.size), radius=18, fill=255)
    image.paste(cover, box[:2], mask)
    return True


def title_lines(draw: ImageDraw.ImageDraw, text: str, width: int) -> tuple[list[str], Font]:
    """The title on one line at the largest size that fits, else on two lines at the
    smallest size (cut with an ellipsis only past that)."""
    for size in TITLE_SIZES:
        if draw.textlength(text, font=font(size, True)) <= width:
            return [text], font(size, True)
    face = font(TITLE_SIZES[-1], True)
    words, first = text.split(), ""
    for index, word in enumerate(words):
        candidate = f"{first} {word}".strip()
        if draw.textlength(candidate, font=face) > width:
            if not first:  # one very long word: cut it
                return [fit(draw, text, face, width)], face
            return [first, fit(draw, " ".join(words[index:]), face, width)], face
        first = candidate
    return [first], face


def fit(draw: ImageDraw.ImageDraw, text: str, face: Font, width: int) -> str:
    """``text`` cut with an ellipsis so that it fits in ``width`` pixels."""
    if draw.textlength(text, font=face) <= width:
        return text
    while text and draw.textlength(text + "…", font=face) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def accent_of(name: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(name.encode()).digest()
    return (90 + digest[0] % 130, 60 + digest[1] % 110, 140 + digest[2] % 115)


def _background() -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), BG_TOP)
    draw = ImageDraw.Draw(image)
    for y in range(HEIGHT):
        t = y / (HEIGHT - 1)
        color = tuple(round(a + (b - a) * t) for a, b in zip(BG_TOP, BG_BOTTOM, strict=True))
        draw.line([(0, y), (WIDTH, y)], fill=color)
    return image


def _disc(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], color: Any) -> None:
    """A record sleeve with its disc, coloured after the album name, in place of the cover."""
    x0, y0, x1, y1 = box
    draw.rounded_rectangle(box, radius=18, fill=color)
    cx, cy, r = (x0 + x1) // 2, (y0 + y1) // 2, (x1 - x0) // 2 - 30
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(18, 18, 22))
    for ring in range(r - 12, r // 3, -14):
        draw.ellipse((cx - ring, cy - ring, cx + ring, cy + ring), outline=(40, 40, 48), width=2)
    label = r // 3
    draw.ellipse((cx - label, cy - label, cx + label, cy + label), fill=color)
    draw.ellipse((cx - 6, cy - 6, cx + 6, cy + 6), fill=(18, 18, 22))


def _bars(
    draw: ImageDraw.ImageDraw, report: dict[str, Any], box: tuple[int, int, int, int]
) -> None:
    """Viewer score of every track, in album order (numeric scales)."""
    options = report["scale"]["options"]
    if report["scale"]["kind"] != "numeric" or not report["tracks"]:
        return
    top = max(int(o) for o in options)
    bottom = min(0, *(int(o) for o in options))
    x0, y0, x1, y1 = box
    step = (x1 - x0) / len(report["tracks"])
    for i, track in enumerate(report["tracks"]):
        score = track["viewer_score"]
        left = round(x0 + i * step + step * 0.15)
        right = max(left + 2, round(x0 + (i + 1) * step - step * 0.15))
        if not isinstance(score, int | float):
            draw.rectangle((left, y1 - 3, right, y1), fill=(60, 64, 76))
            continue
        height = (score - bottom) / max(1, top - bottom) * (y1 - y0)
        draw.rounded_rectangle((left, round(y1 - max(height, 3)), right, y1), radius=3, fill=ACCENT)


def draw_recap(
    source: dict[str, Any],
    login: str,
    report: dict[str, Any],
    labels: RecapLabels,
    cover: bytes | None = None,
) -> bytes:
    image = _background()
    draw = ImageDraw.Draw(image)
    name = source.get("name") or ""
    if not _cover(image, cover, COVER_BOX):
        _disc(draw, COVER_BOX, accent_of(name or login))
    x, width = 470, WIDTH - 470 - 60
    draw.text((x, 62), f"{labels.brand} · {login}".upper(), font=font(22, True), fill=MUTED)
    lines, face = title_lines(draw, name, width)
    y = 100
    for line in lines:
        draw.text((x, y), line, font=face, fill=TEXT)
        y += int(face.size * 1.2) if isinstance(face, ImageFont.FreeTypeFont) else 40
    artist = fit(draw, source.get("artist") or source.get("owner") or "", font(30), width)
    draw.text((x, max(168, y + 4)), artist, font=font(30), fill=MUTED)
    scale = report["scale"]
    suffix = f" / {max(int(o) for o in scale['options'])}" if scale["kind"] == "numeric" else ""
    draw.text((x, 230), labels.chat, font=font(24), fill=MUTED)
    score = fmt_score(report["viewer_score"])
    draw.text((x, 258), score, font=font(96, True), fill=ACCENT)
    after = x + draw.textlength(score, font=font(96, True)) + 8
    draw.text((after, 316), suffix, font=font(36, True), fill=MUTED)
    sx = x + 400
    draw.text((sx, 230), labels.streamer, font=font(24), fill=MUTED)
    draw.text((sx, 258), fmt_score(report["streamer_score"]), font=font(96, True), fill=TEXT)
    counts = f"{report['votes']} {labels.votes} · {report['voters']} {labels.voters}"
    draw.text((x, 380), counts, font=font(28), fill=TEXT)
    rated = [t for t in report["tracks"] if isinstance(t["viewer_score"], int | float)]
    best = sorted(rated, key=lambda t: -t["viewer_score"])[:3]
    if best:
        draw.text((60, 450), labels.top, font=font(22, True), fill=MUTED)
        for i, track in enumerate(best):
            line = f"{i + 1}. {track['name']}"
            y = 482 + i * 40
            draw.text((60, y), fit(draw, line, font(28), 560), font=font(28), fill=TEXT)
            draw.text((640, y), fmt_score(track["viewer_score"]), font=font(28, True), fill=ACCENT)
    _bars(draw, report, (730, 460, WIDTH - 60, 590))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
