"""Worker processes that speak takes, one engine each; a worker that hangs is replaced and its take retried once."""
from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import stops
from ..errors import AudioEditionError, BadInput, ToolFailed, ToolMissing
from . import engine as seam
from . import voice
from .takes import TAKE_TIMEOUT

log = logging.getLogger(__name__)

# A task: (index, text, path to write the WAV to). A result: frames and sample rate of the take.
Task = tuple[int, str, str]
Speak = Callable[[Any, str, Path], tuple[int, int]]


def speak(settings: Any, text: str, path: Path) -> tuple[int, int]:
    """The default work of a worker: this process's own engine speaks one take."""
    take = seam.take(voice.engine(settings.engine), text, settings, path)
    return take.frames, take.sample_rate


@dataclass
class _Worker:
    process: Any
    conn: Any
    task: Task | None = None
    started: float = 0.0


class Pool:
    """`jobs` worker processes; use as a context manager so that they always end."""

    def __init__(self, settings: Any, jobs: int, timeout: float | None = None, work: Speak = speak) -> None:
        self.settings = settings
        self.jobs = max(1, jobs)
        self.timeout = TAKE_TIMEOUT if timeout is None else timeout
        self.work = work
        self._context = context()
        self._workers: list[_Worker] = []

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self.close(at_once=kind is not None)

    def close(self, at_once: bool = False) -> None:
        """Ask the workers to end (a take under way is finished first); `at_once` (the build failed or
        was stopped: its takes are discarded) kills them instead."""
        for worker in self._workers:
            try:
                if at_once:
                    worker.process.kill()
                else:
                    worker.conn.send(None)
            except (OSError, ValueError):
                pass
        for worker in self._workers:
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self._workers = []

    def start(self, tasks: int) -> None:
        """Start the workers that many tasks need (run() starts them if this was not called)."""
        while len(self._workers) < min(self.jobs, tasks):
            self._workers.append(self._start())

    def run(self, tasks: Sequence[Task], done: Callable[[int, int, int], None]) -> None:
        """Speak every task; `done(index, frames, sample_rate)` is called in this thread as each take is ready."""
        queue: deque[Task] = deque(tasks)
        tries: dict[int, int] = {}
        self.start(len(tasks))
        busy = 0
        while queue or busy:
            stops.check()
            for worker in self._workers:
                if worker.task is None and queue:
                    worker.task = queue.popleft()
                    worker.started = time.monotonic()
                    worker.conn.send(worker.task)
                    busy += 1
            waiting = [w for w in self._workers if w.task is not None]
            deadline = min(w.started for w in waiting) + self.timeout
            ready = multiprocessing.connection.wait([w.conn for w in waiting], max(0.0, deadline - time.monotonic()))
            for worker in waiting:
                task = worker.task
                assert task is not None
                if worker.conn in ready:
                    try:
                        reply = worker.conn.recv()
                    except (EOFError, OSError):
                        reply = None  # the worker died (killed, or crashed in the engine)
                    if reply is not None:
                        worker.task = None
                        busy -= 1
                        _raise_failure(reply)
                        done(task[0], reply[1], reply[2])
                        continue
                elif time.monotonic() - worker.started < self.timeout:
                    continue
                # Hung or dead: replace the worker; the take gets one more try on another.
                busy -= 1
                worker.task = None
                tries[task[0]] = tries.get(task[0], 0) + 1
                log.warning("take %d: worker %s %s; retrying", task[0], worker.process.pid,
                            "died" if worker.conn in ready else f"hung for {self.timeout:.0f} s")
                self._replace(worker)
                if tries[task[0]] > 1:
                    raise ToolFailed("speech worker", [task[1][:60]], None, f"take {task[0]} failed twice (hung or died)")
                queue.appendleft(task)

    def _start(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(child, self.settings, self.work, dict(os.environ),
                                                             starter(self._context)), daemon=True)
        start_worker(process)
        child.close()
        return _Worker(process, parent)

    def _replace(self, worker: _Worker) -> None:
        worker.process.kill()  # a process this pool started, by its own handle
        worker.process.join()
        worker.conn.close()
        fresh = self._start()
        worker.process, worker.conn = fresh.process, fresh.conn


def context() -> Any:
    """fork where this process has no threads and no engine yet (cheapest); else a fork server.

    eSpeak NG runs a synthesis thread once initialised: a forked copy of an initialised
    process waits for that thread forever. The fork server is a clean process that never
    speaks, so every worker initialises its own engine.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and not voice.engine_started() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["audio.speech.voice", "audio.speech.pyttsx3_engine"])
        return context
    return multiprocessing.get_context("spawn")


def adopt_environment(environ: dict[str, str]) -> None:
    """Take the starting process's environment (its choice of eSpeak NG and ffmpeg). A fork server
    keeps the environment it was started with, which may be older than the build's."""
    if environ != os.environ:
        os.environ.clear()
        os.environ.update(environ)


_MASKS = hasattr(signal, "pthread_sigmask")  # (not on Windows)


# What reaches a whole process group (Ctrl-C, a closed terminal) and is the starting process's to act on:
# it stops its workers itself (Pool.close, batch._stop). SIGTERM, sent to one worker, ends it.
_LEFT_TO_STARTER = (signal.SIGINT, signal.SIGHUP)
_HELD = {*_LEFT_TO_STARTER, signal.SIGTERM}


def start_worker(process: Any) -> None:
    """Start a worker that leaves Ctrl-C and a hang-up to the process that starts it (which ends it).

    A forked worker is born with those signals (and SIGTERM) held back until it has its own handlers
    (worker_signals, its first act): the starter's, which it inherits, would raise in the worker (a
    traceback on the user's terminal). A signal meanwhile waits for the unblocking, and is not lost."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD) if _MASKS else set()
    try:
        process.start()
    finally:
        if _MASKS:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


def worker_signals(on_sigterm: Any = signal.SIG_DFL) -> None:
    """In a worker started by start_worker: Ctrl-C and a hang-up reach the whole process group, and the
    starter ends its workers; SIGTERM ends the worker (or runs `on_sigterm`: a batch worker's cleans up)."""
    for number in _LEFT_TO_STARTER:
        signal.signal(number, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, on_sigterm)
    stops.forget()
    if _MASKS:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)


def starter(context: Any) -> int | None:
    """What a worker started in `context` gives die_with_parent: this process's id if the worker is
    forked from it, None if another process (a fork server) forks it."""
    return os.getpid() if context.get_start_method() == "fork" else None


def die_with_parent(parent: int | None) -> None:
    """Linux: have the kernel kill this worker when the process that forked it ends (`parent`: its id,
    or None for a fork server, which ends with the build that started it).

    A build or batch killed outright cannot end its workers, and they would wait for work for ever:
    a forked worker inherits the build's end of its own pipe and of every earlier worker's, so none of
    them ever reads the end of its pipe."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    if ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) != 0:
        return
    if parent is not None and os.getppid() != parent:
        os._exit(1)  # it ended before the kernel was asked


def _serve(conn: Any, settings: Any, work: Speak, environ: dict[str, str], parent: int | None = None) -> None:
    """A worker's loop: one take at a time until told to stop. Nothing it prints reaches the user."""
    die_with_parent(parent)
    adopt_environment(environ)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # pyttsx3 prints from eSpeak's thread, outside any redirect
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the worker
    worker_signals()  # the build ends its workers (Pool.close)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if task is None:
            return
        index, text, path = task
        try:
            frames, rate = work(settings, text, Path(path))
            conn.send(("ok", frames, rate))
        except OSError as exc:
            conn.send(("oserror", exc.errno, exc.strerror, exc.filename))
        except ToolFailed as exc:
            conn.send(("tool", exc.program, exc.command, exc.returncode, exc.stderr))
        except AudioEditionError as exc:
            conn.send(("error", type(exc).__name__, str(exc)))
        except Exception as exc:  # the engine's own errors: reported, never a traceback
            conn.send(("tool", "speech engine", ["take"], None, f"{type(exc).__name__}: {exc}"))


def _raise_failure(reply: tuple[Any, ...]) -> None:
    if reply[0] == "ok":
        return
    if reply[0] == "oserror":
        raise OSError(reply[1], reply[2], reply[3])
    if reply[0] == "tool":
        raise ToolFailed(reply[1], reply[2], reply[3], reply[4])
    kind = {"BadInput": BadInput, "ToolMissing": ToolMissing}.get(reply[1], AudioEditionError)
    raise kind(reply[2])
