"""An external program that hangs (an ffmpeg that sleeps) is killed and named, in time scaled to the
audio, never waited for without end. The hang time is cut to 2 s here, as a test may (HANG_SECONDS)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import ROOT

WITH_SHORT_HANG = "import sys\nfrom audio import tools\nfrom audio.cli import main as cli\ntools.HANG_SECONDS = 2.0\nsys.argv = ['audio-edition', *sys.argv[1:]]\ncli.run()\n"


@pytest.mark.parametrize("behaviour, message", [
    ("exec sleep 1000", "has taken no input for 2 s: it hangs"),  # reads nothing
    ("cat > /dev/null; exec sleep 1000", r"s of audio\): it hangs"),  # reads it all, never ends
])
def test_a_hung_ffmpeg_is_killed_and_named(tmp_path: Path, behaviour: str, message: str) -> None:
    fake = tmp_path / "ffmpeg"
    fake.write_text(f"#!/bin/sh\n{behaviour}\n", encoding="utf-8")
    fake.chmod(0o755)
    out = tmp_path / "out"
    story = tmp_path / "story.txt"  # (short: the time given after its input is 2 s plus its length)
    story.write_text("The council met on Tuesday and agreed the budget.\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", WITH_SHORT_HANG, "build", str(story), "--out", str(out), "--rate", "450",
                           "--jobs", "1", "--format", "mp3,m4a"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "AUDIO_EDITION_FFMPEG": str(fake)})
    assert done.returncode == 1 and done.stderr.startswith("Error: ffmpeg failed: ") and done.stderr.count("\n") == 1, done.stderr
    assert re.search(message, done.stderr), done.stderr
    assert not (out / "story").exists()
