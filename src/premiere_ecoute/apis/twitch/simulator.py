"""A crowd of fake viewers sending signed EventSub chat notifications to a webhook URL.

Used by ``premiere-ecoute simulate chat`` and load tests. The crowd's behaviour (who says what)
is reproducible from ``seed``; message ids are always fresh so a rerun is not deduplicated.
Messages of one viewer are sent one after the other, so their timestamps and arrival order agree.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from premiere_ecoute.apis.twitch.eventsub import envelope
from premiere_ecoute.apis.twitch.eventsub.signing import format_twitch_timestamp

Sampler = Callable[[random.Random], str]

# Scheduling stops this long after ``duration_s`` if the target cannot keep up.
LATE_GRACE_S = 2.0
_ADJECTIVES = ("velvet", "lofi", "midnight", "crimson", "lazy", "neon", "quiet", "brass", "vinyl")
_NOUNS = ("otter", "falcon", "groove", "echo", "pixel", "comet", "walrus", "tempo", "lantern")
_COLORS = ("#1E90FF", "#FF4500", "#2E8B57", "#DAA520", "#9ACD32", "#FF69B4", "#8A2BE2")
_CHATTER = (
    "this bass line though",
    "the drums on this one!!",
    "first time hearing this album",
    "who produced this?",
    "turn it up",
    "that transition was clean",
    "skip skip skip",
    "LUL",
    "the vocals at the end, wow",
    "hello from Lyon",
    "can we get the lyrics",
)


@dataclass(frozen=True)
class CrowdConfig:
    url: str
    secret: str
    broadcaster_id: str
    broadcaster_login: str
    viewers: int = 50
    rate: float = 10.0
    duration_s: float = 10.0
    distribution: str = "uniform"
    options: list[str] = field(default_factory=lambda: [str(n) for n in range(11)])
    chatter_share: float = 0.15
    change_share: float = 0.1
    seed: int | None = None
    concurrency: int = 20


@dataclass
class CrowdResult:
    options: list[str]
    sent: int = 0
    acknowledged: int = 0
    rejected: int = 0
    errors: int = 0
    skipped: int = 0
    votes_sent: int = 0
    # Latest *acknowledged* vote per viewer id.
    latest_votes: dict[str, str] = field(default_factory=dict)

    def expected_distribution(self) -> dict[str, int]:
        """Count per option of the latest votes (every option present), as a report shows it."""
        counts = dict.fromkeys(self.options, 0)
        for option in self.latest_votes.values():
            counts[option] += 1
        return counts


@dataclass(frozen=True)
class Viewer:
    user_id: str
    login: str
    color: str


def parse_distribution(spec: str, options: list[str]) -> Sampler:
    """Sampler for ``uniform``, ``normal:MEAN:SD`` (numeric options) or ``weights:0=1,5=3``.

    Raises ValueError for anything else, with a message fit for the command line.
    """
    kind, _, rest = spec.strip().partition(":")
    if kind == "uniform" and not rest:
        return lambda rng: rng.choice(options)
    if kind == "normal":
        mean_text, _, sd_text = rest.partition(":")
        mean, sd = float(mean_text), float(sd_text)
        if sd < 0:
            raise ValueError("the standard deviation must not be negative")
        numeric = [(float(option), option) for option in options]  # ValueError if categorical

        def normal(rng: random.Random) -> str:
            # Nearest option to the draw: clips to the scale and rounds in one step.
            draw = rng.gauss(mean, sd)
            return min(numeric, key=lambda pair: abs(pair[0] - draw))[1]

        return normal
    if kind == "weights":
        weights = dict.fromkeys(options, 0.0)
        for item in rest.split(","):
            option, _, weight = item.partition("=")
            if option.strip() not in weights:
                raise ValueError(f"{option.strip()!r} is not one of the options")
            weights[option.strip()] = float(weight)
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError("weights must be non-negative with a positive total")
        population, cumulative = list(weights), list(weights.values())
        return lambda rng: rng.choices(population, weights=cumulative)[0]
    raise ValueError(f"unknown distribution {spec!r}: use uniform, normal:M:SD or weights:...")


def make_viewers(count: int, rng: random.Random, exclude_id: str = "") -> list[Viewer]:
    """Distinct viewers with nine-digit numeric ids and plausible logins."""
    ids = [str(n) for n in rng.sample(range(100_000_000, 1_000_000_000), count + 1)]
    ids = [user_id for user_id in ids if user_id != exclude_id][:count]
    viewers, logins = [], set()
    for user_id in ids:
        login = f"{rng.choice(_ADJECTIVES)}_{rng.choice(_NOUNS)}{rng.randrange(100)}"
        while login in logins:
            login += str(rng.randrange(10))
        logins.add(login)
        viewers.append(Viewer(user_id, login, rng.choice(_COLORS)))
    return viewers


def vote_text(option: str, options: list[str], rng: random.Random) -> str:
    """One of the forms a viewer types for a vote: ``7``, ``!vote 7``, ``7/10``, ``8!!``..."""
    forms = [option, f"!vote {option}", f"{option}!!", f"!rate {option}", f" {option.upper()} "]
    if all(o.lstrip("-").isdigit() for o in options) and option.lstrip("-").isdigit():
        forms.append(f"{option}/{max(int(o) for o in options)}")
    return rng.choice(forms)


def chatter_text(viewers: list[Viewer], options: list[str], rng: random.Random) -> str:
    folded = {option.casefold() for option in options}
    while True:
        if rng.random() < 0.25:
            text = f"@{rng.choice(viewers).login} {rng.choice(('hi', 'same', 'agreed', 'lol'))}"
        else:
            text = rng.choice(_CHATTER)
        if text.strip().casefold() not in folded:
            return text


def _validate(config: CrowdConfig) -> None:
    if config.viewers < 1 or config.rate <= 0 or config.duration_s < 0 or config.concurrency < 1:
        raise ValueError("viewers and concurrency must be >= 1, rate > 0 and duration >= 0")
    if not 0 <= config.chatter_share <= 1 or not 0 <= config.change_share <= 1:
        raise ValueError("chatter_share and change_share must be between 0 and 1")
    if not config.options or len(set(config.options)) != len(config.options):
        raise ValueError("options must be distinct and not empty")


class _Planner:
    """Decides who says what next; depends only on the seed, never on network timing."""

    def __init__(self, config: CrowdConfig, rng: random.Random) -> None:
        self._config = config
        self._rng = rng
        self._sample = parse_distribution(config.distribution, config.options)
        self.viewers = make_viewers(config.viewers, rng, exclude_id=config.broadcaster_id)
        self._fresh = list(self.viewers)
        rng.shuffle(self._fresh)
        self._voted: dict[str, str] = {}
        self._by_id = {viewer.user_id: viewer for viewer in self.viewers}

    def next(self) -> tuple[Viewer, str, str | None]:
        rng, options = self._rng, self._config.options
        if rng.random() < self._config.chatter_share:
            return rng.choice(self.viewers), chatter_text(self.viewers, options, rng), None
        change = self._voted and (not self._fresh or rng.random() < self._config.change_share)
        if change:
            viewer = self._by_id[rng.choice(list(self._voted))]
            option = self._sample(rng)
            for _ in range(5):  # a change should usually change something
                if option != self._voted[viewer.user_id]:
                    break
                option = self._sample(rng)
        else:
            viewer, option = self._fresh.pop(), self._sample(rng)
        self._voted[viewer.user_id] = option
        return viewer, vote_text(option, options, rng), option


async def run_crowd(config: CrowdConfig, *, http: httpx.AsyncClient | None = None) -> CrowdResult:
    """Send ``rate * duration_s`` chat notifications paced over ``duration_s``; then return."""
    _validate(config)
    rng = random.Random(config.seed)
    planner = _Planner(config, rng)
    result = CrowdResult(options=list(config.options))
    client = http or httpx.AsyncClient(timeout=10.0)
    subscription = envelope.subscription_dict(
        str(uuid.uuid4()),
        "channel.chat.message",
        "1",
        {"broadcaster_user_id": config.broadcaster_id, "user_id": config.broadcaster_id},
        envelope.webhook_transport(config.url),
        "enabled",
        format_twitch_timestamp(datetime.now(UTC)),
    )
    slots = asyncio.Semaphore(config.concurrency)
    locks: dict[str, asyncio.Lock] = {}
    tasks: set[asyncio.Task[None]] = set()

    async def send(viewer: Viewer, text: str, option: str | None) -> None:
        try:
            async with locks.setdefault(viewer.user_id, asyncio.Lock()):
                await _post(client, config, subscription, viewer, text, option, result)
        finally:
            slots.release()

    loop = asyncio.get_running_loop()
    total = int(config.rate * config.duration_s)
    start = loop.time()
    try:
        for index in range(total):
            await asyncio.sleep(max(0.0, start + index / config.rate - loop.time()))
            await slots.acquire()
            if loop.time() > start + config.duration_s + LATE_GRACE_S:
                slots.release()
                result.skipped = total - index
                break
            task = asyncio.create_task(send(*planner.next()))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
    finally:
        if http is None:
            await client.aclose()
    return result


async def _post(
    client: httpx.AsyncClient,
    config: CrowdConfig,
    subscription: dict[str, object],
    viewer: Viewer,
    text: str,
    option: str | None,
    result: CrowdResult,
) -> None:
    event = envelope.chat_message_event(
        config.broadcaster_id,
        config.broadcaster_login,
        viewer.user_id,
        viewer.login,
        text,
        str(uuid.uuid4()),
        color=viewer.color,
    )
    body = envelope.notification_body(subscription, event)
    message_id = str(uuid.uuid4())
    # Sub-microsecond digits are noise here; the seeded generator stays for the crowd's choices.
    timestamp = format_twitch_timestamp(datetime.now(UTC), nanos=random.randrange(1000))
    headers = envelope.webhook_headers(
        config.secret, message_id, timestamp, "notification", "channel.chat.message", "1", body
    )
    result.sent += 1
    if option is not None:
        result.votes_sent += 1
    try:
        response = await client.post(config.url, content=body, headers=headers)
    except httpx.HTTPError:
        result.errors += 1
        return
    if response.is_success:
        result.acknowledged += 1
        if option is not None:
            result.latest_votes[viewer.user_id] = option
    else:
        result.rejected += 1
