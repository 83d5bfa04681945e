#!/usr/bin/env python3
"""Benchmarks for issue 6: rebuild after an edit, batch --jobs 2 vs 1 (also of 30 short articles and a long
one: "mixed", each beside the machine's own ceiling for two processes), memory and time at 5k/20k/50k words.

Every figure is a median of --runs runs taken in this one run (alternated where two things are
compared, so both see the same machine noise); ratios are of medians from the same run.
With --warm, the rebuild is measured a second time with every command sent to a warm process
(`audio-edition warm`, started and stopped here); everything else always runs in processes of its
own (the size's peak memory is of the build's own processes).
Usage: .venv/bin/python scripts/bench_scale.py [rebuild] [render] [batch] [mixed] [size] [--runs 5] [--articles 100] [--warm]
"""
from __future__ import annotations

import argparse
import contextlib
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench import PLAIN, fresh, spread  # (scripts/ is on the path of a script run from it)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "moscow-times-belarus.txt"
OURS = str(Path(sys.executable).with_name("audio-edition"))
WORDS = ("early", "late", "quietly", "again", "openly", "briefly", "firmly", "once", "still", "today")


def body_paragraphs() -> list[str]:
    text = SAMPLE.read_text(encoding="utf-8")
    return [line for line in text.split("A Message from")[0].splitlines() if line.strip()]


def appeal() -> str:
    text = SAMPLE.read_text(encoding="utf-8")
    return "A Message from" + text.split("A Message from", 1)[1]


def vary(paragraph: str, n: int) -> str:
    """The paragraph with a few words added, different for every n: every article speaks new takes."""
    words = [WORDS[int(d)] for d in str(n)]
    return re.sub(r"\b(said|says|told|called)\b", lambda m: f"{m.group(1)} {' '.join(words)}", paragraph, count=1) \
        if re.search(r"\b(said|says|told|called)\b", paragraph) else f"{paragraph} It was {' '.join(words)}."


def article(seed: int, paragraphs: int) -> str:
    chooser = random.Random(seed)
    body = body_paragraphs()
    picked = [vary(chooser.choice(body), seed * 1000 + i) for i in range(paragraphs)]
    return "\n\n".join(picked) + "\n\n" + appeal()


def run(command: list[str], env: dict[str, str] = PLAIN) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    return time.perf_counter() - start


@contextlib.contextmanager
def warm_process(work: Path) -> Iterator[dict[str, str]]:
    """An `audio-edition warm` for the time of the block: the environment that sends commands to it."""
    socket = work / "warm.sock"
    process = subprocess.Popen([OURS, "warm", "--socket", str(socket)], stdout=subprocess.PIPE, text=True, env=PLAIN)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"audio-edition warm did not start: {line!r}")
        yield {**PLAIN, "AUDIO_EDITION_WARM": str(socket)}
    finally:
        process.terminate()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def bench_rebuild(work: Path, runs: int, source: Path, label: str, env: dict[str, str] = PLAIN) -> None:
    """Cold build (empty cache) vs rebuild after one body paragraph changed (warm cache, previous edition)."""
    cold_times, rebuild_times = [], []
    text = source.read_text(encoding="utf-8")
    paragraphs = [p for p in text.split("\n") if p.strip()]
    target = paragraphs[len(paragraphs) // 3]  # a body paragraph
    for n in range(runs):
        art = work / f"{label}.txt"
        art.write_text(text, encoding="utf-8")
        out, cache = fresh(work)
        build = [OURS, "build", str(art), "--out", str(out), "--cache", str(cache)]
        cold_times.append(run(build, env))
        art.write_text(text.replace(target, vary(target, 7000 + n), 1), encoding="utf-8")
        rebuild_times.append(run(build, env))
    cold, rebuild = statistics.median(cold_times), statistics.median(rebuild_times)
    print(f"[rebuild] {label}: cold median {cold:.3f} s, rebuild after one paragraph median {rebuild:.3f} s, "
          f"ratio {rebuild / cold:.3f} ({runs} runs)")
    if runs >= 4:  # each rebuild against the cold build just before it
        print(f"[rebuild] {label}: run by run, {spread([r / c for r, c in zip(rebuild_times, cold_times)])}")


def bench_batch(work: Path, runs: int, count: int, long_paragraphs: int = 0) -> None:
    """`count` short articles (4 paragraphs each) with --jobs 2 against --jobs 1; with long_paragraphs,
    one long article more, named to come last (the "mixed" batch of an archive's backfill)."""
    articles = work / "articles"
    shutil.rmtree(articles, ignore_errors=True)
    articles.mkdir()
    for i in range(count):
        (articles / f"a{i:03d}.txt").write_text(article(i + 1, 4), encoding="utf-8")
    label = f"[batch] {count} articles"
    if long_paragraphs:
        long = articles / "zz-long.txt"
        long.write_text(article(count + 1, long_paragraphs), encoding="utf-8")
        label = f"[mixed] {count} articles and one of {len(long.read_text(encoding='utf-8').split())} words"
    times: dict[int, list[float]] = {1: [], 2: []}
    for n in range(runs):
        for jobs in ((1, 2) if n % 2 == 0 else (2, 1)):
            out, cache = fresh(work)
            times[jobs].append(run([OURS, "batch", str(articles), "--out", str(out), "--cache", str(cache),
                                    "--jobs", str(jobs)]))
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(f"{label}: --jobs 1 median {one:.2f} s, --jobs 2 median {two:.2f} s, "
          f"speed-up {one / two:.2f} ({runs} runs each, cold cache; each run: "
          f"{', '.join(f'{a:.1f}/{b:.1f}' for a, b in zip(times[1], times[2]))} s)")
    print(f"{label}: this machine's own ceiling: {machine_ceiling(runs)}")


LOOP = "n = 0\nfor i in range(12_000_000):\n    n += i"


def machine_ceiling(runs: int) -> str:
    """How much more work two CPU-bound processes do at once than one alone, here and now: the most a
    --jobs 2 batch could gain over --jobs 1 (on a virtual machine, often well short of 2)."""
    def loops(count: int) -> float:
        start = time.perf_counter()
        for process in [subprocess.Popen([sys.executable, "-c", LOOP]) for _ in range(count)]:
            process.wait()
        return time.perf_counter() - start

    ratios = []
    for n in range(runs):  # alternated, as the batches are
        if n % 2 == 0:
            alone, both = loops(1), loops(2)
        else:
            both, alone = loops(2), loops(1)
        ratios.append(2 * alone / both)
    return f"two CPU-bound loops at once did {statistics.median(ratios):.2f} times the work of one " \
           f"(median of {runs}; {', '.join(f'{r:.2f}' for r in ratios)})"


def bench_size(work: Path, runs: int, sizes: list[int]) -> None:
    for words in sizes:
        art = work / f"w{words}.txt"
        paragraphs = max(1, words // 40)
        for _ in range(3):  # aim at the word count: paragraphs are drawn at random, of unequal length
            text = article(words, paragraphs)
            counted = len(text.split())
            paragraphs = max(1, round(paragraphs * words / counted))
        art.write_text(text, encoding="utf-8")
        seconds, peaks = [], []
        for _ in range(runs):
            out, cache = fresh(work)
            start = time.perf_counter()
            done = subprocess.run(["/usr/bin/time", "-v", OURS, "build", str(art), "--out", str(out),
                                   "--cache", str(cache)], capture_output=True, text=True, check=True)
            seconds.append(time.perf_counter() - start)
            peaks.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)))
        median = statistics.median(seconds)
        print(f"[size] {counted} words: median {median:.1f} s, {median / counted * 1000:.2f} s per 1,000 words, "
              f"peak RSS {max(peaks) / 1024:.0f} MB (largest of the build's processes, /usr/bin/time -v), {runs} runs")


def bench_render(work: Path, runs: int) -> None:
    """The render stage alone on one core and on two: warm takes, every MP3 piece and loudness measured again."""
    art = work / "render.txt"
    shutil.copy(SAMPLE, art)
    shutil.rmtree(work / "cache", ignore_errors=True)
    build = [OURS, "build", str(art), "--out", str(work / "out"), "--cache", str(work / "cache")]
    run(build)  # the takes
    times: dict[int, list[float]] = {1: [], 2: []}
    for n in range(runs):
        for jobs in ((1, 2) if n % 2 == 0 else (2, 1)):
            shutil.rmtree(work / "cache" / "pieces", ignore_errors=True)
            shutil.rmtree(work / "cache" / "loudness", ignore_errors=True)
            shutil.rmtree(work / "out", ignore_errors=True)
            times[jobs].append(run([*build, "--jobs", str(jobs)]))
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(f"[render] sample, takes cached, pieces encoded: --jobs 1 median {one:.3f} s, --jobs 2 median {two:.3f} s, "
          f"speed-up {one / two:.2f} ({runs} runs each)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="*", default=["rebuild", "batch", "size"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--sizes", default="5000,20000,50000")
    parser.add_argument("--size-runs", type=int, default=1)
    parser.add_argument("--warm", action="store_true", help="measure the rebuild through a warm process too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        work = Path(tmp)
        if "rebuild" in args.what:
            bench_rebuild(work, args.runs, SAMPLE, "sample")
            big = work / "five-thousand.txt"
            big.write_text(article(5, 200), encoding="utf-8")  # about 5,000 words
            bench_rebuild(work, max(2, args.runs // 2), big, f"{len(big.read_text().split())}-word article")
            if args.warm:
                with warm_process(work) as env:
                    bench_rebuild(work, args.runs, SAMPLE, "sample, through a warm process", env)
                    bench_rebuild(work, max(2, args.runs // 2), big,
                                  f"{len(big.read_text().split())}-word article, through a warm process", env)
        if "render" in args.what:
            bench_render(work, args.runs)
        if "batch" in args.what:
            bench_batch(work, args.runs, args.articles)
        if "mixed" in args.what:
            bench_batch(work, args.runs, 30, long_paragraphs=150)
        if "size" in args.what:
            bench_size(work, args.size_runs, [int(s) for s in args.sizes.split(",")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
