"""Build many articles: on every core, past bad ones, skipping editions whose source and settings are unchanged."""
from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import article as article_stage
from . import catalogue, edition, site, source
from .pool import adopt_environment, die_with_parent, starter
from .pool import context as pool_context
from .errors import AudioEditionError

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = (".txt", ".text", ".md", ".markdown", ".html", ".htm")
# What a batch reports as it goes: ("article", 1) when one is done or skipped, ("takes", n) as takes are made.
Report = Callable[[str, int], None]


@dataclass
class BatchResult:
    built: list[edition.Edition] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def articles(paths: Sequence[Path]) -> list[Path]:
    """The article files named, directories expanded (sorted; hidden files left out)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES and not p.name.startswith(".")
            )
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def up_to_date(path: Path, options: edition.BuildOptions) -> str | None:
    """The slug of out/<slug>/ when its edition.json was built from this very source with these very
    settings, else None."""
    doc = source.read(path)
    slug = article_stage.file_slug(doc, options.slug)  # the article is parsed (its language detected) only when built
    if slug is None:
        appeal = source.read(options.appeal_file) if options.appeal_file else None
        slug = article_stage.parse(
            doc, options.config, article_stage.ArticleOptions(options.title, options.slug, appeal, options.no_appeal)
        ).slug
    try:
        manifest = json.loads((options.out / slug / edition.MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(manifest, dict) and manifest.get("build_key") == edition.build_key(doc, options):
        return slug
    return None


def run(paths: Sequence[Path], options: edition.BuildOptions, report: Report | None = None) -> BatchResult:
    """Build every article; with jobs > 1 (and no cluster) several at once, one worker process each.

    The catalogue and feed are refreshed once, at the end, for everything built, and for the unchanged
    editions the catalogue does not hold as built (published by a batch that was stopped before its end).
    """
    tell = report or (lambda event, n: None)
    result = BatchResult()
    todo: list[Path] = []
    unchanged: list[str] = []  # their slugs
    for path in articles(paths):
        try:
            slug = up_to_date(path, options)
            if slug is not None:
                result.skipped.append(path)
                unchanged.append(slug)
                tell("article", 1)
                continue
        except AudioEditionError as exc:
            result.failed.append((path, str(exc)))
            tell("article", 1)
            continue
        todo.append(path)
    jobs = options.jobs or os.cpu_count() or 1
    if jobs > 1 and len(todo) > 1 and options.scheduler is None:
        _in_workers(todo, options, min(jobs, len(todo)), result, tell)
    else:
        for path in todo:
            outcome = _build_one(path, options, lambda index, take: tell("takes", 1))
            _record(path, outcome, options, result)
            tell("article", 1)
    # An edition published by a batch that was killed before its end was never catalogued: it is now.
    missed = _uncatalogued(options.out, unchanged)
    if result.built or missed:
        site.refresh(options.out, options.config, result.built + missed)
    return result


def _uncatalogued(out: Path, slugs: Sequence[str]) -> list[edition.Edition]:
    """The unchanged editions the catalogue does not list as they are in out/."""
    found = []
    for slug in slugs:
        try:
            found.append(edition.load(out / slug))
        except (OSError, ValueError, KeyError):
            continue  # (it was readable a moment ago: another build is replacing it, and will record it)
    missed = catalogue.unrecorded(out, found)
    if missed:
        log.warning("%s: %d unchanged edition%s missing from the catalogue (a batch stopped before its end): "
                    "recorded now", out, len(missed), " was" if len(missed) == 1 else "s were")
    return missed


def largest_first(paths: Sequence[Path]) -> list[Path]:
    """The articles by file size, largest first (equal sizes in the order given): the last to start are
    then the shortest, and a long article is not left to run alone at the end while the other workers idle."""

    def size(path: Path) -> int:
        try:
            return path.stat().st_size
        except OSError:
            return 0  # (its build reports what is wrong)

    return sorted(paths, key=size, reverse=True)


def _in_workers(todo: list[Path], options: edition.BuildOptions, workers: int, result: BatchResult, tell: Report) -> None:
    """One article per worker process at a time, each speaking its takes itself (jobs=1 inside), the
    largest first."""
    context = pool_context()
    progress = context.Queue()
    inner = options._replace(jobs=1)

    def relay() -> None:  # takes made in the workers, reported from this process, until None
        while (count := progress.get()) is not None:
            tell("takes", count)

    relay_thread = threading.Thread(target=relay, daemon=True)
    relay_thread.start()
    try:
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init,
                                 initargs=(progress, dict(os.environ), starter(context))) as pool:
            futures: dict[Future[tuple[str, str]], Path] = {
                pool.submit(_worker_build, p, inner): p for p in largest_first(todo)
            }
            for future in as_completed(futures):
                path = futures[future]
                try:
                    outcome = future.result()
                except Exception as exc:  # a worker that died: that article failed, the batch goes on
                    outcome = ("failed", f"worker failed: {type(exc).__name__}: {exc}")
                _record(path, outcome, options, result)
                tell("article", 1)
    finally:
        progress.put(None)  # after every worker's own: the pool has shut down, its workers are gone
        relay_thread.join()


_progress: Any = None


def _worker_init(progress: Any, environ: dict[str, str], parent: int | None) -> None:
    die_with_parent(parent)  # a batch killed outright takes its workers with it
    global _progress
    _progress = progress
    adopt_environment(environ)
    logging.getLogger("audio.lock").setLevel(logging.ERROR)  # the batch's own workers take turns to publish: no news


def _worker_build(path: Path, options: edition.BuildOptions) -> tuple[str, str]:
    return _build_one(path, options, lambda index, take: _progress.put(1))


def _build_one(path: Path, options: edition.BuildOptions, on_take: Callable[[int, Any], None]) -> tuple[str, str]:
    """("built", slug) or ("failed", one-line reason): nothing escapes as a traceback."""
    try:
        built = edition.build(path, options, refresh_site=False, on_take=on_take)
    except AudioEditionError as exc:
        return "failed", str(exc)
    except OSError as exc:
        return "failed", f"{exc.filename + ': ' if exc.filename else ''}{exc.strerror or exc}"
    except Exception as exc:
        log.debug("build of %s failed", path, exc_info=True)
        return "failed", f"{type(exc).__name__}: {exc}"
    return "built", built.slug


def _record(path: Path, outcome: tuple[str, str], options: edition.BuildOptions, result: BatchResult) -> None:
    status, detail = outcome
    if status == "built":
        result.built.append(edition.load(options.out / detail))
    else:
        result.failed.append((path, detail))
