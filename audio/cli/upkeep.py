"""The commands that look after what builds leave: the feed, a local server, the warm process and
the take cache (the command line's group, audio/cli/main.py, adds them)."""
from __future__ import annotations

import functools
import os
from pathlib import Path

import click

from .common import config_option, reported, run_command

_out_dir_option = click.option(
    "--out", type=click.Path(path_type=Path, file_okay=False), default=Path("out"), show_default=True,
    help="Output directory holding the editions and catalogue.sqlite.",
)
_base_url_option = click.option(
    "--base-url", help="URL under which OUT is served, e.g. https://example.org/audio/ (default: [feed] base_url)."
)


@click.group(invoke_without_command=True)
@_out_dir_option
@_base_url_option
@click.option("--limit", type=click.IntRange(min=1), help="List only the newest N episodes [default: [feed] limit, else all].")
@config_option
@click.pass_context
@reported
def feed(ctx: click.Context, out: Path, base_url: str | None, limit: int | None, config_path: Path | None) -> None:
    """Write OUT/feed.xml, the podcast feed of every catalogued edition, newest first.

    Channel settings come from the [feed] table of the config file. Builds refresh the feed
    by themselves when the config sets base_url.
    """
    from .. import config
    from ..site import refresh

    ctx.obj = {"out": out, "base_url": base_url, "config_path": config_path}
    if ctx.invoked_subcommand is not None:
        return
    written = refresh.write_feed(out, config.load(config_path), base_url, limit)
    click.echo(f"{written.path}  {written.episodes} episode{'s' if written.episodes != 1 else ''}, at {written.url}")


@feed.command("remove")
@click.argument("slug")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Output directory [default: out].")
@_base_url_option
@config_option
@click.pass_context
@reported
def feed_remove(
    ctx: click.Context, slug: str, out: Path | None, base_url: str | None, config_path: Path | None
) -> None:
    """Remove the episode SLUG from the catalogue and the feed, on purpose; its files stay in OUT."""
    from .. import config
    from ..site import refresh

    parent = ctx.obj or {}
    out = out or parent.get("out") or Path("out")
    written = refresh.remove(
        out, config.load(config_path or parent.get("config_path")), slug, base_url or parent.get("base_url")
    )
    click.echo(f"removed {slug}" + (f"; {written.path} lists {written.episodes} episodes" if written else ""))


@feed.command("move")
@click.argument("new_base_url")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Output directory [default: out].")
@click.option("--base-url", help="Where OUT is served now [default: [feed] base_url, else the address feed.xml was written for].")
@config_option
@click.pass_context
@reported
def feed_move(
    ctx: click.Context, new_base_url: str, out: Path | None, base_url: str | None, config_path: Path | None
) -> None:
    """Say in OUT/feed.xml that the show moved to NEW_BASE_URL (itunes:new-feed-url): run it where the old
    address is served, after copying OUT, catalogue.sqlite included, to the new one. The podcast:guid
    stays the same there."""
    from .. import config
    from ..site import refresh

    parent = ctx.obj or {}
    out = out or parent.get("out") or Path("out")
    written = refresh.move(
        out, config.load(config_path or parent.get("config_path")), new_base_url, base_url or parent.get("base_url")
    )
    click.echo(f"{written.path} at {written.url} now points podcast apps to {new_base_url.rstrip('/')}/feed.xml")


@feed.command("prune")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Output directory [default: out].")
@click.option("--days", type=click.FloatRange(min=0), default=30, show_default=True,
              help="Keep files superseded within this many days: apps that downloaded an episode before fetch its chapters and transcript.")
@click.pass_context
@reported
def feed_prune(ctx: click.Context, out: Path | None, days: float) -> None:
    """Remove the audio, chapters and transcripts that rebuilds superseded more than DAYS days ago and that
    no feed links to. Nothing else in OUT is touched."""
    from ..site import refresh

    out = out or (ctx.obj or {}).get("out") or Path("out")
    pruned = refresh.prune(out, days)
    click.echo(f"removed {pruned.files} superseded file{'s' if pruned.files != 1 else ''} "
               f"({pruned.bytes / 1e6:.1f} MB) from {out}")


@click.command()
@_out_dir_option
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="TCP port; 0 picks a free one.")
@click.option(
    "--host", default="127.0.0.1", show_default=True,
    help="Address to listen on; 0.0.0.0 lets a phone on the same network subscribe.",
)
@reported
def serve(out: Path, port: int, host: str) -> None:
    """Serve OUT over HTTP with byte ranges, so podcast apps and browsers can fetch and seek. Ctrl-C stops it."""
    from ..site import serve as serving

    server = serving.make_server(out, host, port)
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    shown = f"http://{bound_host}:{bound_port}/"
    click.echo(f"Serving {out} at {shown}  (feed: {shown}feed.xml; Ctrl-C stops)")
    if host in ("0.0.0.0", "::"):
        click.echo("Listening on every address: use this machine's network address in [feed] base_url.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@click.command()
@click.option(
    "--socket", "socket_path", type=click.Path(path_type=Path, dir_okay=False),
    help="Where to listen [default: $AUDIO_EDITION_WARM, else warm.sock in the user cache directory].",
)
@click.option("--idle", type=click.FloatRange(min=0), help="Stop after this many seconds with no command [default: never].")
@reported
def warm(socket_path: Path | None, idle: float | None) -> None:
    """Keep a warm process: every audio-edition whose $AUDIO_EDITION_WARM names its socket runs there,
    in a fresh copy of it, without starting Python and importing the build again. SIGTERM or Ctrl-C stops it."""
    from ..warm import client
    from ..warm import server as warming

    if socket_path is None:
        named = os.environ.get(client.WARM_ENV)
        if named:
            socket_path = Path(named)
        else:
            import platformdirs

            socket_path = platformdirs.user_cache_path("audio-edition", appauthor=False) / "warm.sock"
    root = click.get_current_context().find_root().command
    assert isinstance(root, click.Group)
    warming.serve(socket_path, functools.partial(run_command, root), idle)


@click.group()
def cache() -> None:
    """The take cache: how big it is, and removing what was not used for a while."""


_cache_dir_option = click.option(
    "--cache", "cache_dir", type=click.Path(path_type=Path, file_okay=False),
    help="Take cache directory [default: $AUDIO_EDITION_CACHE, else the user cache directory].",
)


@cache.command("info")
@_cache_dir_option
@reported
def cache_info(cache_dir: Path | None) -> None:
    """Show where the cache is and how many entries and bytes each part holds."""
    from ..cache import Cache, default_dir

    store = Cache(cache_dir or default_dir())
    click.echo(f"cache: {store.root}")
    usage = store.usage()
    for part in usage:
        click.echo(f"{part.kind:<9} {part.entries:>7} files {part.bytes / 1e6:>10.1f} MB")
    click.echo(f"{'total':<9} {sum(p.entries for p in usage):>7} files {sum(p.bytes for p in usage) / 1e6:>10.1f} MB")


@cache.command("prune")
@_cache_dir_option
@click.option("--days", type=click.FloatRange(min=0), default=30, show_default=True, help="Keep entries used within this many days (and always those of the last hour: a build may be using them).")
@reported
def cache_prune(cache_dir: Path | None, days: float) -> None:
    """Remove cache entries not used in the last DAYS days."""
    from ..cache import Cache, default_dir

    store = Cache(cache_dir or default_dir())
    removed, freed = store.prune(days)
    click.echo(f"removed {removed} files ({freed / 1e6:.1f} MB) not used in {days:g} days from {store.root}")
