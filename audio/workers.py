"""Worker processes, for the speech pool and the batch alike: started with their signals held, killed with
the process that starts them, stopped or replaced as a whole, and their failures sent back as values."""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import stops
from .errors import AudioEditionError, BadInput, ToolFailed, ToolMissing


@dataclass
class Worker:
    """One worker process and this process's end of its pipe."""

    process: Any
    conn: Any
    task: Any = None  # what it is working on, None when idle
    since: float | None = None  # when (time.monotonic()) the part of its task that can hang began
    cpu: int | None = None  # the core it keeps to (batch), if any

    def kill(self) -> None:
        """Kill it by its own handle (a process this one started) and wait for its end."""
        self.process.kill()
        self.process.join()
        self.conn.close()


def context(engine_started: bool, preload: Sequence[str] = ()) -> Any:
    """fork where this process has no threads and no engine yet (cheapest); else a fork server.

    An engine may run threads once initialised (eSpeak NG's synthesis thread): a forked copy of such a
    process waits for that thread for ever. The fork server is a clean process that never speaks, so every
    worker initialises its own engine; it imports the modules named in `preload` once, for them all."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and not engine_started and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        forkserver = multiprocessing.get_context("forkserver")
        forkserver.set_forkserver_preload(list(preload))
        return forkserver
    return multiprocessing.get_context("spawn")


def start(context: Any, target: Callable[..., None], *args: Any) -> Worker:
    """A worker running target(conn, *args, environment, starter): see serving()."""
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(child, *args, dict(os.environ), _starter(context)), daemon=True)
    _start_held(process)
    child.close()
    return Worker(process, parent)


def serving(parent: int | None, environ: dict[str, str], on_sigterm: Any = signal.SIG_DFL) -> None:
    """A worker's first act: die with the process that started it, take its environment, and leave Ctrl-C
    and a hang-up to it (they reach the whole process group, and the starter ends its workers); SIGTERM
    ends the worker (or runs `on_sigterm`: a batch worker's cleans up)."""
    _die_with_parent(parent)
    if environ != os.environ:  # a fork server keeps the environment it was started with (an older one)
        os.environ.clear()
        os.environ.update(environ)
    for number in _LEFT_TO_STARTER:
        signal.signal(number, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, on_sigterm)
    stops.forget()
    if _MASKS:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)


def stop(workers: Iterable[Worker], at_once: bool = False, grace: float = 10.0) -> None:
    """End workers: an idle one is told to (None on its pipe); a busy one, or all `at_once`, get SIGTERM (a
    build so stopped leaves out/ as it was); what lingers past `grace` seconds is killed."""
    workers = list(workers)
    for worker in workers:
        with contextlib.suppress(OSError, ValueError):
            if worker.task is None and not at_once:
                worker.conn.send(None)
            else:
                worker.process.terminate()
        worker.conn.close()  # (one that finished its task meanwhile then reads the pipe's end, and ends)
    deadline = time.monotonic() + grace
    for worker in workers:
        worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()


def death(worker: Worker) -> str:
    """How a worker whose pipe closed ended, in words."""
    worker.process.join(timeout=5)
    if worker.process.is_alive():  # its end of the pipe closed, yet alive: not a worker to keep
        worker.process.kill()
        worker.process.join()
    code = worker.process.exitcode
    if code is not None and code < 0:
        return f"killed by signal {-code} ({signal.Signals(-code).name})"
    return f"ended with exit code {code}"


@dataclass(frozen=True)
class Failed:
    """An error in a worker, sent back to be raised in the process that gave the task."""

    kind: str  # "os", "tool", or the name of one of the package's errors
    args: tuple[Any, ...] = field(default=())

    @classmethod
    def of(cls, exc: Exception) -> Failed:
        if isinstance(exc, OSError):
            return cls("os", (exc.errno, exc.strerror, exc.filename))
        if isinstance(exc, ToolFailed):
            return cls("tool", (exc.program, exc.command, exc.returncode, exc.stderr))
        if isinstance(exc, AudioEditionError):  # (an engine's own BadInput, say, is still bad input: exit 2)
            kind = next(c.__name__ for c in (BadInput, ToolMissing, AudioEditionError) if isinstance(exc, c))
            return cls(kind, (str(exc),))
        return cls("tool", ("speech engine", ["take"], None, f"{type(exc).__name__}: {exc}"))  # never a traceback

    def error(self) -> Exception:
        if self.kind == "os":
            return OSError(*self.args)
        if self.kind == "tool":
            return ToolFailed(*self.args)
        return {"BadInput": BadInput, "ToolMissing": ToolMissing}.get(self.kind, AudioEditionError)(*self.args)


_MASKS = hasattr(signal, "pthread_sigmask")  # (not on Windows)
# What reaches a whole process group (Ctrl-C, a closed terminal) and is the starting process's to act on:
# it stops its workers itself. SIGTERM, sent to one worker, ends it.
_LEFT_TO_STARTER = (signal.SIGINT, signal.SIGHUP)
_HELD = {*_LEFT_TO_STARTER, signal.SIGTERM}


def _start_held(process: Any) -> None:
    """Start a worker born with Ctrl-C, a hang-up and SIGTERM held back until it has its own handlers
    (serving, its first act): the starter's, which it inherits, would raise in the worker (a traceback on
    the user's terminal). A signal meanwhile waits for the unblocking, and is not lost."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD) if _MASKS else set()
    try:
        process.start()
    finally:
        if _MASKS:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _starter(context: Any) -> int | None:
    """This process's id if the worker is forked from it, None if another process (a fork server) forks it."""
    return os.getpid() if context.get_start_method() == "fork" else None


def _die_with_parent(parent: int | None) -> None:
    """Linux: have the kernel kill this worker when the process that forked it ends (`parent`: its id, or
    None for a fork server, which ends with the build that started it).

    A build or batch killed outright cannot end its workers, and they would wait for work for ever: a
    forked worker inherits the build's end of its own pipe and of every earlier worker's, so none of them
    ever reads the end of its pipe."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    if ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) != 0:
        return
    if parent is not None and os.getppid() != parent:
        os._exit(1)  # it ended before the kernel was asked
