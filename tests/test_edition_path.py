"""edition.json, which `serve` publishes, records where its source was only relative to the working
directory: an absolute path (a home folder, a user name) is never made public."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

STORY = "The council met on Tuesday and agreed the budget for the roads.\n"


def build(cwd: Path, story: str | Path) -> str:
    done = subprocess.run([sys.executable, "-m", "audio", "build", str(story), "--out", str(cwd / "out"),
                           "--rate", "450", "--jobs", "1"], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    manifest = json.loads((cwd / "out" / "story" / "edition.json").read_text(encoding="utf-8"))
    return str(manifest["source"]["path"])


def test_the_source_path_is_recorded_relative_to_the_working_directory(tmp_path: Path) -> None:
    work = tmp_path / "home" / "alice" / "work"
    (work / "drafts").mkdir(parents=True)
    (work / "drafts" / "story.txt").write_text(STORY, encoding="utf-8")
    assert build(work, work / "drafts" / "story.txt") == "drafts/story.txt"  # given absolute
    assert build(work, "drafts/story.txt") == "drafts/story.txt"
    elsewhere = tmp_path / "home" / "alice" / "private" / "story.txt"
    elsewhere.parent.mkdir()
    elsewhere.write_text(STORY, encoding="utf-8")
    assert build(work, elsewhere) == "story.txt"  # outside it: the name only
    assert build(work, "../private/story.txt") == "story.txt"
