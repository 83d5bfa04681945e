"""What the commands share: the package's errors as one line and an exit code, and common options."""
from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import stops
from ..errors import AudioEditionError

F = TypeVar("F", bound=Callable[..., Any])


class Failure(click.ClickException):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance


def reported(func: F) -> F:
    """Turn the package's errors (and OS errors such as a full disk) into one line and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AudioEditionError as exc:
            raise Failure(str(exc), exc.exit_code) from None
        except OSError as exc:
            if isinstance(exc, BrokenPipeError) and _stdout_closed():
                raise  # `voices | head`: the reader has what it wanted; click ends quietly (exit 1)
            where = f"{exc.filename}: " if exc.filename else ""
            raise Failure(f"{where}{exc.strerror or exc}", 1) from None

    return wrapper  # type: ignore[return-value]


def _stdout_closed() -> bool:
    """Whether whoever read our standard output has closed it (poll reports an error on the pipe)."""
    import select

    try:
        watch = select.poll()
        watch.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in watch.poll(0))
    except (AttributeError, OSError, ValueError):
        return False


def speed_options(func: F) -> F:
    """--jobs, --cache and --scheduler: how fast a build goes, never what it sounds like."""
    func = click.option(
        "--scheduler", metavar="tcp://HOST:PORT",
        help="Speak the takes on this Dask cluster (pip install 'audio-edition[dask]').",
    )(func)
    func = click.option(
        "--cache", "cache_dir", type=click.Path(path_type=Path, file_okay=False),
        help="Take cache directory [default: $AUDIO_EDITION_CACHE, else the user cache directory].",
    )(func)
    return click.option(
        "--jobs", "-j", type=click.IntRange(min=1), help="Worker processes [default: the cores this process may use]."
    )(func)


def scheduler_address(address: str | None) -> str | None:
    if address is not None and not address.startswith(("tcp://", "tls://", "ws://", "wss://", "inproc://")):
        raise Failure(f"--scheduler '{address}': give the scheduler's address, e.g. tcp://HOST:8786", 2)
    return address


def out_folder(value: str) -> Path:
    """--out as given: an empty name is refused here, where it is still empty (Path('') is '.')."""
    if not value:
        raise Failure("--out '': give a folder for the editions, not the root of the file system", 2)
    return Path(value)


config_option = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Publisher config (TOML)."
)


def input_options(func: F) -> F:
    """--lang and --format-in: how to read the article (FILE '-' reads standard input)."""
    func = click.option("--lang", help="The article's language, e.g. fr or en-gb [default: the page's, else detected].")(func)
    return click.option(
        "--format-in", type=click.Choice(["html", "md", "txt"]),
        help="Input format [default: from the file's suffix; sniffed for '-']."
    )(func)


def run_command(group: click.Group) -> int:
    """The command line (`group`), its output flushed: the exit code (or the end by SIGTERM or SIGHUP, once
    the command has cleaned up)."""
    stops.catch()
    stopped = None
    try:
        group.main(prog_name="audio-edition")  # standalone: always ends in SystemExit
    except SystemExit as done:
        code = done.code
    except stops.Stopped as stop:
        stopped, code = stop.number, 128 + stop.number
    else:
        code = 0
    if stopped is None:
        stopped = stops.requested()  # (one that a finalizer swallowed: the command ran to its end)
    if isinstance(code, str):  # sys.exit("message"): printed, as Python would
        print(code, file=sys.stderr)
        code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    if stopped is not None:  # ended as the signal would have ended it, for whoever waits (a shell says "Terminated")
        signal.signal(stopped, signal.SIG_DFL)
        os.kill(os.getpid(), stopped)
    return code if isinstance(code, int) else 0


def is_url(text: str) -> bool:
    """Whether an argument is meant as a URL (scheme://…), not a file name (text.fetch.is_url, without
    loading urllib for a file)."""
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.isalpha()


def _headers(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    if not values:
        return ()
    from ..errors import BadInput
    from ..text import fetch

    try:
        return tuple(fetch.header(value) for value in values)
    except BadInput as exc:
        raise Failure(str(exc), 2) from None


header_option = click.option(
    "--header", "headers", multiple=True, callback=_headers, metavar="'NAME: VALUE'",
    help="Send this HTTP header with every page fetched (a paywall cookie, a token); repeatable.",
)


def many_articles(func: F) -> F:
    """The options of the commands that build many articles (batch, follow), given to the command as one
    `options` (edition.BuildOptions)."""

    @functools.wraps(func)
    @reported
    def wrapper(*args: Any, out: Path, formats: str, voice: str | None, engine: str | None, rate: int | None,
                config_path: Path | None, no_appeal: bool, adopt_out: bool, jobs: int | None, cache_dir: Path | None,
                scheduler: str | None, **kwargs: Any) -> Any:
        from .. import config, edition
        from ..sound import render

        options = edition.BuildOptions(
            out=out, formats=render.parse_formats(formats), no_appeal=no_appeal, adopt_out=adopt_out, voice=voice,
            engine=engine, rate=rate, config=config.load(config_path), jobs=jobs, cache=cache_dir,
            scheduler=scheduler_address(scheduler),
        )
        return func(*args, options=options, **kwargs)

    decorated: Any = speed_options(wrapper)
    for option in reversed([
        click.option("--out", type=click.Path(), callback=lambda ctx, param, value: out_folder(value), default="out",
                     show_default=True, help="Output directory."),
        click.option("--format", "formats", default="mp3", show_default=True,
                     help="Formats, comma-separated: mp3, m4a, m4b (the M4A for audiobook apps), epub (an EPUB 3 "
                          "talking book carrying the MP3, else the M4A)."),
        engine_options,
        click.option("--rate", type=click.IntRange(80, 450), help="Speaking rate in words per minute [default: 175]."),
        config_option,
        click.option("--no-appeal", is_flag=True, help="Leave the publishers' appeals out of the editions."),
        adopt_out_option,
    ]):
        decorated = option(decorated)
    return decorated  # type: ignore[no-any-return]


def engine_options(func: F) -> F:
    """--voice and --engine."""
    func = click.option("--engine", type=click.Choice(["pyttsx3", "piper"]),
                        help="Speech engine [default: the config's engine, else pyttsx3]; piper needs "
                             "'audio-edition[piper]'.")(func)
    return click.option("--voice", help="Voice id, name or language code; for piper a model file, a folder of "
                                        "models or en_US-joe-medium (see 'audio-edition voices').")(func)


adopt_out_option = click.option(
    "--adopt-out", is_flag=True, help="Publish into OUT though it holds files audio-edition did not make."
)
