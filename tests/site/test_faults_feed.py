"""SIGKILL while the catalogue and the feed are written: no episode lost, catalogue sound, finished takes reused."""
from __future__ import annotations

import contextlib
import io
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import IO

import feedparser
import podcastparser
import pytest
from lxml import html as lxml_html
from PIL import Image

from audio import config, edition, manifest
from audio.site import catalogue, refresh

from ..conftest import build_and_list
from .test_feed import BASE, write_config

SEED = 20261128


def feed_guids(out: Path) -> list[str]:
    """The episodes of out/feed.xml as two podcast clients' parsers read it; both must read it whole."""
    raw = (out / "feed.xml").read_bytes()
    parsed = feedparser.parse(raw)
    assert not parsed.bozo, parsed.get("bozo_exception")
    gpodder = [e["guid"] for e in podcastparser.parse(BASE + "feed.xml", io.BytesIO(raw))["episodes"]]
    assert gpodder == [e.id for e in parsed.entries]
    return gpodder


def integrity(out: Path) -> str:
    # closing(): a connection's own `with` commits but does not close it.
    with contextlib.closing(sqlite3.connect(out / catalogue.FILENAME)) as db:
        return str(db.execute("PRAGMA integrity_check").fetchall())


def check_published(out: Path, before: list[str]) -> list[str]:
    """What a listener or app can fetch after a kill: whole files, every episode listed before still listed."""
    guids = feed_guids(out)
    assert set(before) <= set(guids), set(before) - set(guids)
    assert integrity(out) == "[('ok',)]"
    listed = catalogue.episodes(out)
    assert set(before) <= {e.guid for e in listed}
    for episode in listed:  # every catalogued edition is whole
        manifest.load(out / episode.slug)
        assert (out / episode.enclosure).stat().st_size > 0
    titles = lxml_html.fromstring((out / "index.html").read_bytes()).xpath("//ol[@class='editions']//h2")
    assert len(titles) >= len(before)
    with Image.open(out / "cover.png") as cover:
        cover.verify()
    return guids


def partials(out: Path) -> int:
    """Hidden files a killed writer left beside their final name (never under a name anything links to)."""
    return sum(1 for p in out.rglob(".*") if ".partial" in p.name)


class Watched:
    """A process whose stderr lines are collected as they come, to tell which step it was in when killed."""

    def __init__(self, command: list[str]) -> None:
        self.start = time.perf_counter()
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[tuple[float, str]] = []
        assert self.process.stderr is not None
        self.reader = threading.Thread(target=self._read, args=(self.process.stderr,), daemon=True)
        self.reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append((time.perf_counter() - self.start, line))
        stream.close()

    def wait_for(self, text: str, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if any(text in line for _, line in self.lines):
                return True
            time.sleep(0.005)
        return any(text in line for _, line in self.lines)

    def kill(self) -> bool:
        """SIGKILL unless it has already ended; True when it was killed."""
        alive = self.process.poll() is None
        if alive:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.reader.join(10)
        return alive

    def step(self, steps: list[tuple[str, str]], first: str) -> str:
        """The step the process was in: named after the last marker line it printed."""
        current = first
        for _, line in self.lines:
            for marker, name in steps:
                if marker in line:
                    current = name
        return current


# ---- kills while an out/ is refreshed: catalogue transactions, cover, feed.xml, index.html ------------------------

REFRESH_LOOP = """
import logging, pathlib, sys
from audio import config, manifest
from audio.site import refresh
logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
logging.getLogger("PIL").setLevel(logging.WARNING)
out = pathlib.Path(sys.argv[1])
settings = config.load(pathlib.Path(sys.argv[2]))
built = [manifest.load(out / slug) for slug in sys.argv[3:]]
print("ready", file=sys.stderr, flush=True)
while True:
    refresh.site(out, settings, built)  # what every build does after publishing: record, feed, index
"""
REFRESH_STEPS = [("ready", "catalogue"), ("recorded", "catalogue"), ("recorded s2", "cover and feed"),
                 ("wrote", "index")]


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An out/ with three editions and a feed: (out, config)."""
    folder = tmp_path_factory.mktemp("refreshed")
    cfg = write_config(folder / "publisher.toml")
    options = edition.BuildOptions(out=folder / "out", config=config.load(cfg), rate=450, jobs=1, cache=folder / "cache")
    for number in range(3):
        source = folder / f"s{number}.txt"
        source.write_text(f"Story {number} opened on Monday.\n\nIt closed on Friday.\n", encoding="utf-8")
        build_and_list(source, options)
    return folder / "out", cfg


def kill_refreshes(out: Path, cfg: Path, runs: int) -> tuple[Counter[str], int]:
    """Returns where the kills landed and how many hidden .partial files they left before the next refresh."""
    before = feed_guids(out)
    assert len(before) == 3
    chooser = random.Random(SEED)
    steps: Counter[str] = Counter()
    left = 0
    for _ in range(runs):
        watched = Watched([sys.executable, "-c", REFRESH_LOOP, str(out), str(cfg), "s0", "s1", "s2"])
        assert watched.wait_for("ready")
        time.sleep(chooser.uniform(0, 0.6))  # a refresh takes 0.3-0.5 s here: any moment of one, or of the next
        assert watched.kill(), [line for _, line in watched.lines][-3:]
        steps[watched.step(REFRESH_STEPS, "catalogue")] += 1
        assert check_published(out, before) == before  # the same three, in the same order
        left += partials(out)  # cleared by the next refresh (the next loop's first)
    refresh.site(out, config.load(cfg), [])
    assert partials(out) == 0 and check_published(out, before) == before
    return steps, left


def test_sigkill_while_the_catalogue_and_feed_are_refreshed(refreshed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    out, cfg = refreshed
    steps, left = kill_refreshes(out, cfg, 6)
    with capsys.disabled():
        print(f"\nrefresh killed 6 times, in: {dict(steps)}; hidden .partial files left, then swept: {left}")


@pytest.mark.slow
def test_sigkill_while_the_catalogue_and_feed_are_refreshed_many_times(
    refreshed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out, cfg = refreshed
    steps, left = kill_refreshes(out, cfg, 60)
    with capsys.disabled():
        print(f"\nrefresh killed 60 times, in: {dict(steps)}; hidden .partial files left, then swept: {left}")


# ---- kills across whole builds that refresh the feed, then the build again -----------------------------------------

BUILD_STEPS = [("audio.sound.loudness", "render, tag, publish, catalogue"), ("audio.sound.mp3", "render, tag, publish, catalogue"),
               ("recorded", "cover and feed"), ("wrote", "index")]


def build_command(source: Path, out: Path, cfg: Path, cache: Path) -> list[str]:
    return [sys.executable, "-m", "audio", "-v", "build", str(source), "--out", str(out), "--config", str(cfg),
            "--cache", str(cache), "--rate", "450", "--jobs", "1"]


def takes(cache: Path) -> dict[Path, int]:
    """Finished takes in the cache, by inode: a take spoken again is a new file."""
    folder = cache / "takes"
    return {p: p.stat().st_ino for p in folder.rglob("*.wav") if ".partial" not in p.name} if folder.exists() else {}


def kill_builds(tmp_path: Path, runs: int) -> tuple[Counter[str], int, int]:
    """Returns where the kills landed, how many takes killed builds finished, and how many of them were reused."""
    cfg = write_config(tmp_path / "publisher.toml")
    out, cache = tmp_path / "out", tmp_path / "cache"

    def article(number: int) -> Path:
        source = tmp_path / f"story-{number}.txt"
        source.write_text(f"Report {number} came in on day {number}. It was read {number} times.\n\nThe council met "
                          f"{number} times about it. {number} members objected.\n\nNobody said why {number} was "
                          f"chosen. The rest of {number} is unknown.\n", encoding="utf-8")  # six new takes each time
        return source

    # Two complete builds: the first makes the cover; the second says how long a build and its feed step take here.
    build_and_list(article(100), edition.BuildOptions(out=out, config=config.load(cfg), rate=450, jobs=1, cache=cache))
    probe = Watched(build_command(article(101), out, cfg, cache))
    assert probe.process.wait(timeout=120) == 0
    full = time.perf_counter() - probe.start
    probe.reader.join(10)
    recorded = next(t for t, line in probe.lines if "recorded" in line)
    wrote = next(t for t, line in probe.lines if "wrote" in line)  # the catalogue recorded it, then the feed
    chooser = random.Random(SEED)
    steps: Counter[str] = Counter()
    made = reused = 0
    for number in range(runs):
        before = feed_guids(out)
        had = takes(cache)
        source = article(number)
        watched = Watched(build_command(source, out, cfg, cache))
        if number % 2:  # every other kill aimed at writing the cover check and feed.xml, which is short
            watched.wait_for("recorded")
            time.sleep(chooser.uniform(0, wrote - recorded))
        else:  # (the probe's time, measured once, can be the slower on a busy machine: within 3/4 of it)
            time.sleep(chooser.uniform(0.05, 0.75 * full))
        if watched.kill():
            steps[watched.step(BUILD_STEPS, "synthesis")] += 1
        else:
            steps["finished first"] += 1
        check_published(out, before)
        finished = {p: ino for p, ino in takes(cache).items() if p not in had}
        for path in finished:
            os.utime(path, (0, 0))  # a take the next build uses is touched by the cache
        again = subprocess.run(build_command(source, out, cfg, cache), capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        after = takes(cache)
        for path, inode in finished.items():
            assert after.get(path) == inode, f"{path.name} was spoken again"
            assert path.stat().st_mtime > 0, f"{path.name} was not used"
        made += len(finished)
        reused += sum(1 for p, ino in finished.items() if after.get(p) == ino and p.stat().st_mtime > 0)
        guids = check_published(out, before)
        assert len(guids) == len(before) + 1
        assert partials(out) == 0  # the killed build's staging and half-written files are gone
        assert sorted(guids) == sorted(e.guid for e in catalogue.episodes(out))  # feed and catalogue agree again
    assert len(feed_guids(out)) == runs + 2
    return steps, made, reused


def test_sigkill_across_builds_that_refresh_the_feed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    steps, made, reused = kill_builds(tmp_path, 3)
    assert sum(n for step, n in steps.items() if step != "finished first") >= 1
    with capsys.disabled():
        print(f"\nbuilds killed in: {dict(steps)}; takes finished by killed builds: {made}, reused by the next: {reused}")


@pytest.mark.slow
def test_sigkill_across_many_builds_that_refresh_the_feed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    steps, made, reused = kill_builds(tmp_path, 20)
    assert sum(n for step, n in steps.items() if step != "finished first") >= 10
    with capsys.disabled():
        print(f"\nbuilds killed in: {dict(steps)}; takes finished by killed builds: {made}, reused by the next: {reused}")
