"""The audio-edition command line: parse options, call one library function, report errors."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .. import __version__
from . import upkeep
from .common import (
    Failure,
    adopt_out_option,
    config_option,
    engine_options,
    header_option,
    input_options,
    is_url,
    many_articles,
    out_folder,
    reported,
    run_command,
    scheduler_address,
    speed_options,
)

if TYPE_CHECKING:  # (the command line imports the build only when it runs one)
    from .. import edition


def run() -> None:
    """The command line in this process (the console script, audio/cli/entry.py, sends it to a warm
    process when one is named), then an exit without Python's teardown.

    Freeing a build's modules and objects one by one at exit takes time (docs/performance.md) and
    achieves nothing: every file is closed, every worker joined and every temporary directory
    removed by then (context managers), so output is flushed and the process ends at once.
    """
    os._exit(run_command(main))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="audio-edition")
@click.option("-v", "--verbose", is_flag=True, help="Log every step and external command.")
def main(verbose: bool) -> None:
    """Turn a news article into a chaptered audio edition, offline."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(relativeCreated)6.0fms %(levelname)s %(name)s: %(message)s")


@main.command()
@click.argument("files", nargs=-1, required=True)  # (str: click.Path would fold a URL's "//")
@click.option("--out", type=click.Path(), callback=lambda ctx, param, value: out_folder(value), default="out",
              show_default=True, help="Output directory.")
@header_option
@click.option("--title", help="Edition title (default: a leading heading, else the lede's first sentence).")
@click.option("--slug", help="Edition folder and file name (default: the source file's name).")
@click.option("--format", "formats", default="mp3", show_default=True, help="Formats, comma-separated: mp3, m4a, m4b (the M4A for audiobook apps), epub (an EPUB 3 talking book carrying the MP3, else the M4A).")
@engine_options
@click.option("--rate", type=click.IntRange(80, 450), help="Speaking rate in words per minute [default: 175].")
@config_option
@click.option("--appeal-file", type=click.Path(path_type=Path), help="Read this text as the closing appeal.")
@click.option("--no-appeal", is_flag=True, help="Leave the publisher's appeal out of the edition.")
@adopt_out_option
@input_options
@speed_options
@reported
def build(
    files: tuple[str, ...],
    out: Path,
    headers: tuple[tuple[str, str], ...],
    title: str | None,
    slug: str | None,
    formats: str,
    voice: str | None,
    engine: str | None,
    rate: int | None,
    config_path: Path | None,
    appeal_file: Path | None,
    no_appeal: bool,
    adopt_out: bool,
    lang: str | None,
    format_in: str | None,
    jobs: int | None,
    cache_dir: Path | None,
    scheduler: str | None,
) -> None:
    """Build each article FILE (.txt, .md or a saved .html page; '-' reads standard input; an http(s) URL
    is fetched) into OUT/<slug>/."""
    from .. import config, edition
    from ..site import refresh
    from ..sound import render

    if len(files) > 1 and (title or slug):
        raise Failure("--title and --slug name one edition: give one FILE with them", 2)
    options = edition.BuildOptions(
        out=out,
        formats=render.parse_formats(formats),
        title=title,
        slug=slug,
        appeal_file=appeal_file,
        no_appeal=no_appeal,
        adopt_out=adopt_out,
        voice=voice,
        engine=engine,
        rate=rate,
        config=config.load(config_path),
        jobs=jobs,
        cache=cache_dir,
        scheduler=scheduler_address(scheduler),
        language=lang,
        format_in=format_in,
    )
    for path in files:
        if is_url(path):
            from ..text import fetch

            built = edition.build(fetch.fetch(path, headers), options)
        else:
            built = edition.build(Path(path), options)
        refresh.site(options.out, options.config, [built])  # the catalogue, feed.xml and the list of editions
        manifest = built.manifest
        if manifest["source"]["encoding"] not in ("utf-8", "utf-8-sig"):
            click.echo(f"{path}: decoded as {manifest['source']['encoding']}", err=True)
        minutes, seconds = divmod(round(manifest["duration_ms"] / 1000), 60)
        click.echo(f"{built.audio}  {len(manifest['chapters'])} chapters, {minutes}:{seconds:02d}")


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the script as JSON.")
@click.option("--title", help="Edition title.")
@config_option
@click.option("--appeal-file", type=click.Path(path_type=Path), help="Read this text as the closing appeal.")
@click.option("--no-appeal", is_flag=True, help="Leave the publisher's appeal out.")
@click.option("--lint", is_flag=True, help="List what the normalizer could not settle, with line numbers.")
@input_options
@reported
def script(
    file: Path, as_json: bool, title: str | None, config_path: Path | None, appeal_file: Path | None, no_appeal: bool,
    lint: bool, lang: str | None, format_in: str | None,
) -> None:
    """Print the chapters and sentences that would be read, without synthesising anything.

    With --lint: all-caps words not in the lexicon, numbers left as digits, symbols dropped, units
    not settled (unknown, or metres or a million) and numbers not classified, one per line as
    FILE:LINE: what: token (add them to the lexicon, or reword).
    """
    from .. import config, edition
    from ..text import script as script_stage

    options = edition.BuildOptions(
        title=title, appeal_file=appeal_file, no_appeal=no_appeal, config=config.load(config_path),
        language=lang, format_in=format_in,
    )
    _, art, result = edition.prepare(file, options)
    if lint:
        findings = script_stage.lint(result, edition.load_lexicon(options.config))
        for found in findings:
            click.echo(f"{file}:{found.line or 'intro'}: {found.note.kind}: {found.note.token}")
        click.echo(f"{len(findings)} to check" if findings else "nothing to check", err=True)
        return
    if as_json:
        click.echo(json.dumps({"slug": art.slug, **script_stage.as_json(result)}, ensure_ascii=False, indent=2))
        return
    click.echo(f"# {result.title}")
    for number, chapter in enumerate(result.chapters):
        click.echo(f"\n[{number}] {chapter.kind}: {chapter.title}")
        for sentence in chapter.sentences:
            click.echo(f"  - {sentence.text}")
            if sentence.spoken != sentence.text:
                click.echo(f"    (says: {sentence.spoken})")


@main.command()
@click.argument("words", nargs=-1, required=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=Path("say.wav"), show_default=True,
              help="Where to write the audio.")
@click.option("--lang", help="Language of the words [default: en, unless the text shows another].")
@engine_options
@click.option("--rate", type=click.IntRange(80, 450), help="Speaking rate in words per minute [default: 175].")
@config_option
@reported
def say(
    words: tuple[str, ...], out: Path, lang: str | None, voice: str | None, engine: str | None, rate: int | None,
    config_path: Path | None,
) -> None:
    """Speak WORDS with the current lexicon (from --config) into a WAV file, to audition a pronunciation fix."""
    from .. import config
    from ..speech import say as saying

    said = saying.say(" ".join(words), config.load(config_path), out, lang, voice, rate, engine)
    click.echo(f"says: {said.spoken}")
    if said.phonemes is not None:
        click.echo(f"phonemes: {said.phonemes}")
    click.echo(f"{said.wav}  ({said.voice})")


@main.command()
@reported
def voices() -> None:
    """List the voices of both engines: the system's (pyttsx3: id, name, languages), then Piper's (name,
    language, sample rate, quality, where it comes from, licence) where Piper is installed."""
    from ..errors import BadInput
    from ..speech import voice

    for v in voice.voices():
        click.echo(f"{v.id}\t{v.name}\t{','.join(v.languages)}")
    try:
        from ..speech import piper_engine

        piper_engine.version()  # Piper and ONNX Runtime installed
        listed = piper_engine.voices()
    except BadInput as exc:
        click.echo(f"piper: {exc}", err=True)
        return
    for p in listed:
        click.echo(f"piper:{p.name}\t{p.name}\t{p.language}\t{p.sample_rate} Hz\t{p.quality or '-'}\t{p.origin}"
                   f"\t{p.licence or 'licence not stated'}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@many_articles
def batch(paths: tuple[Path, ...], options: edition.BuildOptions) -> None:
    """Build every article in each DIR (.txt, .md) and each FILE into OUT/<slug>/.

    Several articles are built at once (--jobs), bad ones are reported at the end (exit 1),
    and editions whose source and settings are unchanged are skipped. The catalogue and
    feed are refreshed once, at the end.
    """

    from .. import batch as batching

    total = len(batching.articles(list(paths)))
    counts = {"takes": 0}
    if sys.stderr.isatty():
        bar_context: Any = click.progressbar(length=total, label="articles", file=sys.stderr,
                                             item_show_func=lambda _: f"{counts['takes']} takes")
    else:  # quiet when not a terminal: only the summary
        bar_context = contextlib.nullcontext(None)
    with bar_context as bar:

        def report(event: str, n: int) -> None:
            if event == "takes":
                counts["takes"] += n
            if bar is not None:
                bar.update(n if event == "article" else 0, None)

        result = batching.run(list(paths), options, report)
    for path, reason in result.failed:
        click.echo(reason if reason.startswith(str(path)) else f"{path}: {reason}", err=True)
    click.echo(
        f"{len(result.built)} built, {len(result.skipped)} unchanged, {len(result.failed)} failed"
        f" ({counts['takes']} takes spoken)"
    )
    if result.unpublished is not None:
        raise Failure(f"{result.unpublished} (the catalogue, feed and index.html may not list this batch's editions)", 1)
    if result.failed:
        raise Failure(f"{len(result.failed)} of {total} articles failed", 1)


@main.command()
@click.argument("feed_url")
@click.option("--once", is_flag=True, help="Poll once and end (for cron and publishing hooks); the default.")
@click.option("--every", "interval", metavar="TIME", help="Poll every TIME (30s, 5m, 1h) until stopped (SIGTERM, Ctrl-C).")
@click.option("--since", "since_text", metavar="DATE", help="Leave the items the feed dates before DATE (2026-12-01).")
@click.option("--delay", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Seconds between two requests to one host.")
@header_option
@many_articles
def follow(
    feed_url: str, once: bool, interval: str | None, since_text: str | None, delay: float,
    headers: tuple[tuple[str, str], ...], options: edition.BuildOptions,
) -> None:
    """Build every article of the site's RSS or Atom feed, or Google News sitemap, at FEED_URL into OUT/<slug>/.

    Items already built are built again only when their page changed; what was seen is kept in the
    catalogue, so an unchanged feed costs one request (HTTP 304). An item that fails is reported and
    tried again on a later poll (after 1 min, then 2, 4, ... up to 6 h); it never stops the others.
    Items the site drops from its feed stay in ours. Exit 1 if an item failed (--once).
    """
    from .. import follow as following

    if once and interval:
        raise Failure("--once and --every: give one of them", 2)
    follow_options = following.FollowOptions(
        headers=headers, since=following.since(since_text) if since_text else None, delay=delay)
    failures = []

    def polled(poll: following.Poll) -> None:
        for link, slug in poll.built:
            click.echo(f"{link}: built {options.out / slug}/")
        for link, reason in poll.failed:
            click.echo(reason if reason.startswith(link) else f"{link}: {reason}", err=True)
        if poll.unpublished is not None:
            click.echo(f"{poll.unpublished} (the catalogue, feed and index.html may not list these editions)", err=True)
        failures.extend(poll.failed)
        feed = "" if poll.feed_changed else "feed unchanged; "
        waiting = f", {poll.waiting} waiting to be tried again" if poll.waiting else ""
        click.echo(f"{feed}{len(poll.built)} built, {poll.unchanged} unchanged, {len(poll.failed)} failed{waiting}",
                   err=interval is not None and not poll.built)

    def failed(exc: Exception) -> None:
        click.echo(str(exc), err=True)

    following.run(feed_url, options, follow_options, following.every(interval) if interval else None, polled, failed)
    if failures:
        raise Failure(f"{len(failures)} item{'s' if len(failures) > 1 else ''} failed (tried again on the next poll)", 1)


for command in (upkeep.feed, upkeep.serve, upkeep.warm, upkeep.cache):
    main.add_command(command)
