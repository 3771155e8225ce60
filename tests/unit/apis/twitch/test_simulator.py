"""The crowd simulator against an in-memory webhook that verifies every delivery."""

import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest

from premiere_ecoute.apis.twitch.eventsub.messages import WebhookRejected
from premiere_ecoute.apis.twitch.eventsub.parser import parse_webhook, verify_webhook
from premiere_ecoute.apis.twitch.simulator import (
    CrowdConfig,
    parse_distribution,
    run_crowd,
)
from premiere_ecoute.sessions.inbound import ChatLine

SECRET = "crowd-secret"
URL = "http://app.test/webhooks/twitch"
ZERO_TO_TEN = [str(n) for n in range(11)]


def as_vote(text: str, options: list[str]) -> str | None:
    """SPEC §4.1, written independently of the app's own chat parser."""
    value = text.strip().casefold()
    for prefix in ("!vote ", "!rate ", "!note "):
        if value.startswith(prefix):
            value = value[len(prefix) :]
            break
    value = value.rstrip("!")
    if all(option.isdigit() for option in options):
        value = value.removesuffix(f"/{max(int(option) for option in options)}")
    folded = {option.casefold(): option for option in options}
    return folded.get(value)


@dataclass
class Webhook:
    options: list[str] = field(default_factory=lambda: ZERO_TO_TEN)
    refuse_every: int = 0
    received: list[ChatLine] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)
    timestamps: list[str] = field(default_factory=list)
    latest: dict[str, str] = field(default_factory=dict)
    status_counts: Counter[int] = field(default_factory=Counter)

    def handle(self, request: httpx.Request) -> httpx.Response:
        try:
            message = verify_webhook(request.headers, request.content, SECRET, datetime.now(UTC))
        except WebhookRejected as rejected:
            self.status_counts[rejected.status_code] += 1
            return httpx.Response(rejected.status_code)
        if self.refuse_every and len(self.message_ids) % self.refuse_every == 0:
            self.message_ids.append(message.message_id)
            return httpx.Response(503)
        parsed = parse_webhook(message)
        assert isinstance(parsed, ChatLine)
        self.received.append(parsed)
        self.message_ids.append(message.message_id)
        self.timestamps.append(request.headers["Twitch-Eventsub-Message-Timestamp"])
        vote = as_vote(parsed.text, self.options)
        if vote is not None:
            self.latest[parsed.chatter_id] = vote
        return httpx.Response(204)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))


def _config(**changes: object) -> CrowdConfig:
    base: dict[str, object] = {
        "url": URL,
        "secret": SECRET,
        "broadcaster_id": "123456789",
        "broadcaster_login": "dj_host",
        "viewers": 30,
        "rate": 400.0,
        "duration_s": 0.25,
        "seed": 7,
    }
    return CrowdConfig(**(base | changes))  # type: ignore[arg-type]


async def test_every_message_is_signed_fresh_and_acknowledged() -> None:
    webhook = Webhook()

    async with webhook.client() as http:
        result = await run_crowd(_config(), http=http)

    assert result.sent == 100 == len(webhook.received)
    assert (result.acknowledged, result.rejected, result.errors) == (100, 0, 0)
    assert len(set(webhook.message_ids)) == 100
    assert all(re.fullmatch(r".*T.*\.\d{9}Z", stamp) for stamp in webhook.timestamps)
    assert all(m.broadcaster_id == "123456789" for m in webhook.received)
    assert all(re.fullmatch(r"[1-9]\d{8}", m.chatter_id) for m in webhook.received)


async def test_latest_votes_match_what_the_webhook_counted() -> None:
    webhook = Webhook()

    async with webhook.client() as http:
        result = await run_crowd(_config(viewers=20, change_share=0.3), http=http)

    assert result.latest_votes == webhook.latest
    assert result.expected_distribution() == {
        option: list(webhook.latest.values()).count(option) for option in ZERO_TO_TEN
    }
    assert result.votes_sent > len(result.latest_votes)  # some viewers changed their vote


async def test_crowd_mixes_chatter_that_is_not_a_vote() -> None:
    webhook = Webhook()

    async with webhook.client() as http:
        result = await run_crowd(_config(chatter_share=0.5), http=http)

    chatter = [m.text for m in webhook.received if as_vote(m.text, ZERO_TO_TEN) is None]
    assert len(chatter) == result.sent - result.votes_sent
    assert 20 <= len(chatter) <= 80


async def test_refused_deliveries_are_counted_and_not_in_latest_votes() -> None:
    webhook = Webhook(refuse_every=2)

    async with webhook.client() as http:
        result = await run_crowd(_config(rate=200.0), http=http)

    assert result.sent == 50
    assert result.rejected == 25
    assert result.acknowledged == 25
    assert result.latest_votes == webhook.latest


async def test_transport_failures_are_counted_as_errors() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(broken)) as http:
        result = await run_crowd(_config(rate=100.0), http=http)

    assert (result.sent, result.errors, result.acknowledged) == (25, 25, 0)
    assert result.latest_votes == {}


async def test_crowd_is_paced_over_the_duration() -> None:
    webhook = Webhook()
    started = time.monotonic()

    async with webhook.client() as http:
        result = await run_crowd(_config(rate=20.0, duration_s=0.5), http=http)

    elapsed = time.monotonic() - started
    assert result.sent == 10
    assert 0.4 <= elapsed < 1.5


async def test_same_seed_gives_same_votes_with_fresh_message_ids() -> None:
    first, second = Webhook(), Webhook()

    async with first.client() as http:
        one = await run_crowd(_config(), http=http)
    async with second.client() as http:
        two = await run_crowd(_config(), http=http)

    assert one.latest_votes == two.latest_votes
    assert not set(first.message_ids) & set(second.message_ids)


async def test_weights_only_produce_weighted_options() -> None:
    webhook = Webhook()

    async with webhook.client() as http:
        result = await run_crowd(_config(distribution="weights:2=1,9=3"), http=http)

    assert set(result.latest_votes.values()) == {"2", "9"}


async def test_categorical_options_are_voted_in_accepted_forms() -> None:
    options = ["smash", "pass"]
    webhook = Webhook(options=options)

    async with webhook.client() as http:
        result = await run_crowd(_config(options=options, chatter_share=0.0), http=http)

    assert result.votes_sent == result.sent == len(webhook.received)
    assert all(as_vote(m.text, options) is not None for m in webhook.received)
    assert result.latest_votes == webhook.latest


def test_normal_distribution_is_rounded_and_clipped_to_the_options() -> None:
    rng = random.Random(1)
    high = parse_distribution("normal:40:1", ZERO_TO_TEN)
    around_seven = parse_distribution("normal:7:0.05", ZERO_TO_TEN)

    assert {high(rng) for _ in range(50)} == {"10"}
    assert {around_seven(rng) for _ in range(50)} == {"7"}


@pytest.mark.parametrize(
    "spec", ["gaussian", "normal:7", "normal:7:-1", "weights:11=2", "weights:1=0", "uniform:3"]
)
def test_bad_distribution_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_distribution(spec, ZERO_TO_TEN)


def test_normal_distribution_needs_numeric_options() -> None:
    with pytest.raises(ValueError):
        parse_distribution("normal:1:1", ["smash", "pass"])
