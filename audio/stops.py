"""SIGTERM (a service manager, `timeout`) and SIGHUP (a closed terminal) stop a command as Ctrl-C does.

The signal raises Stopped in the main thread, so that a build stopped so cleans up on its way out
(discards its staging, ends its workers, removes its partial takes and temporary files); the command
line then ends the process by that signal (cli.run_command). Python runs a signal's handler wherever
the main thread is, also inside an object's finalizer, where an exception is only printed ("Exception
ignored in …") and lost: the loops that wait for long (a batch's, the speech pool's, the takes spoken
in the build's process) and the stages of a build call `check()`, which raises it again.
"""
from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

STOPS = (signal.SIGTERM, signal.SIGHUP)
_requested: list[int] = []
_interrupted: list[bool] = []  # [True] once Ctrl-C raised KeyboardInterrupt (perhaps where it was lost)


class Stopped(BaseException):
    """Not an Exception: nothing that handles errors catches it (as KeyboardInterrupt)."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


def catch() -> None:
    """From now on SIGTERM and SIGHUP raise Stopped (main thread only; a SIGHUP ignored, as under
    `nohup`, stays ignored)."""
    for number in STOPS:
        if signal.getsignal(number) == signal.SIG_DFL:
            signal.signal(number, _stop)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupt)
    if not getattr(sys.unraisablehook, "keeps_stops", False):
        sys.unraisablehook = _quiet_in_finalizers(sys.unraisablehook)


def requested() -> int | None:
    """The signal that asked this process to stop, if one did."""
    return _requested[0] if _requested else None


def check() -> None:
    """Raise Stopped if a stop was asked for, KeyboardInterrupt after a Ctrl-C (their exception perhaps lost
    in a finalizer)."""
    if _requested:
        raise Stopped(_requested[0])
    if _interrupted:
        raise KeyboardInterrupt


def forget() -> None:
    """In a worker process just forked: a stop its starter was asked for is the starter's to act on."""
    _requested.clear()
    _interrupted.clear()


def request(number: int) -> None:
    """Ask for a stop at the next check() (a handler that raises nothing: a batch worker's)."""
    if not _requested:
        _requested.append(number)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Within: Ctrl-C, SIGTERM and SIGHUP are held, and delivered once the block is done (where the state
    it leaves is whole: a file made there is listed for removal before a stop can leave it behind).
    Main thread only (where Python runs signal handlers); elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, *STOPS)}
    for number, handler in previous.items():
        if handler not in (signal.SIG_IGN, None):
            signal.signal(number, lambda caught, frame: held.append(caught))
    try:
        yield
    finally:
        for number, handler in previous.items():
            if handler not in (signal.SIG_IGN, None):
                signal.signal(number, handler)
    for caught in dict.fromkeys(held):
        signal.raise_signal(caught)  # (its own handler now: Stopped, KeyboardInterrupt, or the default)


def _quiet_in_finalizers(previous: Any) -> Any:
    """A Stopped or a Ctrl-C's KeyboardInterrupt raised inside a finalizer is lost there (see above) and
    raised again by the next check(): Python's "Exception ignored in …" traceback for it would only be
    noise on the way out."""

    def hook(unraisable: Any) -> None:
        lost = unraisable.exc_value
        if not (isinstance(lost, Stopped) or (isinstance(lost, KeyboardInterrupt) and _interrupted)):
            previous(unraisable)

    hook.keeps_stops = True  # type: ignore[attr-defined]
    return hook


def _interrupt(number: int, frame: Any) -> None:
    """Ctrl-C, as Python's own handler, remembered for check()."""
    if not _interrupted:
        _interrupted.append(True)
    raise KeyboardInterrupt


def _stop(number: int, frame: Any) -> None:
    request(number)
    for each in STOPS:  # a second one ends the process at once
        signal.signal(each, signal.SIG_DFL)
    raise Stopped(number)
