"""Faults while building: a full disk, a build killed at random moments. The previous edition survives."""
from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from audio import edition, manifest

from .conftest import SAMPLE
from .test_build import ffprobe_chapters


def digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def build_command(article: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "audio", "build", str(article), "--out", str(out)]


def test_disk_full_is_a_clear_error_and_nothing_half_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    article = tmp_path / "story.txt"
    article.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    edition.build(article, edition.BuildOptions(out=out))
    before = digest(out / "story")

    done = subprocess.run(build_command(article, out), capture_output=True, text=True, preexec_fn=small_disk, timeout=120)
    # The takes and pieces are cached: the MP3 is the first file past the limit. A write to an open file
    # names none (the error said only "File too large"); this one is named as published, not as the
    # hidden staging file it was written to.
    assert (done.returncode, done.stderr) == (1, f"Error: {out / 'story' / 'story.mp3'}: File too large\n")
    assert digest(out / "story") == before
    assert [p.name for p in out.iterdir() if p.name.endswith(".partial")] == []


def test_a_program_killed_by_a_signal_says_which(tmp_path: Path) -> None:
    """Past the file size limit (`ulimit -f`), ffmpeg is killed by SIGXFSZ (subprocess restores its default),
    and the error said "ffmpeg failed (exit -25): no error output"."""
    out = tmp_path / "out"
    article = tmp_path / "story.txt"
    article.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:4]), encoding="utf-8")
    subprocess.run(build_command(article, tmp_path / "warm-up"), check=True, capture_output=True, timeout=120)  # takes cached
    done = subprocess.run(build_command(article, out) + ["--format", "m4a"], capture_output=True, text=True,
                          preexec_fn=small_disk, timeout=120)
    assert (done.returncode, done.stderr) == (
        1, "Error: ffmpeg failed (killed by SIGXFSZ: File size limit exceeded): no error output\n")


def small_disk() -> None:
    """Files may not grow past 64 KiB: what a full disk looks like to a writer (EFBIG, not a kill)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


@pytest.mark.parametrize(("jobs", "given"), [("1", "absolute"), ("2", "relative")])
def test_a_take_cache_without_room_is_named_and_left_without_partial_entries(tmp_path: Path, jobs: str, given: str) -> None:
    """A take past the limit (in the build's own process, or in a speech worker) names the cache as it was
    given, not the hidden file the take was being written to; nothing half-made stays in the cache or in out/."""
    out, cache = tmp_path / "out", tmp_path / "cache"
    article = tmp_path / "story.txt"
    article.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    named = cache if given == "absolute" else Path("cache")
    done = subprocess.run(build_command(article, out) + ["--cache", str(named), "--jobs", jobs], capture_output=True,
                          text=True, preexec_fn=small_disk, timeout=120, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (1, f"Error: {named}: File too large\n")
    assert [p for p in cache.rglob("*") if ".partial" in p.name] == []
    assert not out.exists() or [p.name for p in out.iterdir() if p.name not in (".lock", ".audio-edition")] == []


def test_sigkill_at_random_moments_leaves_the_previous_edition(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    article = tmp_path / "story.txt"
    article.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:4]), encoding="utf-8")
    edition.build(article, edition.BuildOptions(out=out))
    before = digest(out / "story")
    durations = []
    for _ in range(3):  # how long a build takes here, at its quickest: kill somewhere inside it
        start = time.perf_counter()
        subprocess.run(build_command(article, out), check=True, capture_output=True, timeout=120)
        durations.append(time.perf_counter() - start)
    full = 0.9 * min(durations)
    chooser = random.Random(20261128)
    kills = 0
    for _ in range(20):
        run = subprocess.Popen(build_command(article, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(chooser.uniform(0.05, full))
        if run.poll() is None:
            run.send_signal(signal.SIGKILL)
            kills += 1
        run.wait()
        current = digest(out / "story")
        # Whole previous edition or whole new one (same source: same audio), never a mix or a gap.
        assert set(current) == set(before)
        assert len(ffprobe_chapters(out / "story" / "story.mp3")) == 5
        manifest.load(out / "story")
    assert kills >= 10
    with capsys.disabled():
        print(f"\nbuild without a feed: {kills} of 20 runs killed before they finished")
    rebuilt = subprocess.run(build_command(article, out), capture_output=True, text=True, timeout=120)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert [p.name for p in out.iterdir() if p.name.endswith(".partial")] == []


def test_ctrl_c_ends_a_build_with_one_line_and_keeps_the_previous_edition(tmp_path: Path) -> None:
    """Ctrl-C at a terminal signals the whole process group: the speech workers leave it to the build,
    which ends them; no worker prints a traceback."""
    out = tmp_path / "out"
    article = tmp_path / "story.txt"
    article.write_text("An earlier story.\n", encoding="utf-8")
    edition.build(article, edition.BuildOptions(out=out))
    before = digest(out / "story")
    article.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    for after in (0.05, 0.15, 0.25):  # seconds after the build made its take cache: workers starting, speaking
        cache = tmp_path / f"cold-{after}"
        run = subprocess.Popen([*build_command(article, out), "--cache", str(cache)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
        deadline = time.monotonic() + 60
        while not cache.is_dir() and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(after)
        os.killpg(run.pid, signal.SIGINT)
        _, errors = run.communicate(timeout=120)
        assert (run.returncode, errors) == (1, "\nAborted!\n"), after
        assert digest(out / "story") == before
        assert [p for p in cache.rglob("*") if ".partial" in p.name] == [], after  # no half-made takes, pieces


# ---- a build or batch killed outright: its worker processes end with it ------------------------------------------

def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def running(pid: int) -> bool:
    """Whether the process exists and is not a zombie (a dead child not yet reaped by its new parent)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def wait_until(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


POOL_OF_TWO = """
import sys, time
import multiprocessing
from audio.speech import pool, takes, voice
pool.context = lambda: multiprocessing.get_context(sys.argv[1])
workers = pool.Pool(takes.VoiceSettings(None, 175), jobs=2)
workers.start(2)
print(*(w.process.pid for w in workers._workers), flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death signal is Linux's")
@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_speech_workers_end_when_their_build_is_killed(method: str) -> None:
    """A forked worker holds the build's end of its own pipe (and of every earlier worker's): killed,
    the build could never tell them to stop, and they waited for work for ever."""
    with subprocess.Popen([sys.executable, "-c", POOL_OF_TWO, method], stdout=subprocess.PIPE, text=True) as build:
        try:
            assert build.stdout is not None
            workers = [int(pid) for pid in build.stdout.readline().split()]
            assert len(workers) == 2 and all(running(pid) for pid in workers)
        finally:
            build.kill()
    assert wait_until(lambda: not any(running(pid) for pid in workers), 10), [pid for pid in workers if running(pid)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death signal is Linux's")
def test_batch_workers_end_when_the_batch_is_killed(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    for n in range(6):
        (articles / f"a{n}.txt").write_text(f"Story {n} opened on Monday.\n\nIt closed on Friday, {n} days later.\n",
                                            encoding="utf-8")
    batch = subprocess.Popen([sys.executable, "-m", "audio", "batch", str(articles), "--out", str(tmp_path / "out"),
                              "--cache", str(tmp_path / "cache"), "--jobs", "2", "--rate", "450"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: len(children(batch.pid)) >= 2, 30), "the batch started no workers"
        workers = children(batch.pid)
    finally:
        batch.kill()
        batch.wait()
    assert wait_until(lambda: not any(running(pid) for pid in workers), 10), [pid for pid in workers if running(pid)]


KILLING_BATCH = """
import json, os, signal, sys
from pathlib import Path
from audio import batch, edition

articles, out, always = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "always"
build_one = batch._build_one

def dies_on_b(path, options, on_take):  # in the worker: its process is killed while it builds b.txt
    marker = out.parent / "b-was-tried"
    if path.name == "b.txt" and (always or not marker.exists()):
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return build_one(path, options, on_take)

batch._build_one = dies_on_b
result = batch.run([articles], edition.BuildOptions(out=out, jobs=int(sys.argv[4]), rate=450, cache=out.parent / "cache"))
print(json.dumps([sorted(e.slug for e in result.built), [[p.name, why] for p, why in result.failed]]))
"""


def batch_outcome(tmp_path: Path, script: str, names: str, mode: str, jobs: int = 2) -> tuple[list[str], list[list[str]], str]:
    """Run a batch of one short article per letter in `names` through `script`: the editions built, the
    articles failed (name, reason) and what it logged."""
    articles = tmp_path / "articles"
    articles.mkdir()
    for name in names:
        (articles / f"{name}.txt").write_text(f"Story {name} opened on Monday.\n\nIt closed on Friday.\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-c", script, str(articles), str(tmp_path / "out"), mode, str(jobs)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    built, failed = json.loads(run.stdout)
    return built, failed, run.stderr


@pytest.mark.parametrize(("dies", "jobs"), [("once", 2), ("always", 2), ("once", 1)])
def test_a_batch_worker_that_dies_costs_only_its_article(tmp_path: Path, dies: str, jobs: int) -> None:
    """Before, one dead worker broke the whole process pool: every article not yet built failed with it
    (88 of 100, with a worker killed 2 s into a batch), and with --jobs 1 a crash ended the batch. Now
    the article is built again on a new worker, and reported failed only if that one dies too."""
    built, failed, logged = batch_outcome(tmp_path, KILLING_BATCH, "abcdef", dies, jobs)
    if dies == "once":
        assert built == list("abcdef") and failed == []
        assert "b.txt: worker killed by signal 9 (SIGKILL); building it again on a new one" in logged
    else:
        assert built == list("acdef")
        assert failed == [["b.txt", "worker killed by signal 9 (SIGKILL), and again on a new one"]]


def test_ctrl_c_stops_a_batch_at_once_and_leaves_nothing_half_made(tmp_path: Path) -> None:
    """Ctrl-C used to let the workers build every article already handed to the process pool (all of
    them) before the batch ended. Now the builds under way are stopped, clean up, and the batch ends."""
    articles = tmp_path / "articles"
    articles.mkdir()
    for n in range(40):
        (articles / f"a{n:02d}.txt").write_text(f"Story {n} opened on Monday, in the morning.\n\n"
                                                f"It closed on Friday, {n} days later, in the evening.\n", encoding="utf-8")
    out = tmp_path / "out"
    run = subprocess.Popen([sys.executable, "-m", "audio", "batch", str(articles), "--out", str(out), "--jobs", "2",
                            "--cache", str(tmp_path / "cache")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)

    def published() -> int:  # (not counting a build's hidden staging directory, which also holds one)
        return sum((d / "edition.json").exists() for d in out.iterdir() if not d.name.startswith(".")) if out.is_dir() else 0

    assert wait_until(lambda: published() > 0, 60)
    workers = children(run.pid)
    before = published()
    os.killpg(run.pid, signal.SIGINT)
    _, errors = run.communicate(timeout=60)
    assert (run.returncode, errors) == (1, "\nAborted!\n")
    assert published() <= before + len(workers)  # at most one more a worker, published as it was stopped (was: 38 of 40)
    assert {p.name for p in out.iterdir() if p.name.startswith(".")} == {".audio-edition", ".lock"}  # no build's staging left
    assert not any(running(pid) for pid in workers)


def descendants(pid: int) -> list[int]:
    found = children(pid)
    for child in list(found):
        found += descendants(child)
    return found


@pytest.mark.parametrize(("stop", "after"), [("SIGTERM", 0.05), ("SIGTERM", 0.2), ("SIGTERM", "takes spoken"),
                                             ("SIGHUP", 0.1)])
def test_sigterm_or_sighup_stops_a_build_that_cleans_up_first(tmp_path: Path, stop: str, after: Any) -> None:
    """What a service manager, `timeout` or a closed terminal sends. It killed the build where it stood:
    25 half-made takes left in the cache, the build's hidden staging in out/ (for the next build to sweep),
    temporary folders in /tmp for ever. Now the build cleans up as at Ctrl-C, then ends by the signal."""
    out, cache, scratch = tmp_path / "out", tmp_path / "cache", tmp_path / "tmp"
    article = tmp_path / "story.txt"
    article.write_text("An earlier story.\n", encoding="utf-8")
    edition.build(article, edition.BuildOptions(out=out))
    before = digest(out / "story")
    article.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    scratch.mkdir()
    run = subprocess.Popen([*build_command(article, out), "--cache", str(cache), "--format", "mp3,m4a"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "TMPDIR": str(scratch)})
    if after == "takes spoken":  # a cold build: rendering (the M4A's ffmpeg run, the MP3 pieces) from here
        assert wait_until(lambda: len([p for p in cache.glob("takes/*/*.wav") if not p.name.startswith(".")]) >= 28, 60)
    else:
        assert wait_until(cache.is_dir, 60)
        time.sleep(after)
    helpers = descendants(run.pid)
    run.send_signal(getattr(signal, stop))
    _, errors = run.communicate(timeout=60)
    assert (run.returncode, errors) == (-getattr(signal, stop), "")
    assert digest(out / "story") == before
    assert {p.name for p in out.iterdir() if p.name.startswith(".")} == {".audio-edition", ".lock"}  # no staging left
    assert [p for p in cache.rglob("*") if ".partial" in p.name] == []
    assert list(scratch.iterdir()) == []
    assert wait_until(lambda: not any(running(pid) for pid in helpers), 10)  # workers, ffmpeg


def test_a_build_under_nohup_keeps_ignoring_sighup(tmp_path: Path) -> None:
    article = tmp_path / "story.txt"
    article.write_text("\n".join(SAMPLE.read_text(encoding="utf-8").splitlines()[:4]), encoding="utf-8")
    run = subprocess.Popen([*build_command(article, tmp_path / "out"), "--cache", str(tmp_path / "cache")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    assert wait_until((tmp_path / "cache").is_dir, 60)
    run.send_signal(signal.SIGHUP)
    _, errors = run.communicate(timeout=60)
    assert (run.returncode, errors) == (0, "")
    assert (tmp_path / "out" / "story" / "story.mp3").exists()


def test_sigterm_stops_a_batch_as_ctrl_c_does(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    for n in range(20):
        (articles / f"a{n:02d}.txt").write_text(f"Story {n} opened on Monday, in the morning.\n\n"
                                                f"It closed on Friday, {n} days later, in the evening.\n", encoding="utf-8")
    out, cache = tmp_path / "out", tmp_path / "cache"
    run = subprocess.Popen([sys.executable, "-m", "audio", "batch", str(articles), "--out", str(out), "--jobs", "2",
                            "--cache", str(cache)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert wait_until(lambda: out.is_dir() and any((d / "edition.json").exists() for d in out.iterdir()), 60)
    workers = children(run.pid)
    run.send_signal(signal.SIGTERM)  # to the batch alone (a service manager may send it to every process too)
    _, errors = run.communicate(timeout=60)
    assert (run.returncode, errors) == (-signal.SIGTERM, ""), errors
    assert {p.name for p in out.iterdir() if p.name.startswith(".")} == {".audio-edition", ".lock"}
    assert [p for p in cache.rglob("*") if ".partial" in p.name] == []
    assert wait_until(lambda: not any(running(pid) for pid in workers), 10)


HANGING_BATCH = """
import json, sys, time
from pathlib import Path
from audio import batch, edition
from audio.speech import pyttsx3_engine as engine

articles, out, always = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "always"
take = engine.Speaker.take

def hangs_on_b(self, text, path):  # in the worker: the engine never comes back from a take of b.txt
    marker = out.parent / "b-was-tried"
    if "Story b" in text and (always or not marker.exists()):
        marker.touch()
        time.sleep(3600)
    return take(self, text, path)

engine.Speaker.take = hangs_on_b
result = batch.run([articles], edition.BuildOptions(out=out, jobs=2, rate=450, cache=out.parent / "cache"), timeout=2)
print(json.dumps([sorted(e.slug for e in result.built), [[p.name, why] for p, why in result.failed]]))
"""


@pytest.mark.parametrize("hangs", ["once", "always"])
def test_a_batch_worker_that_hangs_on_a_take_is_replaced(tmp_path: Path, hangs: str) -> None:
    """As a speech worker is (pool.Pool): a batch worker speaks its takes itself, and one that hangs used
    to hold the batch for ever. Past the timeout it is killed, and its article built again on a new one."""
    built, failed, logged = batch_outcome(tmp_path, HANGING_BATCH, "abcd", hangs)
    if hangs == "once":
        assert built == list("abcd") and failed == []
        assert "b.txt: worker hung for 2 s on one take; building it again on a new one" in logged
    else:
        assert built == list("acd") and failed == [["b.txt", "worker hung for 2 s on one take, and again on a new one"]]


HANGING_BUILD = """
import sys, time
from audio.cli import main as cli
from audio.speech import pyttsx3_engine as engine, takes

takes.TAKE_TIMEOUT = 2
take = engine.Speaker.take

def hangs(self, text, path):  # the engine never comes back from this take
    if "hangs" in text:
        time.sleep(3600)
    return take(self, text, path)

engine.Speaker.take = hangs
sys.argv = ["audio-edition", "build", *sys.argv[1:]]
cli.run()
"""


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no interval timer on this platform")
def test_a_take_that_hangs_in_the_build_itself_ends_it_with_one_line(tmp_path: Path) -> None:
    """With --jobs 1 (or a few takes) a build speaks its takes itself, with no worker to replace: one that
    never ended held the build (a publishing hook) for ever. Past the pool's timeout it ends the build."""
    out = tmp_path / "out"
    article = tmp_path / "story.txt"
    article.write_text("Story opened on Monday.\n\nIt closed on Friday.\n", encoding="utf-8")
    edition.build(article, edition.BuildOptions(out=out, jobs=1, cache=tmp_path / "cache"))
    before = digest(out / "story")
    article.write_text("Story opened on Monday.\n\nThen it hangs for ever.\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-c", HANGING_BUILD, str(article), "--out", str(out), "--jobs", "1",
                          "--cache", str(tmp_path / "cache")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert run.stderr == ("Error: pyttsx3/eSpeak NG failed: a take has not ended after 2 s: "
                          "the engine hangs\n"), run.stderr
    assert digest(out / "story") == before
    assert {p.name for p in out.iterdir() if p.name.startswith(".")} == {".audio-edition", ".lock"}  # no staging left


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no interval timer on this platform")
def test_a_program_with_its_own_interval_timer_keeps_it_through_a_build(tmp_path: Path) -> None:
    """The hang alarm of takes spoken in the build's process cancelled a timer the calling program had
    armed (and took its SIGALRM handler for the time of the takes): it now steps aside."""
    article = tmp_path / "story.txt"
    article.write_text("A program armed its own timer.\n\nThen it built an edition.\n", encoding="utf-8")
    rang: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda number, frame: rang.append(number))
    try:
        signal.setitimer(signal.ITIMER_REAL, 300)
        edition.build(article, edition.BuildOptions(out=tmp_path / "out", jobs=1, cache=tmp_path / "cache"))
        left = signal.getitimer(signal.ITIMER_REAL)[0]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert 200 < left <= 300 and rang == []
