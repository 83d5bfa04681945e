"""Shared fixtures: the sample article, and one real build of it that many tests read."""
from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from audio import edition, manifest
from audio.cache import CACHE_ENV
from audio.site import refresh
from audio.warm.client import WARM_ENV

# The generated cases are the same on every run (CI included), so that a red run can be run again and
# its case shrunk here; HYPOTHESIS_PROFILE=explore draws new ones each time, to look for more.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# The tests of Ctrl-C and SIGHUP need them as a terminal delivers them: a suite started in the background
# by a script (`cmd &`: SIGINT ignored) or under nohup (SIGHUP ignored) would pass that on to every process
# it starts, and a build there rightly keeps an ignored signal ignored (audio/stops.py).
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGHUP, signal.SIG_DFL)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "moscow-times-belarus.txt"


def build_and_list(path: Path, options: edition.BuildOptions) -> manifest.Edition:
    """What `audio-edition build` does: build the edition, then list it (catalogue, feed, index.html)."""
    built = edition.build(path, options)
    refresh.site(options.out, options.config, [built])
    return built


def need_program(name: str) -> str:
    """The path of a system program, or skip the test saying what is missing (CI installs them all)."""
    found = shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (scripts/test installs it when run as root)")
    return found


@pytest.fixture(scope="session", autouse=True)
def take_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Builds (and the commands tests run) share one take cache in tmp, never the user's own."""
    path = tmp_path_factory.mktemp("take-cache")
    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(path)
    yield path
    if before is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = before


@pytest.fixture(scope="session", autouse=True)
def no_warm_process() -> Iterator[None]:
    """Commands the tests run are run in processes of their own (tests/cli/test_warm.py names its own warm
    process), not in one the developer may have named with $AUDIO_EDITION_WARM."""
    before = os.environ.pop(WARM_ENV, None)
    yield
    if before is not None:
        os.environ[WARM_ENV] = before


@pytest.fixture(scope="session")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An out/ directory holding one real MP3 + M4A build of the sample; treat it as read-only."""
    out = tmp_path_factory.mktemp("out")
    build_and_list(SAMPLE, edition.BuildOptions(out=out, formats=("mp3", "m4a")))
    return out


@pytest.fixture(scope="session")
def sample_edition(sample_out: Path) -> manifest.Edition:
    return manifest.load(sample_out / "moscow-times-belarus")
