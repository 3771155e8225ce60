"""``premiere-ecoute``: the command line (SPEC §11)."""

from __future__ import annotations

import typer

from premiere_ecoute.cli import accounts, dev, events, providers, server

app = typer.Typer(
    help="Premiere Ecoute: listening sessions rated live by a Twitch chat.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(server.serve)
app.command("worker")(server.worker)
app.command("migrate")(server.migrate)
app.command("demo")(dev.demo)
app.add_typer(accounts.users, name="users")
app.add_typer(accounts.tokens, name="tokens")
app.add_typer(accounts.keys, name="keys")
app.add_typer(events.events, name="events")
app.add_typer(events.jobs, name="jobs")
app.add_typer(dev.simulate, name="simulate")
app.add_typer(providers.spotify, name="spotify")
app.add_typer(providers.twitch, name="twitch")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
