"""spotify search|album|auth-url, twitch auth-url."""

from __future__ import annotations

import typer

from premiere_ecoute.apis.spotify import oauth as spotify_oauth
from premiere_ecoute.apis.twitch import oauth as twitch_oauth
from premiere_ecoute.cli.common import container, quiet_logs, run, settings
from premiere_ecoute.config import browser_auth_urls
from premiere_ecoute.discography.links import parse_spotify_ref

spotify = typer.Typer(help="Spotify catalogue and linking.", no_args_is_help=True)
twitch = typer.Typer(help="Twitch login.", no_args_is_help=True)


@spotify.command("search")
def search(
    query: str = typer.Argument(..., help="Album name or artist"),
    limit: int = typer.Option(10, min=1, max=50),
) -> None:
    """Search albums (with the fakes on, in the fake catalogue)."""
    quiet_logs()
    s = settings()

    async def main() -> None:
        async with container(s, migrate=False) as c:
            albums = await c.ports.catalog.search_albums(query, limit)
        for a in albums:
            year = a.release_date.year if a.release_date else "----"
            typer.echo(f"{a.spotify_id}\t{year}\t{a.artist} - {a.name} ({a.total_tracks} tracks)")
        if not albums:
            typer.echo("no album found")

    run(main)


@spotify.command("album")
def album(ref: str = typer.Argument(..., help="Album id, open.spotify.com link or URI")) -> None:
    """Show an album and its tracks."""
    quiet_logs()
    s = settings()

    async def main() -> None:
        album_id = parse_spotify_ref(ref, "album")
        async with container(s, migrate=False) as c:
            a = await c.ports.catalog.get_album(album_id)
        typer.echo(f"{a.artist} - {a.name} ({a.release_date or 'unknown date'})")
        for t in a.tracks:
            minutes, seconds = divmod(t.duration_ms // 1000, 60)
            typer.echo(f"{t.disc_number}.{t.track_number:02d}  {t.name}  {minutes}:{seconds:02d}")

    run(main)


@spotify.command("auth-url")
def spotify_auth_url() -> None:
    """Print a Spotify authorization URL (PKCE), to check the app's configuration."""
    s = settings()
    _, accounts = browser_auth_urls(s)
    _, challenge = spotify_oauth.make_pkce()
    typer.echo(
        spotify_oauth.authorize_url(
            accounts,
            s.spotify_client_id or "fake-spotify-client",
            f"{s.base_url}/auth/spotify/callback",
            twitch_oauth.new_state(),
            challenge,
        )
    )


@twitch.command("auth-url")
def twitch_auth_url() -> None:
    """Print a Twitch authorization URL, to check the app's configuration."""
    s = settings()
    auth, _ = browser_auth_urls(s)
    typer.echo(
        twitch_oauth.authorize_url(
            s.twitch_client_id or "fake-twitch-client",
            f"{s.base_url}/auth/twitch/callback",
            twitch_oauth.new_state(),
            auth_url=auth,
        )
    )
