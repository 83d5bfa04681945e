"""The audio-edition command line: parse options, call one library function, report errors."""
from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .errors import AudioEditionError

F = TypeVar("F", bound=Callable[..., Any])


class _Failure(click.ClickException):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance


def _reported(func: F) -> F:
    """Turn the package's errors (and OS errors such as a full disk) into one line and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AudioEditionError as exc:
            raise _Failure(str(exc), exc.exit_code) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise _Failure(f"{where}{exc.strerror or exc}", 1) from None

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="audio-edition")
@click.option("-v", "--verbose", is_flag=True, help="Log every step and external command.")
def main(verbose: bool) -> None:
    """Turn a news article into a chaptered audio edition, offline."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


_config_option = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Publisher config (TOML)."
)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=Path("out"), show_default=True, help="Output directory.")
@click.option("--title", help="Edition title (default: a leading heading, else the lede's first sentence).")
@click.option("--slug", help="Edition folder and file name (default: the source file's name).")
@click.option("--format", "formats", default="mp3", show_default=True, help="Audio formats, comma-separated: mp3, m4a.")
@click.option("--voice", help="Voice id, name or language code (see 'audio-edition voices').")
@click.option("--rate", type=click.IntRange(80, 450), help="Speaking rate in words per minute [default: 175].")
@_config_option
@click.option("--appeal-file", type=click.Path(path_type=Path), help="Read this text as the closing appeal.")
@click.option("--no-appeal", is_flag=True, help="Leave the publisher's appeal out of the edition.")
@_reported
def build(
    files: tuple[Path, ...],
    out: Path,
    title: str | None,
    slug: str | None,
    formats: str,
    voice: str | None,
    rate: int | None,
    config_path: Path | None,
    appeal_file: Path | None,
    no_appeal: bool,
) -> None:
    """Build each article FILE (.txt or .md) into OUT/<slug>/."""
    from . import config, edition, render

    if len(files) > 1 and (title or slug):
        raise _Failure("--title and --slug name one edition: give one FILE with them", 2)
    options = edition.BuildOptions(
        out=out,
        formats=render.parse_formats(formats),
        title=title,
        slug=slug,
        appeal_file=appeal_file,
        no_appeal=no_appeal,
        voice=voice,
        rate=rate,
        config=config.load(config_path),
    )
    for path in files:
        built = edition.build(path, options)
        manifest = built.manifest
        if manifest["source"]["encoding"] not in ("utf-8", "utf-8-sig"):
            click.echo(f"{path}: decoded as {manifest['source']['encoding']}", err=True)
        minutes, seconds = divmod(round(manifest["duration_ms"] / 1000), 60)
        click.echo(f"{built.audio}  {len(manifest['chapters'])} chapters, {minutes}:{seconds:02d}")


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the script as JSON.")
@click.option("--title", help="Edition title.")
@_config_option
@click.option("--appeal-file", type=click.Path(path_type=Path), help="Read this text as the closing appeal.")
@click.option("--no-appeal", is_flag=True, help="Leave the publisher's appeal out.")
@_reported
def script(
    file: Path, as_json: bool, title: str | None, config_path: Path | None, appeal_file: Path | None, no_appeal: bool
) -> None:
    """Print the chapters and sentences that would be read, without synthesising anything."""
    from . import config, edition

    options = edition.BuildOptions(
        title=title, appeal_file=appeal_file, no_appeal=no_appeal, config=config.load(config_path)
    )
    _, art, result = edition.prepare(file, options)
    if as_json:
        click.echo(json.dumps({"slug": art.slug, **asdict(result)}, ensure_ascii=False, indent=2))
        return
    click.echo(f"# {result.title}")
    for number, chapter in enumerate(result.chapters):
        click.echo(f"\n[{number}] {chapter.kind}: {chapter.title}")
        for sentence in chapter.sentences:
            click.echo(f"  - {sentence.text}")
            if sentence.spoken != sentence.text:
                click.echo(f"    (says: {sentence.spoken})")


@main.command()
@_reported
def voices() -> None:
    """List the voices the speech engine has: id, name, languages."""
    from . import voice

    for v in voice.voices():
        click.echo(f"{v.id}\t{v.name}\t{','.join(v.languages)}")
