#!/usr/bin/env python3
"""Benchmark: build the sample edition vs the bare `espeak-ng | ffmpeg` one-liner, in the same run.

Prints the median wall time of each over --runs runs (alternated, so both see the same machine
noise) and the ratio ours/bare; their CPU time (all their processes); then the ratio of each run to
the bare run right after it, as median and quartiles, which shows how far the machine's noise moves
the figure.
Usage: .venv/bin/python scripts/bench.py [--runs 7] [ARTICLE]
"""
from __future__ import annotations

import argparse
import itertools
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Our build in a process of its own (its CPU time is counted as a child's), whatever the shell says.
PLAIN = {k: v for k, v in os.environ.items() if k != "AUDIO_EDITION_WARM"}


def timed(commands: list[list[str]], cpu: list[float] | None = None) -> float:
    """Wall seconds of running the commands one after another; with `cpu`, also appends the CPU seconds
    (user + system) they and the processes they waited for used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    for command in commands:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=PLAIN)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall


_made = itertools.count()


def fresh(work: Path) -> tuple[Path, Path]:
    """An empty out/ and take cache for one run, new ones each time: nothing is removed until the end.

    Removing the last run's files first would tax the next run: on ext4 without a journal (these
    machines') every file made in the next 60-360 s skips over the inodes just freed (the kernel's
    ialloc.c, recently_deleted), and the runs got slower one after another, whichever was measured (in
    one series of ten 100-article batches, the --jobs 1 ones took 15.0, 16.7, 18.6, 20.4 and 18.1 s)."""
    n = next(_made)
    return work / f"out.{n}", work / f"cache.{n}"


def spread(ratios: list[float]) -> str:
    """Median and quartiles of ratios taken run by run: how far the machine's noise moves a figure."""
    low, middle, high = statistics.quantiles(ratios, n=4)
    return f"median {middle:.3f}, quartiles {low:.3f}-{high:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("article", nargs="?", type=Path, default=ROOT / "samples" / "moscow-times-belarus.txt")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--ours", default=str(Path(sys.executable).with_name("audio-edition")), help="our command")
    parser.add_argument("--extra", default="", help="extra options for our build, e.g. '--jobs 1'")
    args = parser.parse_args()
    espeak, ffmpeg = shutil.which("espeak-ng"), shutil.which("ffmpeg")
    if not espeak or not ffmpeg:
        print("bench: the baseline needs the espeak-ng and ffmpeg programs (Debian: espeak-ng ffmpeg)", file=sys.stderr)
        return 2
    ours_times: list[float] = []
    bare_times: list[float] = []
    ours_cpu: list[float] = []
    bare_cpu: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # A cold build: an empty take cache every run (the cache would otherwise make every run after the first
        # a no-op); each side writes into new directories (see fresh()).
        def ours() -> list[str]:
            out, cache = fresh(work)
            return [args.ours, "build", str(args.article), "--out", str(out), "--cache", str(cache), *args.extra.split()]

        def bare() -> list[list[str]]:
            out, _ = fresh(work)
            out.mkdir()
            return [[espeak, "-f", str(args.article), "-w", str(out / "x.wav")],
                    [ffmpeg, "-y", "-loglevel", "error", "-i", str(out / "x.wav"), "-b:a", "64k", str(out / "x.mp3")]]

        timed([ours()])  # warm the disk cache and Python's bytecode for both sides
        timed(bare())
        for _ in range(args.runs):
            ours_times.append(timed([ours()], ours_cpu))
            bare_times.append(timed(bare(), bare_cpu))
    ours_median, bare_median = statistics.median(ours_times), statistics.median(bare_times)
    print(f"article: {args.article.name}, runs: {args.runs}")
    print(f"ours (build MP3 + chapters + sidecars): median {ours_median:.3f} s")
    print(f"bare (espeak-ng -w + ffmpeg -b:a 64k):  median {bare_median:.3f} s")
    print(f"ratio ours/bare: {ours_median / bare_median:.2f}")
    # Two cores can finish first only while ours needs less than twice the bare CPU time (less still with
    # a one-core start): the CPU ratio says how much room there is.
    ours_cpu_median, bare_cpu_median = statistics.median(ours_cpu), statistics.median(bare_cpu)
    print(f"CPU time (user + system, every process): ours median {ours_cpu_median:.3f} s, bare {bare_cpu_median:.3f} s, "
          f"ratio {ours_cpu_median / bare_cpu_median:.2f}")
    pairs = [o / b for o, b in zip(ours_times, bare_times)]
    if len(pairs) >= 4:
        print(f"run by run: {spread(pairs)}, ours faster in {sum(p < 1 for p in pairs)} of {len(pairs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
