"""demo, simulate chat."""

from __future__ import annotations

import typer

from premiere_ecoute.apis.twitch.simulator import CrowdConfig, parse_distribution, run_crowd
from premiere_ecoute.cli.common import container, fail, quiet_logs, run, settings
from premiere_ecoute.demo import seed
from premiere_ecoute.sessions.scores import Scale

simulate = typer.Typer(help="Load and demo tools.", no_args_is_help=True)


def demo() -> None:
    """Seed demo users, albums and a finished session with votes."""
    quiet_logs()
    s = settings()

    async def main() -> None:
        async with container(s) as c:
            made = await seed(c)
        typer.echo(
            f"demo users: {', '.join(made['users'])}; finished session "
            f"{made['session_id']} ({made['album']})"
        )

    run(main)


@simulate.command("chat")
def chat(
    url: str = typer.Option(..., help="Webhook URL, e.g. http://127.0.0.1:8000/webhooks/twitch"),
    secret: str = typer.Option(..., help="The EventSub webhook secret (TWITCH_WEBHOOK_SECRET)"),
    broadcaster_id: str = typer.Option(..., help="Twitch user id of the streamer"),
    broadcaster_login: str = typer.Option("streamer", help="Twitch login of the streamer"),
    viewers: int = typer.Option(50, min=1, max=100_000),
    rate: float = typer.Option(10.0, min=0.1, max=100_000, help="Messages per second"),
    duration: float = typer.Option(10.0, min=0.1, max=3600, help="Seconds"),
    distribution: str = typer.Option(
        "uniform", help="uniform | normal:MEAN:SD | weights:0=1,5=3,10=2"
    ),
    options: str = typer.Option(
        "0-10", help="The session's scale: 0-10, 1-5, smash-pass or a comma-separated list"
    ),
    chatter_share: float = typer.Option(0.15, min=0, max=1),
    change_share: float = typer.Option(0.1, min=0, max=1),
    seed: int = typer.Option(None),
    concurrency: int = typer.Option(20, min=1, max=1000),
) -> None:
    """A crowd of fake viewers sending signed channel.chat.message notifications."""
    quiet_logs()
    scale = Scale.parse(options)
    try:
        parse_distribution(distribution, list(scale.options))
    except ValueError as exc:
        fail(str(exc), 2)
    config = CrowdConfig(
        url=url,
        secret=secret,
        broadcaster_id=broadcaster_id,
        broadcaster_login=broadcaster_login,
        viewers=viewers,
        rate=rate,
        duration_s=duration,
        distribution=distribution,
        options=list(scale.options),
        chatter_share=chatter_share,
        change_share=change_share,
        seed=seed,
        concurrency=concurrency,
    )

    async def main() -> None:
        result = await run_crowd(config)
        typer.echo(
            f"sent {result.sent}, acknowledged {result.acknowledged}, rejected "
            f"{result.rejected}, errors {result.errors}, skipped {result.skipped}; "
            f"{result.votes_sent} votes from {len(result.latest_votes)} viewers"
        )
        dist = result.expected_distribution()
        typer.echo("latest votes per option: " + ", ".join(f"{k}={v}" for k, v in dist.items()))

    run(main)
