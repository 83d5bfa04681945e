"""A build makes no scratch file it can do without.

Every file made and removed again costs a batch more than its own write: on ext4 without a journal
each file made in the next minutes skips the inodes just freed (audio/tools.py, scratch). A build
with a cache writes only its cache entries and its edition; ffmpeg's logs are held in memory.
"""
from __future__ import annotations

import inspect
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from audio import cache, edition, tools
from audio.speech import pyttsx3_engine, takes

from ..test_scale import write_article


@pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="no memfd on this platform: a temporary file is used")
def test_program_logs_are_held_in_memory() -> None:
    with tools.scratch() as held:
        held.write(b"[ebur128] t: 0.4 M: -20.1\n")
        held.seek(0)
        assert held.read() == b"[ebur128] t: 0.4 M: -20.1\n"
        if sys.platform == "linux":
            assert os.readlink(f"/proc/self/fd/{held.fileno()}").startswith("/memfd:")


def test_a_take_is_written_over_the_cache_placeholder_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = cache.Cache(tmp_path / "cache")
    placeholder = store.partial("takes", "0" * 64, ".wav")
    engine = pyttsx3_engine.Speaker.shared()
    engine.configure(None, takes.DEFAULT_RATE)
    real_say = engine._say
    found: list[int | None] = []  # the inode at the placeholder's path as each attempt starts

    def say(text: str, path: Path) -> None:
        if path == placeholder:
            found.append(path.stat().st_ino if path.exists() else None)
        real_say(text, path)

    monkeypatch.setattr(engine, "_say", say)
    with placeholder.open("rb") as held:  # held open: its inode cannot go to another file meanwhile
        inode = os.fstat(held.fileno()).st_ino
        take = engine.take("Minsk said on Tuesday that it would.", placeholder)
    assert take.path == placeholder and take.frames > 0
    # The first attempt writes into the placeholder itself (only a retry starts from a new file).
    assert found[0] == inode


def test_a_build_with_a_cache_makes_files_only_in_the_cache_and_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[str, str | None]] = []

    def watch(name: str) -> None:
        real = getattr(tempfile, name)
        signature = inspect.signature(real)

        def watched(*args: Any, **kwargs: Any) -> Any:
            where = signature.bind(*args, **kwargs).arguments.get("dir")  # (TemporaryDirectory passes it by position)
            made.append((name, None if where is None else str(where)))
            return real(*args, **kwargs)

        monkeypatch.setattr(tempfile, name, watched)

    for name in ("mkstemp", "mkdtemp", "TemporaryFile", "NamedTemporaryFile"):
        watch(name)
    article = write_article(tmp_path / "story.txt")
    out, store = tmp_path / "out", tmp_path / "cache"
    edition.build(article, edition.BuildOptions(out=out, cache=store, jobs=1))
    assert made, "the build made no files through tempfile: this test no longer watches it"
    outside = [(name, where) for name, where in made
               if where is None or not (Path(where).is_relative_to(out) or Path(where).is_relative_to(store))]
    assert outside == []
