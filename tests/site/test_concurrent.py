"""Builds and feed writes at once, as real processes: serialised by out/.lock, nothing lost, nothing doubled."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from audio import config, edition, lock, manifest
from audio.site import catalogue, refresh

from ..conftest import build_and_list
from .test_faults_feed import Watched, feed_guids, integrity
from .test_feed import BASE, write_config

WAITING = "waiting for another build to finish"


def build_command(source: Path, out: Path, cfg: Path, cache: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "audio", "build", str(source), "--out", str(out), "--config", str(cfg),
            "--cache", str(cache), "--rate", "450", "--jobs", "1", *extra]


def article(folder: Path, name: str, text: str) -> Path:
    source = folder / f"{name}.txt"
    source.write_text(text, encoding="utf-8")
    return source


def finished(watched: Watched) -> list[str]:
    """Wait for a build; it must succeed, saying nothing but, perhaps, that it waited."""
    code = watched.process.wait(timeout=180)
    watched.reader.join(10)
    said = [line for _, line in watched.lines]
    assert code == 0, said
    assert all(WAITING in line for line in said), said
    return said


def check_consistent(out: Path, slugs: set[str]) -> None:
    """One item per article in the feed, the catalogue sound, and both describing what is published."""
    assert integrity(out) == "[('ok',)]"
    listed = catalogue.episodes(out)
    assert sorted(e.slug for e in listed) == sorted(slugs)  # exactly one each
    assert sorted(feed_guids(out)) == sorted(e.guid for e in listed)
    for episode in listed:
        record = manifest.load(out / episode.slug).manifest
        assert episode.title == record["title"]  # the edition that is published, not one it replaced
        assert episode.duration_ms == record["duration_ms"]
        assert episode.bytes == (out / episode.enclosure).stat().st_size
        assert episode.source_sha256 == record["source"]["sha256"]


def builds_at_once(folder: Path) -> int:
    """The same article twice (its takes spoken at once into one cache) and another beside them; how many waited."""
    folder.mkdir(exist_ok=True)
    cfg = write_config(folder / "publisher.toml")
    out, cache = folder / "out", folder / "cache"
    story = article(folder, "story", "Minsk and Kyiv talked on Wednesday.\n\nThe drills ended near the border.\n")
    other = article(folder, "other", "Vilnius hosted the talks.\n\nNobody signed anything.\n")
    runs = [Watched(build_command(source, out, cfg, cache)) for source in (story, story, other)]
    try:
        said = [finished(run) for run in runs]
    finally:  # a failed build does not leave the others running into the next test
        for run in runs:
            run.kill()
    check_consistent(out, {"story", "other"})
    return sum(len(s) for s in said)


def builds_queued_behind_the_lock(folder: Path) -> None:
    """Two builds of one article with different titles wait for the lock: both finish, the feed names the one published."""
    folder.mkdir(exist_ok=True)
    cfg = write_config(folder / "publisher.toml")
    out, cache = folder / "out", folder / "cache"
    story = article(folder, "story", "Minsk and Kyiv talked on Wednesday.\n\nThe drills ended near the border.\n")
    runs: list[Watched] = []
    try:
        with lock.locked(out):  # as a feed write holding out/ would
            runs += [Watched(build_command(story, out, cfg, cache, "--title", title)) for title in ("First", "Second")]
            for run in runs:
                assert run.wait_for(WAITING, timeout=120), [line for _, line in run.lines]
        for run in runs:
            assert len(finished(run)) >= 1  # each said it waited
    finally:
        for run in runs:
            run.kill()
    check_consistent(out, {"story"})


def test_two_builds_of_one_article_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    waited = builds_at_once(tmp_path)
    with capsys.disabled():
        print(f"\nthree builds at once: {waited} said they waited")


def test_builds_queued_behind_the_lock_both_finish(tmp_path: Path) -> None:
    builds_queued_behind_the_lock(tmp_path)


@pytest.mark.slow
def test_builds_at_once_again_and_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    waited = 0
    for attempt in range(10):
        waited += builds_at_once(tmp_path / f"at-once-{attempt}")
        builds_queued_behind_the_lock(tmp_path / f"queued-{attempt}")
    with capsys.disabled():
        print(f"\n10 x three builds at once: {waited} said they waited; 10 x two builds queued behind the lock")


def test_a_build_while_the_feed_command_writes(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "publisher.toml")
    out, cache = tmp_path / "out", tmp_path / "cache"
    first = article(tmp_path, "first", "Minsk and Kyiv talked on Wednesday.\n")
    build_and_list(first, edition.BuildOptions(out=out, config=config.load(cfg), rate=450, jobs=1, cache=cache))
    second = article(tmp_path, "second", "Vilnius hosted the talks.\n\nNobody signed anything.\n")
    build = Watched(build_command(second, out, cfg, cache))
    feed_command = [sys.executable, "-m", "audio", "feed", "--out", str(out), "--config", str(cfg)]
    counts: list[int] = []
    while build.process.poll() is None or len(counts) < 3:  # `audio-edition feed` again and again meanwhile
        written = subprocess.run(feed_command, capture_output=True, text=True, timeout=120)
        assert written.returncode == 0 and all(WAITING in line for line in written.stderr.splitlines()), written.stderr
        assert written.stdout.startswith(f"{out / 'feed.xml'}  ") and written.stdout.endswith(f", at {BASE}feed.xml\n")
        counts.append(int(written.stdout.split("  ")[1].split()[0]))
        assert len(feed_guids(out)) == counts[-1]
    finished(build)
    assert counts == sorted(counts) and set(counts) <= {1, 2}  # never an episode lost on the way
    check_consistent(out, {"first", "second"})
    assert json.loads((out / "second" / "edition.json").read_text(encoding="utf-8"))["slug"] == "second"


def test_a_late_refresh_records_the_edition_published_not_the_one_it_replaced(tmp_path: Path) -> None:
    """Build X publishes, build Y replaces it, then Y refreshes and X, slowed down, refreshes last.

    The order two busy processes can take between releasing the lock after publishing and taking it
    again to refresh (edition.build): the catalogue must describe the audio that is in out/.
    """
    cfg = write_config(tmp_path / "publisher.toml")
    settings = config.load(cfg)
    story = article(tmp_path, "story", "Minsk and Kyiv talked on Wednesday.\n")
    options = edition.BuildOptions(out=tmp_path / "out", config=settings, rate=450, jobs=1, cache=tmp_path / "cache")
    x = edition.build(story, options)
    story.write_text("Minsk and Kyiv talked on Wednesday.\n\nThen they talked again on Thursday.\n", encoding="utf-8")
    y = edition.build(story, options)
    refresh.site(options.out, settings, [y])
    refresh.site(options.out, settings, [x])
    check_consistent(options.out, {"story"})
