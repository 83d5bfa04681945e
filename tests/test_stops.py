"""A stop (SIGTERM, SIGHUP, Ctrl-C) raises where the build is, except inside stops.deferred(), where it
waits for the block's end: a file made there is listed for removal before the stop can leave it behind."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import types
from collections.abc import Iterator

import pytest

from audio import stops


@pytest.fixture()
def caught() -> Iterator[None]:
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, *stops.STOPS)}
    for number in stops.STOPS:
        signal.signal(number, signal.SIG_DFL)
    hook = sys.unraisablehook
    stops.catch()
    yield
    stops.forget()
    sys.unraisablehook = hook  # (catch() wrapped it)
    for number, handler in before.items():
        signal.signal(number, handler)


def test_a_stop_inside_a_deferred_block_is_raised_at_its_end(caught: None) -> None:
    listed = []
    with pytest.raises(stops.Stopped) as stopped:
        with stops.deferred():
            os.kill(os.getpid(), signal.SIGTERM)  # (delivered at once: handled before the next line runs)
            listed.append("made")
            listed.append("listed")
    assert listed == ["made", "listed"] and stopped.value.number == signal.SIGTERM


def test_a_stop_outside_raises_where_it_arrives(caught: None) -> None:
    listed = []
    with pytest.raises(stops.Stopped):
        os.kill(os.getpid(), signal.SIGHUP)
        listed.append("never")
    assert listed == []


def test_ctrl_c_inside_a_deferred_block_is_raised_at_its_end(caught: None) -> None:
    listed = []
    with pytest.raises(KeyboardInterrupt):
        with stops.deferred():
            os.kill(os.getpid(), signal.SIGINT)
            listed.append("made")
            listed.append("listed")
    assert listed == ["made", "listed"]
    assert signal.getsignal(signal.SIGINT) is stops._interrupt  # (given back)
    with pytest.raises(KeyboardInterrupt):  # and remembered, where a finalizer would have lost it
        stops.check()



FINALIZER = """
import gc, os, signal, sys
from audio import stops
signal.signal(signal.SIGINT, signal.default_int_handler)
stops.catch()
class Finalized:
    def __del__(self):
        os.kill(os.getpid(), int(sys.argv[1]))  # the handler runs here, where its exception is lost
Finalized()
gc.collect()
print("on")
try:
    stops.check()
except (stops.Stopped, KeyboardInterrupt) as stop:
    print("stopped", type(stop).__name__)
"""


@pytest.mark.parametrize(("number", "raised"), [(signal.SIGTERM, "Stopped"), (signal.SIGINT, "KeyboardInterrupt")])
def test_a_stop_inside_a_finalizer_is_silent_there_and_raised_by_the_next_check(number: int, raised: str) -> None:
    run = subprocess.run([sys.executable, "-c", FINALIZER, str(int(number))], capture_output=True, text=True, timeout=60)
    assert (run.stdout, run.stderr) == (f"on\nstopped {raised}\n", "")  # no "Exception ignored in"


def test_other_exceptions_lost_in_finalizers_are_still_reported() -> None:
    told: list[BaseException] = []
    hook = stops._quiet_in_finalizers(lambda unraisable: told.append(unraisable.exc_value))
    for exc in (stops.Stopped(15), ValueError("x")):
        hook(types.SimpleNamespace(exc_value=exc))
    assert [type(e) for e in told] == [ValueError]
