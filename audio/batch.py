"""Build many articles: on every core, past bad ones, skipping editions whose source and settings are unchanged."""
from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing.connection
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import edition, publish, stops
from .errors import AudioEditionError, BadInput
from .manifest import MANIFEST, Edition
from .manifest import load as load_edition
from .site import refresh
from .speech.pool import (
    adopt_environment,
    die_with_parent,
    start_worker,
    starter,
    worker_signals,
)
from .speech.pool import context as pool_context
from .speech.takes import TAKE_TIMEOUT
from .text import article as article_stage
from .text import source

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = (".txt", ".text", ".md", ".markdown", ".html", ".htm")
# What a batch reports as it goes: ("article", 1) when one is done or skipped, ("takes", n) as takes are made.
Report = Callable[[str, int], None]


@dataclass
class BatchResult:
    built: list[Edition] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
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
    jobs = options.jobs or edition.cores()
    if len(todo) > 1 and options.scheduler is None:  # (--jobs 1 too: one worker, replaced if it dies or hangs)
        _in_workers(todo, options, min(jobs, len(todo)), result, tell, TAKE_TIMEOUT if timeout is None else timeout)
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


def largest_first(paths: Sequence[Path]) -> list[Path]:
    """The articles by file size, largest first (equal sizes in the order given): the last to start are
    then the shortest, and a long article is not left to run alone at the end while the other workers idle."""

    def size(path: Path) -> int:
        try:
            return path.stat().st_size
        except OSError:
            return 0  # (its build reports what is wrong)

    return sorted(paths, key=size, reverse=True)


def _in_workers(
    todo: list[Path], options: edition.BuildOptions, workers: int, result: BatchResult, tell: Report, timeout: float
) -> None:
    """One article per worker process at a time, each speaking its takes itself (jobs=1 inside), the
    largest first.

    A worker that dies (killed, out of memory, a crash in the engine), or spends more than `timeout` on
    one take (hung), costs only the article it was building: a new worker takes its place and the
    article is tried once more (the takes already made are in the cache), then reported failed.
    Each worker reports on its own pipe, which nothing else writes: a worker killed mid-message cannot
    leave a lock held that the others would wait on (a shared multiprocessing queue can).
    """
    context = pool_context()
    inner = options._replace(jobs=1)
    queue = deque(largest_first(todo))
    tries: dict[Path, int] = {}
    running: dict[Any, _Worker] = {}  # by connection
    started: list[_Worker] = []  # every worker, whatever it is doing: all are stopped at the end
    cores = _Cores(workers)

    def start() -> _Worker:
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child, dict(os.environ), starter(context)), daemon=True)
        start_worker(process)  # Ctrl-C is this process's to handle: it stops the workers (_stop)
        child.close()
        started.append(_Worker(process, parent))
        cores.pin(started[-1], started[:-1])  # before it is given work: its threads and programs follow it
        return started[-1]

    def died(worker: _Worker, reason: str | None = None) -> None:
        """The article gets one more try, on a new worker; then it failed."""
        assert worker.path is not None
        reason = reason or _death(worker)
        tries[worker.path] = tries.get(worker.path, 0) + 1
        if tries[worker.path] > 1:
            _record(worker.path, ("failed", f"worker {reason}, and again on a new one"), options, result)
            tell("article", 1)
        else:
            log.warning("%s: worker %s; building it again on a new one", worker.path, reason)
            queue.appendleft(worker.path)
        worker.conn.close()
        if queue:  # a worker in its place, while there is work left
            idle.append(start())

    def give_work() -> None:
        if idle and not queue:  # the batch's tail: a worker still building may use the cores the others left
            cores.free(list(running.values()))
        while idle and queue:
            worker = idle.pop()
            worker.path = queue.popleft()
            try:
                worker.conn.send((str(worker.path), inner))
            except (OSError, ValueError):  # it died before it could take the article
                died(worker)
                continue
            running[worker.conn] = worker

    idle = [start() for _ in range(min(workers, len(queue)))]
    try:
        while queue or running:
            stops.check()
            give_work()
            speaking = [w.speaking for w in running.values() if w.speaking is not None]
            wait = max(0.0, min(speaking) + timeout - time.monotonic()) if speaking else None
            ready_now = multiprocessing.connection.wait(list(running), wait)
            for worker in [w for w in running.values() if w.conn not in ready_now]:
                if worker.speaking is not None and time.monotonic() - worker.speaking >= timeout:
                    del running[worker.conn]  # hung: replaced, its article tried again
                    worker.process.kill()
                    worker.process.join()
                    died(worker, f"hung for {timeout:.0f} s on one take")
            for ready in ready_now:
                worker = running[ready]
                assert worker.path is not None
                try:
                    message: tuple[str, Any] = worker.conn.recv()
                except (EOFError, OSError):
                    del running[ready]
                    died(worker)
                    continue
                if message[0] == "speaking":
                    worker.speaking = time.monotonic() if message[1] else None
                    continue
                if message[0] == "takes":
                    tell("takes", message[1])
                    continue
                del running[ready]
                built, worker.path = worker.path, None
                idle.append(worker)
                give_work()  # the next article first: reading this one's edition back can wait
                _record(built, message[1], options, result)
                tell("article", 1)
    finally:
        _stop([w for w in started if w.process.exitcode is None])  # (one given work but not yet listed as running too)


@dataclass
class _Worker:
    process: Any
    conn: Any
    path: Path | None = None  # the article it is building
    speaking: float | None = None  # since when (time.monotonic()) its engine has been speaking one take
    cpu: int | None = None  # the core it keeps to (_Cores)


class _Cores:
    """One worker a core, while there are as many workers as cores and work for all of them.

    A worker pinned to its core keeps its ffmpeg runs and encoder threads there too. Left to the
    scheduler, the two workers of a 100-article batch on two cores and the programs they feed through
    pipes moved between the cores 2,284-2,782 times (191-364 pinned) and kept 1.73-1.77 of the two
    cores busy (1.89 pinned), for the same CPU time (perf stat, 3 runs each, alternated): most likely
    a woken task placed beside its waker (Linux does so) while the other core stood idle. The batch
    took 7.9-8.4 s instead of 8.7-9.2. With fewer workers than cores, a worker's ffmpeg may use a
    free core, so none is pinned; with more, pinned workers could not even out. At the batch's tail,
    when a worker has no article left, the others are freed for the same reason."""

    def __init__(self, workers: int) -> None:
        try:
            self.allowed = sorted(os.sched_getaffinity(0))  # (within what this process was given: taskset, cgroups)
        except AttributeError:  # not on Linux: the system places the workers
            self.allowed = []
        self.pinning = len(self.allowed) > 1 and workers == len(self.allowed)

    def pin(self, worker: _Worker, others: list[_Worker]) -> None:
        """To the core the fewest live workers keep to (a worker in a dead one's place takes its core)."""
        if not self.pinning:
            return
        taken = [w.cpu for w in others if w.process.exitcode is None and w.cpu is not None]
        worker.cpu = min(self.allowed, key=taken.count)
        self._set(worker, [worker.cpu])

    def free(self, workers: list[_Worker]) -> None:
        if self.pinning:
            self.pinning = False
            for worker in workers:
                self._set(worker, self.allowed)

    @staticmethod
    def _set(worker: _Worker, cpus: list[int]) -> None:
        """The worker's main thread, and so every thread and program it starts from then on."""
        with contextlib.suppress(OSError):  # (one that has just died)
            os.sched_setaffinity(worker.process.pid, cpus)


def _death(worker: _Worker) -> str:
    worker.process.join(timeout=5)
    if worker.process.is_alive():  # its end of the pipe closed, yet alive: not a worker to keep
        worker.process.kill()
        worker.process.join()
    code = worker.process.exitcode
    if code is not None and code < 0:
        return f"killed by signal {-code} ({signal.Signals(-code).name})"
    return f"ended with exit code {code}"


def _stop(workers: list[_Worker]) -> None:
    """Tell idle workers to end; stop busy ones (SIGTERM: their builds leave out/ as it was), kill what lingers."""
    for worker in workers:
        with contextlib.suppress(OSError, ValueError):
            if worker.path is None:
                worker.conn.send(None)
            else:
                worker.process.terminate()
        worker.conn.close()  # (one that finished its article meanwhile then reads the pipe's end, and ends)
    deadline = time.monotonic() + 10
    for worker in workers:
        worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()


def _serve(conn: Any, environ: dict[str, str], parent: int | None) -> None:
    """A batch worker: builds the articles it is sent, one at a time, until None (or SIGTERM)."""
    die_with_parent(parent)  # a batch killed outright takes its workers with it
    worker_signals(on_sigterm=_asked_to_stop)  # the batch stops its workers; one stopped so cleans up (edition.build)
    adopt_environment(environ)
    logging.getLogger("audio.lock").setLevel(logging.ERROR)  # the batch's own workers take turns to publish: no news
    sending = threading.Lock()

    from .speech import engine

    def send(message: tuple[str, Any]) -> None:
        with sending:
            conn.send(message)

    try:
        with engine.watched(lambda speaking: send(("speaking", speaking))):
            while True:
                stops.check()  # (asked while it built an article it has just finished)
                _waiting.append(True)  # the pipe is all it waits on: a stop may end the wait at once
                try:
                    task = conn.recv()
                finally:
                    _waiting.clear()
                if task is None:
                    break
                path, options = task
                send(("done", _build_one(Path(path), options, lambda index, take: send(("takes", 1)))))
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


def _build_one(path: Path, options: edition.BuildOptions, on_take: Callable[[int, Any], None]) -> tuple[str, str]:
    """("built", slug) or ("failed", one-line reason): nothing escapes as a traceback."""
    try:
        built = edition.build(path, options, on_take=on_take)
    except (AudioEditionError, OSError) as exc:
        return "failed", _one_line(exc)
    except Exception as exc:
        log.debug("build of %s failed", path, exc_info=True)
        return "failed", f"{type(exc).__name__}: {exc}"
    return "built", built.slug


def _one_line(exc: AudioEditionError | OSError) -> str:
    if isinstance(exc, AudioEditionError):
        return str(exc)
    return f"{str(exc.filename) + ': ' if exc.filename else ''}{exc.strerror or exc}"


def _record(path: Path, outcome: tuple[str, str], options: edition.BuildOptions, result: BatchResult) -> None:
    status, detail = outcome
    if status == "built":
        result.built.append(load_edition(options.out / detail))
    else:
        result.failed.append((path, detail))
