"""The out/ lock: a second holder says it waits, then gets it; a dead holder never blocks."""
from __future__ import annotations

import logging
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from audio import lock


def test_second_holder_waits_and_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    order: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def first() -> None:
        with lock.locked(tmp_path):
            order.append("first in")
            holding.set()
            release.wait(10)
            order.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(10)
    timer = threading.Timer(0.3, release.set)
    timer.start()
    with caplog.at_level(logging.WARNING, logger="audio.lock"):
        with lock.locked(tmp_path):
            order.append("second in")
    thread.join()
    assert order == ["first in", "first out", "second in"]
    assert f"{tmp_path}: waiting for another build to finish" in caplog.messages


def test_a_killed_holder_releases_the_lock(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", f"from audio import lock; import pathlib, time\nwith lock.locked(pathlib.Path({str(tmp_path)!r})):\n print('in', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "in\n"
    holder.kill()
    holder.wait()
    holder.stdout.close()
    with lock.locked(tmp_path):
        pass
