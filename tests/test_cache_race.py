"""A take found in the cache and removed before it is read (`cache prune` racing a build) is spoken
again: the build ends as one that found nothing cached would."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from audio import edition

from .conftest import SAMPLE


def test_takes_pruned_between_lookup_and_use_are_spoken_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = tmp_path / "cache"
    # (M4A: every take is read for it, where an MP3 may be made of pieces cached whole)
    first = edition.build(SAMPLE, edition.BuildOptions(out=tmp_path / "out1", formats=("m4a",), cache=cache, jobs=1,
                                                       rate=450))
    pruned: set[Path] = set()

    def prune_each_once(index: int, take: Any) -> None:  # what `cache prune` does, at the worst moment
        if take.path not in pruned:
            pruned.add(take.path)
            take.path.unlink()

    with caplog.at_level(logging.WARNING, logger="audio.edition"):
        again = edition.build(SAMPLE, edition.BuildOptions(out=tmp_path / "out2", formats=("m4a",), cache=cache,
                                                           jobs=1, rate=450), on_take=prune_each_once)
    assert [c["title"] for c in again.manifest["chapters"]] == [c["title"] for c in first.manifest["chapters"]]
    assert len(again.manifest["cues"]) == len(first.manifest["cues"]) and (again.directory / "moscow-times-belarus.m4a").stat().st_size
    assert all(path.exists() for path in pruned)  # spoken again into the cache
    assert any("removed from the take cache during the build; building again" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_cache_prune_while_builds_run(tmp_path: Path) -> None:
    """The real race: `cache prune --days 0` again and again beside builds that find the takes cached. It
    keeps what was used in the last hour (a build's lookups), and a take it removed between a build's
    lookup and its use is spoken again."""
    cache = tmp_path / "cache"
    build = [sys.executable, "-m", "audio", "build", str(SAMPLE), "--rate", "450", "--jobs", "1", "--cache", str(cache)]
    assert subprocess.run([*build, "--out", str(tmp_path / "o")], capture_output=True, timeout=300).returncode == 0
    prune = f'while :; do "{sys.executable}" -m audio cache prune --days 0 --cache "{cache}" >/dev/null 2>&1; done'
    pruner = subprocess.Popen(["sh", "-c", prune], start_new_session=True)
    try:
        for number in range(5):
            done = subprocess.run([*build, "--out", str(tmp_path / f"o{number}")], capture_output=True, text=True,
                                  timeout=300)
            assert done.returncode == 0, done.stderr
    finally:
        os.killpg(pruner.pid, signal.SIGKILL)
        pruner.wait()
