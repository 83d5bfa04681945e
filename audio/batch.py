"""Build many articles: on every core, past bad ones, skipping editions whose source and settings are unchanged."""
from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing.connection
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from . import edition, publish, stops, workers
from .errors import AudioEditionError, BadInput
from .manifest import MANIFEST, Edition
from .manifest import load as load_edition
from .site import refresh
from .speech import pool
from .speech.takes import TAKE_TIMEOUT
from .text import article as article_stage
from .text import source

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = (".txt", ".text", ".md", ".markdown", ".html", ".htm")
# What a batch reports as it goes: ("article", 1) when one is done or skipped, ("takes", n) as takes are made.
Report = Callable[[str, int], None]
# An article file, or a page already read (follow.py: fetched): both go to a worker as they are.
Input = Path | source.Document


@dataclass
class BatchResult:
    built: list[Edition] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Input, str]] = field(default_factory=list)
    unpublished: str | None = None  # why the catalogue, feed or index.html could not be refreshed at the end


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


def slug_of(doc: source.Document, options: edition.BuildOptions) -> str:
    """The slug the article's edition is built under: from the file's name, without parsing the article
    (which detects its language) unless it has no name (standard input)."""
    slug = article_stage.file_slug(doc, options.slug)
    if slug is None:
        appeal = source.read(options.appeal_file) if options.appeal_file else None
        slug = article_stage.parse(
            doc, options.config, article_stage.ArticleOptions(options.title, options.slug, appeal, options.no_appeal)
        ).slug
    return slug


def up_to_date(doc: source.Document, slug: str, options: edition.BuildOptions) -> Edition | None:
    """The edition in out/<slug>/ if it was built from this very source with these very settings, and
    every file it lists is there at its size (one removed or cut short since is built again); else None."""
    folder = options.out / slug
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or manifest.get("build_key") != edition.build_key(doc, options):
            return None
        if all((folder / f["name"]).stat().st_size == f["bytes"] for f in manifest["files"]):
            return Edition(slug, folder, manifest)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def run(
    paths: Sequence[Path], options: edition.BuildOptions, report: Report | None = None, timeout: float | None = None
) -> BatchResult:
    """Build every article in worker processes (with jobs > 1 several at once, one article a worker; a
    single article, or a cluster's batch, is built in this process).

    The catalogue and feed are refreshed once, at the end, for everything built, and for the published
    editions the catalogue does not hold as built (published by a batch that was stopped before its end).
    `timeout`: seconds one take may take in a worker before the worker is taken for hung (takes.TAKE_TIMEOUT).
    """
    tell = report or (lambda event, n: None)
    publish.claim(options.out, options.adopt_out)
    result = BatchResult()
    todo: list[Path] = []
    first_of: dict[str, Path] = {}  # the article each slug's edition is built from
    for path in articles(paths):
        try:
            doc = source.read(path)
            slug = slug_of(doc, options)
            if slug in first_of:  # two articles, one out/<slug>/: each run would replace the other's edition
                raise BadInput(f"{path}: its edition and {first_of[slug]}'s would both be {options.out / slug}/: "
                               "rename one of them")
            first_of[slug] = path
            found = up_to_date(doc, slug, options)
            if found is not None:
                result.skipped.append(path)
                tell("article", 1)
                continue
        except AudioEditionError as exc:
            result.failed.append((path, str(exc)))
            tell("article", 1)
            continue
        except Exception as exc:  # (as _build_one: one article's surprise fails that article, not the batch)
            log.debug("reading %s failed", path, exc_info=True)
            result.failed.append((path, f"{type(exc).__name__}: {exc}"))
            tell("article", 1)
            continue
        todo.append(path)
    return build_all(todo, options, report, timeout, result)


def build_all(
    todo: Sequence[Input], options: edition.BuildOptions, report: Report | None = None, timeout: float | None = None,
    result: BatchResult | None = None,
) -> BatchResult:
    """Build every article given, skipping none (run's second half), then refresh the catalogue and feed once."""
    tell = report or (lambda event, n: None)
    result = result if result is not None else BatchResult()
    jobs = options.jobs or edition.cores()
    if len(todo) > 1 and options.scheduler is None:  # (--jobs 1 too: one worker, replaced if it dies or hangs)
        _in_workers(list(todo), options, min(jobs, len(todo)), result, tell,
                    TAKE_TIMEOUT if timeout is None else timeout)
    else:
        for path in todo:
            outcome = _build_one(path, options, lambda index, take: tell("takes", 1))
            _record(path, outcome, options, result)
            tell("article", 1)
    # An edition published by a batch that was killed before its end was never catalogued: it is now.
    if result.built or refresh.unlisted(options.out):
        try:
            refresh.site(options.out, options.config, result.built)
        except (AudioEditionError, OSError) as exc:  # (a full disk): reported with the articles' own failures
            result.unpublished = _one_line(exc)
    return result


def named(article: Input) -> str:
    """An article as a message names it: its file, or the URL of its page."""
    if isinstance(article, source.Document):
        return article.url or str(article.path)
    return str(article)


def largest_first(paths: Sequence[Input]) -> list[Input]:
    """The articles by file size, largest first (equal sizes in the order given): the last to start are
    then the shortest, and a long article is not left to run alone at the end while the other workers idle."""

    def size(path: Input) -> int:
        if isinstance(path, source.Document):
            return len(path.text)
        try:
            return path.stat().st_size
        except OSError:
            return 0  # (its build reports what is wrong)

    return sorted(paths, key=size, reverse=True)


def _in_workers(
    todo: list[Input], options: edition.BuildOptions, count: int, result: BatchResult, tell: Report, timeout: float
) -> None:
    """One article per worker process at a time, each speaking its takes itself (jobs=1 inside), the
    largest first.

    A worker that dies (killed, out of memory, a crash in the engine), or spends more than `timeout` on
    one take (hung), costs only the article it was building: a new worker takes its place and the
    article is tried once more (the takes already made are in the cache), then reported failed.
    Each worker reports on its own pipe, which nothing else writes: a worker killed mid-message cannot
    leave a lock held that the others would wait on (a shared multiprocessing queue can).
    """
    context = pool.context()
    inner = options._replace(jobs=1)
    queue = deque(largest_first(todo))
    tries: dict[Input, int] = {}
    running: dict[Any, workers.Worker] = {}  # by connection
    started: list[workers.Worker] = []  # every worker, whatever it is doing: all are stopped at the end
    cores = _Cores(count)

    def start() -> workers.Worker:
        started.append(workers.start(context, _serve))  # Ctrl-C is this process's: it stops the workers
        cores.pin(started[-1], started[:-1])  # before it is given work: its threads and programs follow it
        return started[-1]

    def died(worker: workers.Worker, reason: str | None = None) -> None:
        """The article gets one more try, on a new worker; then it failed."""
        path = worker.task
        assert path is not None
        reason = reason or workers.death(worker)
        tries[path] = tries.get(path, 0) + 1
        if tries[path] > 1:
            _record(path, BuildFailed(f"worker {reason}, and again on a new one"), options, result)
            tell("article", 1)
        else:
            log.warning("%s: worker %s; building it again on a new one", named(path), reason)
            queue.appendleft(path)
        worker.conn.close()
        if queue:  # a worker in its place, while there is work left
            idle.append(start())

    def give_work() -> None:
        if idle and not queue:  # the batch's tail: a worker still building may use the cores the others left
            cores.free(list(running.values()))
        while idle and queue:
            worker = idle.pop()
            worker.task = queue.popleft()
            try:
                worker.conn.send(Article(worker.task if isinstance(worker.task, source.Document) else str(worker.task), inner))
            except (OSError, ValueError):  # it died before it could take the article
                died(worker)
                continue
            running[worker.conn] = worker

    idle = [start() for _ in range(min(count, len(queue)))]
    try:
        while queue or running:
            stops.check()
            give_work()
            speaking = [w.since for w in running.values() if w.since is not None]
            wait = max(0.0, min(speaking) + timeout - time.monotonic()) if speaking else None
            ready_now = multiprocessing.connection.wait(list(running), wait)
            for worker in [w for w in running.values() if w.conn not in ready_now]:
                if worker.since is not None and time.monotonic() - worker.since >= timeout:
                    del running[worker.conn]  # hung: replaced, its article tried again
                    worker.process.kill()
                    worker.process.join()
                    died(worker, f"hung for {timeout:.0f} s on one take")
            for ready in ready_now:
                worker = running[ready]
                try:
                    message = worker.conn.recv()
                except (EOFError, OSError):
                    del running[ready]
                    died(worker)
                    continue
                if isinstance(message, Speaking):
                    worker.since = time.monotonic() if message.now else None
                elif isinstance(message, TakeMade):
                    tell("takes", 1)
                else:
                    del running[ready]
                    built, worker.task = worker.task, None
                    idle.append(worker)
                    give_work()  # the next article first: reading this one's edition back can wait
                    _record(built, message, options, result)
                    tell("article", 1)
    finally:
        workers.stop(w for w in started if w.process.exitcode is None)  # (one given work, not yet running, too)


# What a batch worker is sent, and what it sends back.
class Article(NamedTuple):
    path: str | source.Document  # a file's path, or a page already fetched (follow)
    options: edition.BuildOptions


class Speaking(NamedTuple):
    now: bool  # its engine started (True) or ended (False) a take


class TakeMade(NamedTuple):
    pass


class Built(NamedTuple):
    slug: str


class BuildFailed(NamedTuple):
    reason: str  # one line


class _Cores:
    """One worker a core, while there are as many workers as cores and work for all of them.

    A worker pinned to its core keeps its ffmpeg runs and encoder threads there too; left to the
    scheduler, they moved between the cores and left one idle at times (figures: docs/performance.md,
    "Figures behind the code"). With fewer workers than cores, a worker's ffmpeg may use a
    free core, so none is pinned; with more, pinned workers could not even out. At the batch's tail,
    when a worker has no article left, the others are freed for the same reason."""

    def __init__(self, workers: int) -> None:
        try:
            self.allowed = sorted(os.sched_getaffinity(0))  # (within what this process was given: taskset, cgroups)
        except AttributeError:  # not on Linux: the system places the workers
            self.allowed = []
        self.pinning = len(self.allowed) > 1 and workers == len(self.allowed)

    def pin(self, worker: workers.Worker, others: list[workers.Worker]) -> None:
        """To the core the fewest live workers keep to (a worker in a dead one's place takes its core)."""
        if not self.pinning:
            return
        taken = [w.cpu for w in others if w.process.exitcode is None and w.cpu is not None]
        worker.cpu = min(self.allowed, key=taken.count)
        self._set(worker, [worker.cpu])

    def free(self, busy: list[workers.Worker]) -> None:
        if self.pinning:
            self.pinning = False
            for worker in busy:
                self._set(worker, self.allowed)

    @staticmethod
    def _set(worker: workers.Worker, cpus: list[int]) -> None:
        """The worker's main thread, and so every thread and program it starts from then on."""
        with contextlib.suppress(OSError):  # (one that has just died)
            os.sched_setaffinity(worker.process.pid, cpus)


def _serve(conn: Any, environ: dict[str, str], parent: int | None) -> None:
    """A batch worker: builds the articles it is sent, one at a time, until None (or SIGTERM)."""
    workers.serving(parent, environ, on_sigterm=_asked_to_stop)  # a worker stopped so cleans up (edition.build)
    logging.getLogger("audio.lock").setLevel(logging.ERROR)  # the batch's own workers take turns to publish: no news
    sending = threading.Lock()

    from .speech import engine

    def send(message: Speaking | TakeMade | Built | BuildFailed) -> None:
        with sending:
            conn.send(message)

    try:
        with engine.watched(lambda speaking: send(Speaking(speaking))):
            while True:
                stops.check()  # (asked while it built an article it has just finished)
                _waiting.append(True)  # the pipe is all it waits on: a stop may end the wait at once
                try:
                    task = conn.recv()
                finally:
                    _waiting.clear()
                if task is None:
                    break
                send(_build_one(Path(task.path) if isinstance(task.path, str) else task.path, task.options, lambda index, take: send(TakeMade())))
    except (EOFError, OSError, KeyboardInterrupt, stops.Stopped):
        return  # the batch ended or was stopped: a stopped build has left out/ as it was


_waiting: list[bool] = []  # [True] while a batch worker waits for its next article


def _asked_to_stop(number: int, frame: Any) -> None:
    """A worker's build stops at its next check (stops.check: between takes, between its stages), where
    its state is whole: raised anywhere, the exception could fall between making a cache entry's partial
    file and the code that removes it (1 batch in 5, stopped so, left one). A worker waiting for work
    stops at once."""
    stops.request(number)
    if _waiting:
        raise stops.Stopped(number)


def _build_one(path: Input, options: edition.BuildOptions, on_take: Callable[[int, Any], None]) -> Built | BuildFailed:
    """Nothing escapes as a traceback."""
    try:
        built = edition.build(path, options, on_take=on_take)
    except (AudioEditionError, OSError) as exc:
        return BuildFailed(_one_line(exc))
    except Exception as exc:
        log.debug("build of %s failed", named(path), exc_info=True)
        return BuildFailed(f"{type(exc).__name__}: {exc}")
    return Built(built.slug)


def _one_line(exc: AudioEditionError | OSError) -> str:
    if isinstance(exc, AudioEditionError):
        return str(exc)
    return f"{str(exc.filename) + ': ' if exc.filename else ''}{exc.strerror or exc}"


def _record(path: Input, outcome: Built | BuildFailed, options: edition.BuildOptions, result: BatchResult) -> None:
    if isinstance(outcome, Built):
        result.built.append(load_edition(options.out / outcome.slug))
    else:
        result.failed.append((path, outcome.reason))
