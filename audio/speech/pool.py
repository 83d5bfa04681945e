"""Worker processes that speak takes, one engine each; a worker that hangs is replaced and its take retried once."""
from __future__ import annotations

import contextlib
import logging
import multiprocessing.connection
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import stops, workers
from ..errors import ToolFailed
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


class Pool:
    """`jobs` worker processes; use as a context manager so that they always end."""

    def __init__(self, settings: Any, jobs: int, timeout: float | None = None, work: Speak = speak) -> None:
        self.settings = settings
        self.jobs = max(1, jobs)
        self.timeout = TAKE_TIMEOUT if timeout is None else timeout
        self.work = work
        self._context = context()
        self._workers: list[workers.Worker] = []

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self.close(at_once=kind is not None)

    def close(self, at_once: bool = False) -> None:
        """Ask the workers to end (a take under way is finished first); `at_once` (the build failed or
        was stopped: its takes are discarded) kills them instead."""
        if at_once:
            for worker in self._workers:
                with contextlib.suppress(OSError):
                    worker.process.kill()
        for worker in self._workers:
            worker.task = None
        workers.stop(self._workers, grace=2)
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
                    worker.since = time.monotonic()
                    worker.conn.send(worker.task)
                    busy += 1
            waiting = [w for w in self._workers if w.task is not None]
            deadline = min(w.since or 0.0 for w in waiting) + self.timeout
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
                        if isinstance(reply, workers.Failed):
                            raise reply.error()
                        done(task[0], reply.frames, reply.sample_rate)
                        continue
                elif time.monotonic() - (worker.since or 0.0) < self.timeout:
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

    def _start(self) -> workers.Worker:
        return workers.start(self._context, _serve, self.settings, self.work)

    def _replace(self, worker: workers.Worker) -> None:
        worker.kill()
        fresh = self._start()
        worker.process, worker.conn = fresh.process, fresh.conn


def context() -> Any:
    """How speech workers are started (workers.context): forked while no engine runs here."""
    return workers.context(voice.engine_started(), ("audio.speech.voice", "audio.speech.pyttsx3_engine"))


@dataclass(frozen=True)
class Spoken:
    """A worker's take: its frames and sample rate."""

    frames: int
    sample_rate: int


def _serve(conn: Any, settings: Any, work: Speak, environ: dict[str, str], parent: int | None = None) -> None:
    """A worker's loop: one take at a time until told to stop. Nothing it prints reaches the user."""
    workers.serving(parent, environ)  # the build ends its workers (Pool.close)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # pyttsx3 prints from eSpeak's thread, outside any redirect
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the worker
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if task is None:
            return
        index, text, path = task
        try:
            conn.send(Spoken(*work(settings, text, Path(path))))
        except Exception as exc:  # the engine's own errors too: reported, never a traceback
            conn.send(workers.Failed.of(exc))
